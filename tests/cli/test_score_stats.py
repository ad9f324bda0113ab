"""``xstilts score`` (a predictions file against gold) and ``xstilts data stats``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import invoke, run_main
from tests.conftest import SHARED_DATA
from tests.report.synthetic import DataRoot


def test_score_command(
    grid: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
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
