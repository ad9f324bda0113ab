"""Resumable checkpoints of a training phase, so a killed or pre-empted phase continues where it stopped.

A checkpoint holds everything the next step depends on: the weights, the optimiser's moments, the
learning-rate schedule, the fp16 loss scaler, every random number generator (Python, NumPy, torch on
CPU and CUDA), the data sampler's position, the best weights so far with the dev history, and the
early-stopping counters. A phase resumed from it ends with exactly the weights (the same sha256) an
uninterrupted phase ends with on the same hardware.

Nothing is pickled: tensors go into safetensors files, everything else into strict JSON (a non-finite
float is written as ``{"float": "nan"}`` and read back as the float, so a NaN dev score survives).
The layout, beside the runs in the output folder::

    .checkpoints/<run-id>/step-00000120/
        state.json          run id, step, counters, history, sampler and RNG states, optimiser structure,
                            scheduler and loss scaler
        state.safetensors   optimiser tensors (``optimizer.<param>.<key>``) and torch RNG states
        model.safetensors   the weights after that step
        best.safetensors    the best weights on dev so far (absent before the first evaluation)

A checkpoint folder appears in one rename when it is complete (:func:`xstilts.paths.atomic_dir`) and
replaces the one before, so a kill at any moment leaves the last complete checkpoint. It lives in a
folder named by the run id, the hash of the phase's config, data and parent, and ``state.json`` names
the run id again: a phase with any other config never resumes from it. Once the run is written the
whole folder is removed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, load_model, save_file, save_model
from torch import nn

from xstilts.paths import DiskFullError, atomic_dir, strict_json_dumps
from xstilts.train.preemption import Preemption

log = logging.getLogger(__name__)

#: the folder beside the runs (hidden: nothing that lists runs sees it)
CHECKPOINTS_DIR = ".checkpoints"
#: bumped when the layout changes; a checkpoint of another format is not resumed from
FORMAT = 1
STATE_JSON, STATE_TENSORS, MODEL_FILE, BEST_FILE = "state.json", "state.safetensors", "model.safetensors", "best.safetensors"


@dataclass
class PhaseState:
    """A phase between two steps: the live objects, and the loop's own state as JSON."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler | None
    #: the loop's counters, history and best score (JSON)
    loop: dict[str, Any]
    #: the sampler's RNG state and each task's position in its epoch (JSON)
    sampler: dict[str, Any]
    #: the best weights on dev so far, on the CPU
    best: dict[str, torch.Tensor] | None


def random_state_to_json(state: tuple[Any, ...]) -> list[Any]:
    """A ``random.Random().getstate()`` as JSON (a version, 625 integers and a cached gaussian)."""
    version, internal, gauss = state
    return [version, list(internal), gauss]


def random_state_from_json(data: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)


