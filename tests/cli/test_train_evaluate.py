"""``xstilts train`` then ``xstilts evaluate`` on a tiny model, and a crash that must leave no run behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import cli
from tests.e2e.test_transfer_tiny import write_nli


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
