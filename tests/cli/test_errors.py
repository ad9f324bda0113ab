"""Bad input on the command line: one line on stderr naming what was expected, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import cli, run_main


def test_unknown_override_is_one_line_exit_2(tmp_path: Path) -> None:
    res = cli("train", "mnli", "train.learning_rate=1", "--out", str(tmp_path))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown config key 'train.learning_rate'" in lines[0] and "train.lr" in lines[0]
    assert "Traceback" not in res.stderr


def test_bad_data_is_one_line_with_file_and_line(tmp_path: Path, tiny_model: Path) -> None:
    root = tmp_path / "data"
    (root / "mnli").mkdir(parents=True)
    (root / "mnli" / "en.train.tsv").write_text("premise\thypothesis\tlabel\na\tb\tentailment\nc\td\tperhaps\n")
    res = cli("train", "mnli", "--model", str(tiny_model), "--data-dir", str(root), "--out", str(tmp_path / "runs"))
    assert res.returncode == 2
    assert res.stderr.strip() == f"xstilts: error: {root / 'mnli' / 'en.train.tsv'}:3: a label in {{entailment, neutral, contradiction}} (or an alias), found 'perhaps'"
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    debug = cli("--debug", "train", "mnli", "--model", str(tiny_model), "--data-dir", str(root), "--out", str(tmp_path / "runs"))
    assert "Traceback" in debug.stderr


def test_bad_inputs_are_one_line_exit_2(
    grid: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
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
