"""The result, report, claim, export, score and data-stats commands, through the real CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SHARED_DATA
from tests.report.synthetic import DataRoot, scored_run
from xstilts.cli import app, main

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """The installed entry point in-process: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["xstilts", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("cli")
    root, runs = base / "data", base / "runs"
    data = DataRoot(root)
    for lang in ("en", "de"):
        data.pawsx(lang, 60)
    for seed, (base_wrong, good_wrong) in enumerate([(0.3, 0.1), (0.35, 0.15), (0.3, 0.12)]):
        scored_run(runs, root, "pawsx", "none", seed, {"en": base_wrong, "de": base_wrong})
        scored_run(runs, root, "pawsx", "mnli", seed, {"en": good_wrong, "de": good_wrong})
    return root, runs


def test_results_table_csv_json(grid: tuple[Path, Path]) -> None:
    _, runs = grid
    table = invoke("results", runs, "--task", "pawsx", "--language", "average")
    assert "6 runs, 6 values" in table.output and "88.33" in table.output and "transfer-pawsx-none-2" in table.output
    csv = invoke("results", runs, "--intermediate", "mnli", "--seed", "0", "--metric", "accuracy", "--format", "csv")
    lines = csv.output.strip().splitlines()
    assert lines[0].startswith("run_id,kind,task,intermediate,model,seed") and len(lines) == 1 + 3  # de, en, average
    rows = json.loads(invoke("results", runs, "--language", "en", "--metric", "accuracy", "--format", "json").output)
    assert {r["intermediate"] for r in rows} == {"none", "mnli"} and len(rows) == 6
    none = sorted((r["seed"], r["value"]) for r in rows if r["intermediate"] == "none")
    assert none == [(0, 70.0), (1, pytest.approx(65.0)), (2, 70.0)]


def test_report_command_writes_files(grid: tuple[Path, Path]) -> None:
    _, runs = grid
    out = invoke("report", runs).output
    assert "Task score" in out and "Best intermediate task per target" in out
    assert str(runs / "report" / "summary.md") in out
    assert (runs / "report" / "delta_heatmap.png").is_file() and (runs / "report" / "summary.html").is_file()


def test_claims_command(grid: tuple[Path, Path], tmp_path: Path) -> None:
    _, runs = grid
    claims = tmp_path / "c.yaml"
    claims.write_text(
        "name: mine\nbootstrap_samples: 300\nclaims:\n"
        "  - {id: mnli_helps, type: improves, text: MNLI helps PAWS-X, intermediate: mnli, target: pawsx}\n"
    )
    out = invoke("claims", claims, runs).output
    assert "mnli_helps" in out and "supported" in out
    data = json.loads((runs / "report" / "claims.json").read_text())
    assert data["results"][0]["verdict"] == "supported"
    bundled = invoke("claims", "phang2020", runs, "--bootstrap-samples", "0").output
    assert "best_three inconclusive: no runs for intermediate squad, hellaswag" in bundled


def test_bad_inputs_are_one_line_exit_2(grid: tuple[Path, Path], tmp_path: Path, monkeypatch, capsys) -> None:
    _, runs = grid
    code, _, err = run_main(monkeypatch, capsys, "results", runs, "--format", "xml")
    assert code == 2 and err.strip() == "xstilts: error: --format xml: table, csv or json"
    code, _, err = run_main(monkeypatch, capsys, "claims", "nonesuch", runs)
    assert code == 2 and "not a bundled claim file" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(monkeypatch, capsys, "report", tmp_path / "missing")
    assert code == 2 and "missing" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nclaims:\n  - {id: a, text: t, type: top_k, k: 2, expected: [mnli]}\n")
    code, _, err = run_main(monkeypatch, capsys, "claims", bad, runs)
    assert code == 2 and str(bad) in err and "top_k needs k" in err


def test_export_xtreme_command(grid: tuple[Path, Path], tmp_path: Path) -> None:
    _, runs = grid
    out = invoke("export", "xtreme", runs, tmp_path / "sub", "--intermediate", "mnli", "--seed", "2").output
    assert "seed 2" in out
    assert sorted(p.name for p in (tmp_path / "sub" / "pawsx").iterdir()) == ["test-de.tsv", "test-en.tsv"]


def test_score_command(grid: tuple[Path, Path], tmp_path: Path, monkeypatch, capsys) -> None:
    root, runs = grid
    preds = runs / "transfer-pawsx-none-1" / "predictions" / "de.txt"
    result = json.loads(invoke("score", "pawsx", "--predictions", preds, "--language", "de", "--data-dir", root).output)
    assert result["metrics"]["accuracy"] == pytest.approx(65.0) and result["metrics"]["n"] == 60
    assert result["split"] == "test"
    short = tmp_path / "short.txt"
    short.write_text("0\n1\n")
    code, _, err = run_main(monkeypatch, capsys, "score", "pawsx", "--predictions", short, "--language", "de", "--data-dir", root)
    assert code == 2 and err.startswith(f"xstilts: error: {short}:2: one label per line for 60 examples")
    code, _, err = run_main(monkeypatch, capsys, "score", "pawsx", "--predictions", short, "--language", "xx", "--data-dir", root)
    assert code == 2 and "--language xx" in err


def test_data_stats_command(tmp_path: Path) -> None:
    data = DataRoot(tmp_path)
    data.pawsx("en", 5)
    data.udpos("de", 4)
    data.tatoeba("de", "deu", 3)
    (tmp_path / "xquad").mkdir()
    row = {"context": "one two three", "question": "what is it ?", "answers": {"text": ["two"], "answer_start": [4]}}
    (tmp_path / "xquad" / "en.test.jsonl").write_text("".join(json.dumps({"id": f"q{i}", **row}) + "\n" for i in range(3)))
    pawsx = json.loads(invoke("data", "stats", "pawsx", "--data-dir", tmp_path, "--json").output)
    (row,) = pawsx["splits"]
    assert row == {**row, "language": "en", "split": "test", "examples": 5, "labeled": 5, "sentences": 10}
    assert row["tokens"] == 5 * 6  # "sentence <i> a" + "sentence <i> b"
    pos = json.loads(invoke("data", "stats", "udpos", "--data-dir", tmp_path, "--json").output)["splits"][0]
    words = sum(len(json.loads(line)["tokens"]) for line in (tmp_path / "udpos" / "de.test.jsonl").read_text().splitlines())
    assert (pos["examples"], pos["sentences"], pos["tokens"]) == (4, 4, words)
    tat = json.loads(invoke("data", "stats", "tatoeba", "--data-dir", tmp_path, "--json").output)["splits"][0]
    assert (tat["language"], tat["examples"], tat["sentences"], tat["tokens"]) == ("de", 3, 6, 12)
    qa = json.loads(invoke("data", "stats", "xquad", "--data-dir", tmp_path, "--json").output)["splits"][0]
    assert (qa["examples"], qa["sentences"], qa["tokens"]) == (3, 4, 3 * 4 + 3)  # 3 questions + 1 shared context
    assert "labeled" in invoke("data", "stats", "pawsx", "--data-dir", tmp_path).output


@pytest.mark.realdata
def test_data_stats_and_score_on_shared_data(tmp_path: Path) -> None:
    if not (SHARED_DATA / "pawsx").is_dir() or not (SHARED_DATA / "tatoeba").is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (real data lives in ../shared/data beside the checkout)")
    stats = json.loads(invoke("data", "stats", "pawsx", "--data-dir", SHARED_DATA, "--json").output)
    sizes = {(r["language"], r["split"]): r["examples"] for r in stats["splits"]}
    assert sizes == {("de", "dev"): 2000, ("de", "test"): 2000}
    tat = json.loads(invoke("data", "stats", "tatoeba", "--data-dir", SHARED_DATA, "--json").output)
    pairs = {r["language"]: r["examples"] for r in tat["splits"]}
    assert pairs["sw"] == 390 and pairs["th"] == 548 and len(pairs) == 36
    from xstilts.data.load import load_split
    from xstilts.tasks.registry import get_task

    gold = load_split(get_task("pawsx"), "de", "test", SHARED_DATA).examples
    preds = tmp_path / "de.txt"
    preds.write_text("".join(f"{ex.label}\n" for ex in gold[:1000]) + "".join(f"{'1' if ex.label == '0' else '0'}\n" for ex in gold[1000:]))
    result = json.loads(invoke("score", "pawsx", "--predictions", preds, "--language", "de", "--data-dir", SHARED_DATA).output)
    assert result["metrics"]["accuracy"] == pytest.approx(100.0 * 1000 / len(gold))
