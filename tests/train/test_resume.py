"""A training phase killed mid-way resumes from its last checkpoint and ends with the same weights.

A child process (from the fault tests' forkserver) trains the tiny model with dropout and checkpoints
every 2 steps, and sends itself a signal at the k-th optimiser step: SIGKILL dies on the spot (or
half-way through writing a checkpoint), SIGUSR1 and SIGTERM write a checkpoint at the end of that step
and exit with 128 + the signal. The same phase run again resumes, and its ``encoder/model.safetensors``
has the sha256 of an uninterrupted phase's.
The dev evaluation comes at the last step only, so the final weights are the last step's and depend
on every batch, dropout mask and optimiser update.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from tests.faults import hooks
from xstilts.config import RunConfig, phase_config
from xstilts.paths import sha256_file
from xstilts.runtime.hardware import build_optimizer, linear_schedule
from xstilts.train import checkpoint
from xstilts.train.checkpoint import CHECKPOINTS_DIR, Checkpoints, PhaseState
from xstilts.train.loop import BatchStream
from xstilts.train.phase import train_run
from xstilts.train.preemption import Preempted, preemption_signals

TASKS = ["mini_nli"]


def config(tiny_model: Path, **train: Any) -> RunConfig:
    base = {"max_steps": 8, "batch_size": 8, "lr": 1e-3, "eval_every": 100, "eval_examples": 16, "max_length": 64,
            "precision": "fp32", "device": "cpu", "patience": 0, "dropout": 0.1, "checkpoint_every_steps": 2}  # fmt: skip
    # 40 examples: 5 batches an epoch, so the phase crosses an epoch boundary and resumes mid-epoch
    user = {"seed": 1, "model": {"name": str(tiny_model)}, "data": {"max_train_examples": 40}, "train": {**base, **train}}
    return phase_config({}, user)


def weights(run_dir: Path) -> dict[str, str]:
    return {p.relative_to(run_dir).as_posix(): sha256_file(p) for p in sorted(run_dir.rglob("*.safetensors"))}


@dataclass
class Uninterrupted:
    weights: dict[str, str]
    history: list[dict[str, Any]]
    checkpoints_written: int


@pytest.fixture(scope="module")
def uninterrupted(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Uninterrupted:
    out = tmp_path_factory.mktemp("uninterrupted")
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGUSR1)}
    with hooks.one_thread():
        result = train_run(TASKS, config(tiny_model), out)
    assert {sig: signal.getsignal(sig) for sig in before} == before  # the phase's handlers are gone
    assert result.training["best_step"] == 8 and result.training["resumed_from_step"] is None
    assert not (out / CHECKPOINTS_DIR).exists()  # a finished phase keeps only its run
    return Uninterrupted(weights(out / result.run_id), result.training["history"], result.training["checkpoints_written"])


def train_and_signal(cfg_json: str, out: str, env: dict[str, str], signum: int, at: int, in_checkpoint: bool = False) -> None:
    """Child: train the phase, sending itself ``signum`` during the ``at``-th optimiser step.

    With ``in_checkpoint``, SIGKILL half-way through writing the ``at``-th checkpoint's tensors instead.
    """
    hooks._child_setup(env)
    real_step, real_save = torch.optim.AdamW.step, checkpoint.save_file
    calls = 0

    def step(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == at:
            os.kill(os.getpid(), signum)
        return real_step(self, *args, **kwargs)

    def save_file(tensors: Any, filename: str, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        real_save(tensors, filename, *args, **kwargs)
        calls += 1
        if calls == at:
            hooks._half_written(Path(filename))
            hooks.die()

    if in_checkpoint:
        checkpoint.save_file = save_file
    else:
        torch.optim.AdamW.step = step  # type: ignore[method-assign]
    train_run(TASKS, RunConfig.model_validate_json(cfg_json), Path(out))
    os._exit(0)


def child_env() -> dict[str, str]:
    return {"XSTILTS_CACHE": os.environ["XSTILTS_CACHE"], "XSTILTS_PROGRESS": "0", "HF_HUB_OFFLINE": "1"}


@pytest.mark.parametrize(
    ("signum", "at", "exitcode", "resumed_from", "written"),
    [
        (signal.SIGKILL, 5, -signal.SIGKILL, 4, 3),  # dies inside step 5: back to step 4's checkpoint
        (signal.SIGUSR1, 5, 138, 5, 4),  # Slurm's warning: step 5 ends and is checkpointed, exit 128 + 10
        (signal.SIGTERM, 3, 143, 3, 4),
    ],
    ids=["SIGKILL", "SIGUSR1", "SIGTERM"],
)
def test_a_killed_phase_resumes_with_identical_weights(
    signum: int, at: int, exitcode: int, resumed_from: int, written: int,
    uninterrupted: Uninterrupted, tiny_model: Path, tmp_path: Path,
) -> None:  # fmt: skip
    cfg, out = config(tiny_model), tmp_path / "runs"
    proc = hooks.start(train_and_signal, cfg.model_dump_json(), str(out), child_env(), signum, at)
    proc.join(240)
    assert proc.exitcode == exitcode
    assert not list(out.glob("train-*"))  # no run yet: only its checkpoint
    (run_checkpoints,) = (out / CHECKPOINTS_DIR).iterdir()
    assert [p.name for p in run_checkpoints.iterdir()] == [f"step-{resumed_from:08d}"]

    with hooks.one_thread():
        result = train_run(TASKS, cfg, out)
    assert result.training["resumed_from_step"] == resumed_from and result.training["resumes"] == 1
    assert result.training["checkpoints_written"] == written
    assert weights(out / result.run_id) == uninterrupted.weights
    assert result.training["history"] == uninterrupted.history
    assert not (out / CHECKPOINTS_DIR).exists()


def test_a_kill_while_a_checkpoint_is_written_resumes_from_the_one_before(
    uninterrupted: Uninterrupted, tiny_model: Path, tmp_path: Path
) -> None:
    cfg, out = config(tiny_model), tmp_path / "runs"
    proc = hooks.start(train_and_signal, cfg.model_dump_json(), str(out), child_env(), signal.SIGKILL, 2, True)
    proc.join(240)
    assert proc.exitcode == -signal.SIGKILL
    (run_checkpoints,) = (out / CHECKPOINTS_DIR).iterdir()
    left = sorted(p.name for p in run_checkpoints.iterdir())
    assert left[0].startswith(".step-00000004.") and left[1:] == ["step-00000002"]  # step 4's, half-written

    with hooks.one_thread():
        result = train_run(TASKS, cfg, out)
    assert result.training["resumed_from_step"] == 2
    assert weights(out / result.run_id) == uninterrupted.weights
    assert not (out / CHECKPOINTS_DIR).exists()


def test_a_signal_after_the_last_step_saves_the_run_then_exits(
    uninterrupted: Uninterrupted, tiny_model: Path, tmp_path: Path
) -> None:
    cfg, out = config(tiny_model), tmp_path / "runs"
    proc = hooks.start(train_and_signal, cfg.model_dump_json(), str(out), child_env(), signal.SIGUSR1, 8)
    proc.join(240)
    assert proc.exitcode == 138
    (run_dir,) = out.glob("train-*")
    assert weights(run_dir) == uninterrupted.weights
    assert not (out / CHECKPOINTS_DIR).exists()
    assert train_run(TASKS, cfg, out).training["resumed_from_step"] is None  # finished: reused, not trained


def test_only_the_same_run_resumes(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A phase with another config never resumes from a checkpoint; the checkpoint cadence is no part of it."""
    real_step, calls = torch.optim.AdamW.step, [0]

    def dies_at_step_5(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 5:
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    out = tmp_path / "runs"
    with hooks.one_thread():
        monkeypatch.setattr(torch.optim.AdamW, "step", dies_at_step_5)
        with pytest.raises(KeyboardInterrupt):
            train_run(TASKS, config(tiny_model), out)
        monkeypatch.setattr(torch.optim.AdamW, "step", real_step)
        (left,) = (out / CHECKPOINTS_DIR).iterdir()
        other = train_run(TASKS, config(tiny_model, lr=2e-3), out)
        assert other.training["resumed_from_step"] is None
        assert [p.name for p in left.iterdir()] == ["step-00000004"]  # another run's checkpoint is left alone
        same = train_run(TASKS, config(tiny_model, checkpoint_every_steps=3, checkpoint_every_minutes=1), out)
    assert same.run_id == left.name != other.run_id
    assert same.training["resumed_from_step"] == 4
    assert not (out / CHECKPOINTS_DIR).exists()


def small_phase(seed: int) -> PhaseState:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    optimizer = build_optimizer(model, 1e-2, 0.01, 1e-8, torch.device("cpu"))
    return PhaseState(model, optimizer, linear_schedule(optimizer, 20, 0.1), None, {}, {}, None)


def train_steps(state: PhaseState, n: int) -> None:
    for _ in range(n):
        state.model(torch.randn(5, 4)).pow(2).mean().backward()
        state.optimizer.step()
        state.scheduler.step()
        state.optimizer.zero_grad()


def draws(streams: list[BatchStream], n: int) -> list[Any]:
    return [random.random(), float(np.random.rand()), torch.rand(3).tolist(), [next(s) for s in streams for _ in range(n)]]


def test_a_checkpoint_round_trips_weights_optimiser_rngs_and_sampler(tmp_path: Path) -> None:
    feats = [{"len": n % 7 + 1} for n in range(23)]
    sampler = random.Random(5)
    streams = [BatchStream(feats, 4, sampler, True), BatchStream(feats[:9], 2, sampler, False)]
    for _ in range(8):  # the first stream is in its second epoch (6 batches an epoch), the second in its first
        next(streams[0]), next(streams[1])
    state = small_phase(0)
    train_steps(state, 3)
    state.loop = {"step": 3, "history": [{"step": 3, "score": math.nan, "loss": 0.1 + 0.2}], "best_score": -math.inf}
    state.sampler = {"rng": [3, list(sampler.getstate()[1]), None], "streams": [s.state() for s in streams]}
    state.best = {"0.weight": torch.randn(8, 4)}
    checkpoints = Checkpoints(tmp_path / CHECKPOINTS_DIR / "train-x-1", "train-x-1", every_steps=2)
    assert checkpoints.write(3, state)
    after = draws(streams, 7)
    train_steps(state, 2)

    fresh = small_phase(1)
    random.seed(99), np.random.seed(99), torch.manual_seed(99)
    assert checkpoints.restore(fresh) == 3
    sampler2 = random.Random()
    sampler2.setstate((3, tuple(fresh.sampler["rng"][1]), None))
    streams2 = [BatchStream(feats, 4, sampler2, True), BatchStream(feats[:9], 2, sampler2, False)]
    for stream, position in zip(streams2, fresh.sampler["streams"], strict=True):
        stream.restore(position)
    assert draws(streams2, 7) == after  # every RNG and every stream goes on as it would have
    train_steps(fresh, 2)
    for a, b in zip(state.model.state_dict().values(), fresh.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert fresh.scheduler.state_dict() == state.scheduler.state_dict()
    assert fresh.optimizer.param_groups[0]["betas"] == (0.9, 0.999)
    assert math.isnan(fresh.loop["history"][0]["score"]) and fresh.loop["best_score"] == -math.inf
    assert fresh.loop["history"][0]["loss"] == 0.1 + 0.2
    assert torch.equal(fresh.best["0.weight"], state.best["0.weight"])
    json.loads((checkpoints.latest() / "state.json").read_text(), parse_constant=pytest.fail)  # strict JSON


def test_a_checkpoint_of_another_run_is_not_used(tmp_path: Path) -> None:
    state = small_phase(0)
    train_steps(state, 2)
    mine = tmp_path / CHECKPOINTS_DIR / "train-x-1"
    assert Checkpoints(mine, "train-x-1").write(2, state)
    copied = tmp_path / CHECKPOINTS_DIR / "train-x-2"
    shutil.copytree(mine, copied)  # a checkpoint moved into another run's folder
    fresh = small_phase(1)
    before = [p.clone() for p in fresh.model.parameters()]
    assert Checkpoints(copied, "train-x-2").restore(fresh) is None
    assert all(torch.equal(a, b) for a, b in zip(before, fresh.model.parameters(), strict=True))
    assert fresh.optimizer.state_dict()["state"] == {}


def test_preemption_signals_are_caught_only_inside_the_block() -> None:
    before = signal.getsignal(signal.SIGUSR1)
    with preemption_signals() as preemption:
        assert not preemption.requested
        os.kill(os.getpid(), signal.SIGUSR1)
        assert preemption.signum == signal.SIGUSR1
        stop = preemption.stop("stopped after step 3")
    assert signal.getsignal(signal.SIGUSR1) == before
    assert isinstance(stop, Preempted) and isinstance(stop, SystemExit) and stop.code == 138
    assert str(stop).startswith("SIGUSR1: stopped after step 3; run the same command again to resume (exit 138)")


def test_when_a_checkpoint_is_due(tmp_path: Path) -> None:
    by_steps = Checkpoints(tmp_path, "train-x-1", every_steps=3)
    assert [s for s in range(1, 10) if by_steps.due(s, last=s == 9)] == [3, 6]  # never after the last step
    by_time = Checkpoints(tmp_path, "train-x-1", every_minutes=0.5)
    assert not by_time.due(1, last=False)
    by_time._last -= 31
    assert by_time.due(2, last=False) and not by_time.due(2, last=True)
    by_time.preemption.signum = signal.SIGTERM
    assert Checkpoints(tmp_path, "train-x-1", preemption=by_time.preemption).due(1, last=False)
