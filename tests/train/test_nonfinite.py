"""A NaN or infinite loss stops the phase at that step, keeps the last good weights and says why."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from xstilts.config import RunConfig, phase_config
from xstilts.formats.classification import Classification
from xstilts.train import phase
from xstilts.train.loop import TrainingDiverged, non_finite


def config(tiny_model: Path, **train: Any) -> RunConfig:
    base = {"max_steps": 8, "batch_size": 8, "lr": 1e-3, "precision": "fp32", "device": "cpu", "patience": 0,
            "eval_examples": 16, "max_length": 64}
    user = {"seed": 1, "model": {"name": str(tiny_model)}, "data": {"max_train_examples": 64}, "train": {**base, **train}}
    return phase_config({}, user)


class NaNAtStep:
    """Makes the loss of one optimiser step NaN, and keeps the weights each step started from."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, bad_step: int) -> None:
        self.bad_step, self.calls = bad_step, 0
        self.model: Any = None
        self.start_of: dict[int, dict[str, torch.Tensor]] = {}
        self.kept: dict[str, torch.Tensor] = {}
        real_loss, real_phase = Classification.loss, phase.train_phase

        def loss(fmt: Classification, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            self.calls += 1  # one micro-batch per step: the call count is the step
            self.start_of[self.calls] = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            value = real_loss(fmt, logits, batch)
            return value * float("nan") if self.calls == self.bad_step else value

        def train_phase(model: Any, *args: Any, **kwargs: Any) -> Any:
            self.model = model
            summary = real_phase(model, *args, **kwargs)
            self.kept = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return summary

        monkeypatch.setattr(Classification, "loss", loss)
        monkeypatch.setattr(phase, "train_phase", train_phase)

    def kept_weights_of(self, step: int) -> bool:
        """Whether the phase ended with the weights it had after ``step`` (before step + 1 started)."""
        start = self.start_of[step + 1]
        return all(torch.equal(self.kept[k], start[k]) for k in start)


def test_nan_before_any_evaluation_keeps_the_weights_before_the_bad_step(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nan = NaNAtStep(monkeypatch, bad_step=4)
    with pytest.raises(TrainingDiverged) as err:
        phase.train_run(["mini_nli"], config(tiny_model, eval_every=100), tmp_path / "runs")
    assert "train mini_nli: non-finite loss (nan) at step 4;" in str(err.value)
    assert "keeping the weights of step 3" in str(err.value)
    assert nan.calls == 4  # nothing ran after the bad step
    assert nan.kept_weights_of(3)
    (run,) = (tmp_path / "runs").iterdir()
    result = json.loads((run / "result.json").read_text())
    training = result["training"]
    assert training["stopped"] == "non-finite loss (nan) at step 4"
    assert training["steps"] == 3 and training["best_step"] == 3 and training["history"] == []
    assert result["notes"] == ["stopped: non-finite loss (nan) at step 4; kept the weights of step 3"]
    assert (run / "encoder" / "model.safetensors").is_file()


def test_nan_after_evaluations_keeps_the_best_weights(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nan = NaNAtStep(monkeypatch, bad_step=5)
    with pytest.raises(TrainingDiverged, match=r"non-finite loss \(nan\) at step 5"):
        phase.train_run(["mini_nli"], config(tiny_model, eval_every=2), tmp_path / "runs")
    (run,) = (tmp_path / "runs").iterdir()
    training = json.loads((run / "result.json").read_text())["training"]
    assert [h["step"] for h in training["history"]] == [2, 4]
    assert all(math.isfinite(h["loss"]) for h in training["history"])
    assert training["best_step"] in (2, 4) and training["stopped"] == "non-finite loss (nan) at step 5"
    assert nan.kept_weights_of(training["best_step"])


def test_a_diverging_learning_rate_stops_and_a_rerun_says_so_again(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(tiny_model, lr=1e9, max_steps=10, eval_every=1)
    with pytest.raises(TrainingDiverged) as first:
        phase.train_run(["mini_nli"], cfg, tmp_path / "runs")
    message = str(first.value)
    assert "non-finite loss" in message and "at step" in message and "a learning rate below 1e+09 may help" in message
    (run,) = (tmp_path / "runs").iterdir()
    result = json.loads((run / "result.json").read_text())
    assert all(h["loss"] is not None and math.isfinite(h["loss"]) for h in result["training"]["history"])

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a diverged run is not trained again")

    monkeypatch.setattr(phase, "train_phase", no_training)
    with pytest.raises(TrainingDiverged) as again:
        phase.train_run(["mini_nli"], cfg, tmp_path / "runs")
    assert str(again.value) == message


def test_valid_runs_record_no_stop(tiny_model: Path, tmp_path: Path) -> None:
    result = phase.train_run(["mini_nli"], config(tiny_model, max_steps=2), tmp_path / "runs")
    assert result.training["stopped"] is None and result.notes == []


def test_what_counts_as_non_finite() -> None:
    assert non_finite(1.25, 3.0, 7) is None and non_finite(1.25, None, 7) is None
    assert non_finite(float("nan"), 1.0, 7) == "non-finite loss (nan) at step 7"
    assert non_finite(float("inf"), None, 2) == "non-finite loss (inf) at step 2"
    assert non_finite(0.5, float("inf"), 3) == "non-finite gradient norm (inf) at step 3"