def _encode(obj: Any) -> Any:
    """JSON for the loop's numbers: a NaN or infinite float is tagged, not turned into null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"float": repr(obj)}
    if isinstance(obj, dict):
        return {k: _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode(v) for v in obj]
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if obj.keys() == {"float"}:
            return float(obj["float"])
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def _rng_states() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = state
    meta = {
        "python": random_state_to_json(random.getstate()),
        "numpy": [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)],
    }
    return meta, tensors


def _restore_rng(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    random.setstate(random_state_from_json(meta["python"]))
    name, keys, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k.rsplit(".", 1)[1]))]
    if cuda and torch.cuda.is_available() and torch.cuda.device_count() == len(cuda):
        torch.cuda.set_rng_state_all(cuda)
    elif cuda:
        log.warning("the checkpoint has the RNG states of %d CUDA devices and this machine has %d: "
                    "the resumed phase will not match an uninterrupted one bit for bit", len(cuda), torch.cuda.device_count())  # fmt: skip


def _optimizer_parts(optimizer: torch.optim.Optimizer) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    values: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                values.setdefault(str(index), {})[key] = value
    return {"param_groups": state["param_groups"], "values": values}, tensors


def _load_optimizer(optimizer: torch.optim.Optimizer, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for index, values in meta["values"].items():
        state.setdefault(int(index), {}).update(values)
    current = optimizer.state_dict()["param_groups"]
    # JSON has no tuples: give back the types the optimiser was built with (``betas``)
    groups = [
        {k: tuple(v) if isinstance(now.get(k), tuple) else v for k, v in saved.items()}
        for saved, now in zip(meta["param_groups"], current, strict=True)
    ]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def write_checkpoint(folder: Path, run_id: str, step: int, state: PhaseState) -> None:
    """``state`` after ``step`` as one complete folder, or nothing at all (see the module doc)."""
    rng_meta, rng_tensors = _rng_states()
    opt_meta, opt_tensors = _optimizer_parts(state.optimizer)
    meta = {
        "format": FORMAT,
        "run_id": run_id,
        "step": step,
        "loop": _encode(state.loop),
        "sampler": state.sampler,
        "rng": rng_meta,
        "optimizer": opt_meta,
        "scheduler": state.scheduler.state_dict(),
        "scaler": state.scaler.state_dict() if state.scaler is not None else None,
        "best": state.best is not None,
    }
    text = strict_json_dumps(meta, indent=None) + "\n"  # first: a value JSON cannot hold fails before any file
    with atomic_dir(folder) as tmp:
        save_model(state.model, str(tmp / MODEL_FILE), force_contiguous=True)
        save_file({**opt_tensors, **rng_tensors}, str(tmp / STATE_TENSORS))
        if state.best is not None:
            save_file({k: v.contiguous() for k, v in state.best.items()}, str(tmp / BEST_FILE))
        (tmp / STATE_JSON).write_text(text, encoding="utf-8")  # last: a folder with it is complete


def read_checkpoint(folder: Path, run_id: str, state: PhaseState) -> int:
    """Load the checkpoint in ``folder`` into ``state`` (in place) and restore every RNG; returns its step.

    Every file is read and checked before anything in ``state`` changes, so a checkpoint that cannot
    be used (another run's, another format, a damaged file: ValueError or OSError) leaves the fresh
    phase as it was.
    """
    meta = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT or meta.get("run_id") != run_id:
        raise ValueError(f"a checkpoint of run {meta.get('run_id')} (format {meta.get('format')}), not of {run_id}")
    try:
        with safe_open(str(folder / MODEL_FILE), "pt"):
            pass  # the header and the file's length are checked here; the weights are read below
        tensors = load_file(str(folder / STATE_TENSORS))
        best = load_file(str(folder / BEST_FILE)) if meta["best"] else None
    except SafetensorError as err:
        raise ValueError(f"a damaged checkpoint file ({err})") from None
    load_model(state.model, str(folder / MODEL_FILE), strict=True)
    _load_optimizer(state.optimizer, meta["optimizer"], tensors)
    state.scheduler.load_state_dict(meta["scheduler"])
    if state.scaler is not None and meta["scaler"]:
        state.scaler.load_state_dict(meta["scaler"])
    state.best = best
    state.loop = _decode(meta["loop"])
    state.sampler = meta["sampler"]
    _restore_rng(meta["rng"], tensors)
    return int(meta["step"])


class Checkpoints:
    """One phase's checkpoints: when one is due, writing it, resuming from it, and removing them all.

    Due every ``every_steps`` optimiser steps and every ``every_minutes`` minutes (0 or None: never on
    that count), and at the first step boundary after a pre-emption signal.
    """

    def __init__(
        self, folder: Path, run_id: str, every_steps: int | None = None, every_minutes: float = 0.0, preemption: Preemption | None = None
    ) -> None:
        self.folder = Path(folder)
        self.run_id = run_id
        self.every_steps = every_steps or 0
        self.every_minutes = every_minutes
        self.preemption = preemption or Preemption()
        self._last = time.monotonic()

    @classmethod
    def beside(cls, run_dir: Path, run_id: str, every_steps: int | None, every_minutes: float) -> Checkpoints:
        """The checkpoints of the run to be written at ``run_dir``: ``<out>/.checkpoints/<run-id>/``."""
        return cls(Path(run_dir).parent / CHECKPOINTS_DIR / run_id, run_id, every_steps, every_minutes)

    def latest(self) -> Path | None:
        """The newest complete checkpoint (temp folders of a write that was killed are skipped)."""
        found = sorted(p for p in self.folder.glob("step-*") if (p / STATE_JSON).is_file()) if self.folder.is_dir() else []
        return found[-1] if found else None

    def restore(self, state: PhaseState) -> int | None:
        """Resume ``state`` from the newest checkpoint; its step, or None when there is none to use.

        Called as the phase starts: the minutes until the first checkpoint count from here.
        """
        self._last = time.monotonic()
        for partial in self.folder.glob(".step-*.tmp"):  # a write an earlier attempt was killed in
            shutil.rmtree(partial, ignore_errors=True)
        path = self.latest()
        if path is None:
            return None
        try:
            step = read_checkpoint(path, self.run_id, state)
        except (OSError, ValueError, KeyError) as err:
            log.warning("%s: not resumed from (%s); the phase starts from step 0", path, err)
            return None
        log.info("resumed %s from its checkpoint at step %d", self.run_id, step)
        return step

    def due(self, step: int, last: bool) -> bool:
        """Whether to write one after ``step``; never after the last (the run itself is written then)."""
        if last:
            return False
        if self.preemption.requested:
            return True
        if self.every_steps and step % self.every_steps == 0:
            return True
        return self.every_minutes > 0 and time.monotonic() - self._last >= self.every_minutes * 60

    def write(self, step: int, state: PhaseState) -> bool:
        """Write the checkpoint of ``step`` and drop older ones; False (with a warning) if the disk is full.

        A full disk does not stop the phase: it keeps training with its previous checkpoint, and the
        run itself reports the disk when it is written.
        """
        path = self.folder / f"step-{step:08d}"
        try:
            write_checkpoint(path, self.run_id, step, state)
        except DiskFullError as err:
            log.warning("%s; training goes on from the previous checkpoint", err)
            return False
        finally:
            self._last = time.monotonic()
        for old in self.folder.glob("step-*"):
            if old != path:
                shutil.rmtree(old, ignore_errors=True)
        return True

    def stop_if_preempted(self, step: int) -> None:
        if self.preemption.requested:
            raise self.preemption.stop(f"stopped {self.run_id} after step {step}, its checkpoint in {self.folder}")

    def clear(self) -> None:
        """Remove every checkpoint of the phase (its run is written), and ``.checkpoints`` if now empty."""
        if self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # other phases' checkpoints are still there, or it never existed
            self.folder.parent.rmdir()
