"""The command line: registry output, one-line errors with exit code 2, and a transfer run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_transfer_tiny import write_nli


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xstilts.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_tasks_json_lists_every_contract_name() -> None:
    res = cli("tasks", "--json")
    assert res.returncode == 0, res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    for name in ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba", "mnli", "qqp",
                 "snli", "anli", "anli_plus", "squad", "squad_v2", "hellaswag", "cosmosqa", "commonsenseqa", "ccg", "uner",
                 "mini_nli", "mini_paraphrase"):
        assert name in rows, name
    assert rows["xnli"]["format"] == "classification" and len(rows["xnli"]["languages"]) == 15
    assert rows["xnli"]["train_task"] == "mnli" and rows["xnli"]["splits"]["test"]["gold"] is True
    assert rows["mnli"]["splits"]["test"]["gold"] is False
    assert rows["mnli"]["sources"]["hub"]["dataset"] == "nyu-mll/glue"


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


def test_crash_mid_run_leaves_no_run_folder(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xstilts.config import build_config
    from xstilts.train import phase

    root = tmp_path / "data"
    write_nli(root / "mnli" / "en.train.tsv", 16, 1)
    write_nli(root / "mnli" / "en.dev.tsv", 8, 2)
    cfg = build_config({"model": {"name": str(tiny_model)}, "data": {"data_dir": str(root)}, "train": {"max_steps": 2, "batch_size": 4}})

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(phase.MultiTaskModel, "save", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        phase.train_run(["mnli"], cfg, tmp_path / "runs")
    assert list((tmp_path / "runs").iterdir()) == []


def test_train_then_evaluate_through_the_cli(tmp_path: Path, tiny_model: Path) -> None:
    root = tmp_path / "data"
    write_nli(root / "mnli" / "en.train.tsv", 32, 1)
    write_nli(root / "mnli" / "en.dev.tsv", 8, 2)
    write_nli(root / "xnli" / "de.test.tsv", 12, 3, "de")
    out = tmp_path / "runs"
    common = ["--model", str(tiny_model), "--data-dir", str(root), "--out", str(out), "train.max_steps=3", "train.batch_size=8"]
    res = cli("train", "mnli", *common)
    assert res.returncode == 0, res.stderr
    run = next(p for p in out.iterdir() if p.name.startswith("train-mnli"))
    res = cli("evaluate", "--task", "xnli", "--run", str(run), "--data-dir", str(root), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "de" in res.stdout and "accuracy" in res.stdout
    res = cli("evaluate", "--task", "xnli", "--data-dir", str(root), "--out", str(out))
    assert res.returncode == 2 and "--run" in res.stderr
