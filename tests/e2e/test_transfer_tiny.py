"""End to end on a tiny random model: intermediate -> target -> zero-shot, through the real code."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from xstilts.experiment.transfer import run_transfer
from xstilts.runs import read_result


def write_nli(path: Path, n: int, seed: int, lang: str = "en") -> None:
    """Synthetic NLI whose label is readable from the hypothesis' first word (learnable in a few steps)."""
    rng = random.Random(seed)
    words = {"entailment": "yes", "neutral": "maybe", "contradiction": "no"}
    if lang == "de":
        words = {"entailment": "ja", "neutral": "vielleicht", "contradiction": "nein"}
    rows = ["genre\tlabel\tpremise\thypothesis"]
    for i in range(n):
        label = rng.choice(list(words))
        rows.append(f"g{i % 2}\t{label}\tsentence number {i} about things\t{words[label]} it is so {i}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_nli(root / "mnli" / "en.train.tsv", 64, 1)
    write_nli(root / "mnli" / "en.dev.tsv", 24, 2)
    write_nli(root / "xnli" / "en.test.tsv", 30, 3)
    write_nli(root / "xnli" / "de.test.tsv", 30, 4, "de")
    qqp = ["question1\tquestion2\tlabel"] + [f"what is {i}\twhat is {i}\t{i % 2}" for i in range(40)]
    (root / "qqp").mkdir()
    (root / "qqp" / "en.train.tsv").write_text("\n".join(qqp) + "\n")
    (root / "qqp" / "en.dev.tsv").write_text("\n".join(qqp[:13]) + "\n")
    return root


def user(tiny_model: Path, data_root: Path, **extra: object) -> dict:
    return {
        "model": {"name": str(tiny_model)},
        "data": {"data_dir": str(data_root)},
        "train": {"max_steps": 6, "batch_size": 8, "lr": 1e-3, "eval_every": 3, "precision": "fp32", "max_length": 32},
        "intermediate": {"max_steps": 4},
        **extra,
    }


def test_transfer_writes_results_and_reuses_finished_runs(tiny_model: Path, data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = run_transfer("xnli", "qqp", user(tiny_model, data_root), out)
    assert result.kind == "transfer" and result.intermediate == "qqp"
    assert set(result.metrics) == {"de", "en"}
    assert 0.0 <= result.metrics["de"]["accuracy"] <= 100.0
    assert result.metrics["en"]["n"] == 30
    assert result.average["accuracy"] == pytest.approx((result.metrics["de"]["accuracy"] + result.metrics["en"]["accuracy"]) / 2)
    assert set(result.slices["genre"]) == {"g0", "g1"}
    # provenance: evaluation -> target run -> intermediate run
    target_run = read_result(out / result.parent["run_id"])
    assert target_run.task == "mnli" and target_run.parent["task"] == "qqp"
    assert len(target_run.parent["checkpoint_sha256"]) == 64
    # predictions: one label per line, in example order
    preds = (out / result.run_id / result.predictions["de"]).read_text().splitlines()
    assert len(preds) == 30 and set(preds) <= {"entailment", "neutral", "contradiction"}
    # a rerun finds every phase finished and returns the identical result
    runs_before = sorted(p.name for p in out.iterdir())
    again = run_transfer("xnli", "qqp", user(tiny_model, data_root), out)
    assert again.model_dump() == result.model_dump()
    assert sorted(p.name for p in out.iterdir()) == runs_before
    raw = json.loads((out / result.run_id / "result.json").read_text())
    for key in ("schema_version", "run_id", "kind", "task", "intermediate", "model", "seed", "config", "versions",
                "git_commit", "data_fingerprint", "parent", "metrics", "average", "slices", "predictions", "timings"):
        assert key in raw


def test_baseline_has_no_parent_and_heads_are_separate(tiny_model: Path, data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = run_transfer("xnli", "none", user(tiny_model, data_root), out)
    target_dir = out / result.parent["run_id"]
    assert read_result(target_dir).parent is None
    assert (target_dir / "encoder" / "model.safetensors").is_file()
    assert (target_dir / "heads" / "mnli.safetensors").is_file()
    assert not list(target_dir.rglob("*.bin")) and not list(target_dir.rglob("*.pt"))
