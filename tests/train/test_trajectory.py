"""The exact loss trajectory of six training steps on the tiny model: any change to the numerics shows.

Like torchtune's recipe tests, this pins numbers rather than bounds. A deliberate change to
featurisation, batching, seeding, the optimiser or the tiny model itself moves them; then rerun this
test, check the new numbers are plausible, and paste them in. The recorded ``loss`` is the running
mean the progress bar shows: the first step's loss, then ``0.9 * previous + 0.1 * current``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xstilts.config import phase_config
from xstilts.train.phase import train_run

#: history losses after steps 1..6 (fp32 on CPU, seed 1, batch 8, lr 1e-3, the package's tiny model)
EXPECTED_LOSSES = [1.380084, 1.355832, 1.316468, 1.305461, 1.289376, 1.277770]


def test_six_steps_on_mini_nli_follow_the_pinned_losses(tiny_model: Path, tmp_path: Path) -> None:
    cfg = phase_config(
        {},
        {
            "seed": 1,
            "model": {"name": str(tiny_model)},
            "train": {
                "max_steps": 6, "eval_every": 1, "patience": 0, "precision": "fp32",
                "batch_size": 8, "lr": 1e-3, "device": "cpu",
            },
        },
    )
    result = train_run(["mini_nli"], cfg, tmp_path / "runs")
    history = result.training["history"]
    assert [h["step"] for h in history] == [1, 2, 3, 4, 5, 6]
    losses = [h["loss"] for h in history]
    assert losses == pytest.approx(EXPECTED_LOSSES, rel=1e-4)
