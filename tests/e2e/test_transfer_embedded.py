"""End to end on the real embedded model, at reduced size: intermediate -> target -> zero-shot."""

from __future__ import annotations

from pathlib import Path

import pytest

from xstilts.experiment.transfer import run_transfer
from xstilts.runs import read_result

pytestmark = pytest.mark.embedded


def test_embedded_transfer_reduced(tmp_path: Path) -> None:
    user = {
        "model": {"name": "embedded"},
        "train": {"max_steps": 6, "batch_size": 8, "lr": 5e-5, "eval_every": 3, "eval_examples": 24, "max_length": 64,
                  "freeze_embeddings": True},
        "intermediate": {"max_steps": 3},
        "eval": {"max_examples": 30},
    }
    result = run_transfer("mini_nli", "mini_paraphrase", user, tmp_path, languages=["en", "de", "zh"])
    assert set(result.metrics) == {"en", "de", "zh"}
    assert all(m["n"] == 30 for m in result.metrics.values())
    target = read_result(tmp_path / result.parent["run_id"])
    assert target.parent["task"] == "mini_paraphrase"
    assert target.training["precision"] in {"bf16", "fp32"}
    assert target.timings.examples_per_s > 0 and target.timings.peak_memory_mb > 0
    assert set(result.slices["topic"]) and result.model == "embedded"
