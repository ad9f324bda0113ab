"""The same seed on the same hardware gives the same run: identical metrics and identical weights.

Two runs into two different folders (so the second cannot reuse the first) must agree byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.config import phase_config
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.paths import sha256_file
from xstilts.runs import RunResult
from xstilts.train.phase import train_run


def train_and_evaluate(tiny_model: Path, out: Path) -> tuple[RunResult, RunResult, dict[str, str]]:
    cfg = phase_config(
        {},
        {
            "seed": 3,
            "model": {"name": str(tiny_model)},
            "data": {"max_train_examples": 64},
            "train": {"max_steps": 4, "batch_size": 8, "lr": 1e-3, "eval_every": 2, "eval_examples": 16,
                      "max_length": 64, "precision": "fp32", "device": "cpu"},
            "eval": {"max_examples": 24},
        },
    )
    trained = train_run(["mini_nli"], cfg, out)
    run_dir = out / trained.run_id
    scored = evaluate_run("mini_nli", cfg, run_dir, out, languages=["en", "de"])
    weights = {str(p.relative_to(run_dir)): sha256_file(p) for p in sorted(run_dir.rglob("*.safetensors"))}
    return trained, scored, weights


def test_same_seed_same_metrics_and_weights(tiny_model: Path, tmp_path: Path) -> None:
    train_a, eval_a, weights_a = train_and_evaluate(tiny_model, tmp_path / "a")
    train_b, eval_b, weights_b = train_and_evaluate(tiny_model, tmp_path / "b")
    assert "encoder/model.safetensors" in weights_a
    assert weights_a == weights_b
    assert train_a.training["history"] == train_b.training["history"]
    assert train_a.metrics == train_b.metrics
    assert eval_a.metrics == eval_b.metrics and eval_a.average == eval_b.average
    assert set(eval_a.metrics) == {"en", "de"}
