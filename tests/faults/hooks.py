"""Fault injection: a child process runs a grid (or indexes runs) and SIGKILLs itself at the k-th call of a kill point.

Children come from a ``forkserver`` that has already imported torch, transformers and xstilts, so each
starts in milliseconds instead of seconds, and none inherits the test process's thread pools. They run
torch on one thread, as the parent's reruns do (:func:`one_thread`), so numbers match exactly.

A kill point is a place inside one stage kind; ``install`` patches it to call a :class:`Trigger`
first. Writes (a checkpoint, a result, the feature cache, a stage record) are killed half-way: the
partial bytes are on disk when the process dies, as they would be after a real kill.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import transformers.modeling_utils
import yaml
from safetensors import torch as safetensors_torch

import xstilts.evaluate.retrieval_run
import xstilts.evaluate.zero_shot
import xstilts.formats.features
import xstilts.models.model
from xstilts import paths
from xstilts.experiment import grid, store
from xstilts.tasks.registry import all_tasks

Patch = Callable[[Any, str, Any], None]

all_tasks()  # the task registry, loaded once in the forkserver rather than in every child

#: each stage kind, and each kind of write, a grid run can be killed in
GRID_POINTS = (
    "train_step",
    "checkpoint_write",
    "zero_shot",
    "retrieval",
    "result_write",
    "feature_cache_write",
    "stage_record_write",
)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Trigger:
    """Counts calls; with ``at``, the ``at``-th call is the one that dies."""

    def __init__(self, at: int | None = None) -> None:
        self.at = at
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.at is not None and self.calls == self.at


def _half_written(path: Path) -> None:
    """Leave ``path`` as a kill during its write would: cut to half its bytes."""
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])


def install(point: str, trigger: Trigger, patch: Patch) -> None:
    """Patch ``point`` so that ``trigger`` runs first (and the process dies when it says so)."""
    if point == "train_step":
        real_step = torch.optim.AdamW.step

        def step(self: Any, *args: Any, **kwargs: Any) -> Any:
            if trigger():
                die()
            return real_step(self, *args, **kwargs)

        patch(torch.optim.AdamW, "step", step)
    elif (
        point == "checkpoint_write"
    ):  # the encoder (transformers) and the heads (xstilts) both write safetensors
        real_save = safetensors_torch.save_file

        def save_file(tensors: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
            out = real_save(tensors, filename, *args, **kwargs)
            if trigger():
                _half_written(Path(filename))
                die()
            return out

        patch(transformers.modeling_utils, "safe_save_file", save_file)
        patch(xstilts.models.model, "save_file", save_file)
    elif point == "zero_shot":
        real_predict = xstilts.evaluate.zero_shot.predict

        def predict(*args: Any, **kwargs: Any) -> Any:
            if trigger():
                die()
            return real_predict(*args, **kwargs)

        patch(xstilts.evaluate.zero_shot, "predict", predict)
    elif point == "retrieval":
        embedder = xstilts.evaluate.retrieval_run.Embedder
        real_call = embedder.__call__

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            if trigger():
                die()
            return real_call(self, *args, **kwargs)

        patch(embedder, "__call__", call)
    elif point in ("result_write", "feature_cache_write", "stage_record_write"):
        real_write = paths.atomic_write_bytes
        wanted = {
            "result_write": lambda p: p.name == "result.json",
            "feature_cache_write": lambda p: p.suffix == ".npz",
            "stage_record_write": lambda p: p.parent.name == "stages",
        }[point]

        def write(path: Path, data: bytes) -> None:
            if wanted(Path(path)) and trigger():
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                (Path(path).parent / f".{Path(path).name}.killed.tmp").write_bytes(data[: len(data) // 2])
                die()
            real_write(path, data)

        patch(paths, "atomic_write_bytes", write)
        patch(xstilts.formats.features, "atomic_write_bytes", write)
    elif point == "index_write":
        real_insert = store._insert_run

        def insert(*args: Any) -> None:
            if trigger():
                die()
            real_insert(*args)

        patch(store, "_insert_run", insert)
    else:
        raise ValueError(f"unknown kill point {point!r}")


@contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one thread, as in the children: a shared CPU makes pools slow, and results must match."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def context() -> Any:
    """The multiprocessing context every fault test starts its children from."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def load_spec(path: Path) -> grid.GridSpec:
    return grid.GridSpec.model_validate(yaml.safe_load(Path(path).read_text()))


def _child_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    torch.set_num_threads(1)


def run_grid(spec_path: str, out: str, env: dict[str, str], point: str | None = None, at: int | None = None,
             log: str | None = None, pause_s: float = 0.0) -> None:  # fmt: skip
    """Child: run the grid; die at the ``at``-th call of ``point``; log each stage run to ``log``.

    Exits 0 when every stage is done, 3 otherwise.
    """
    _child_setup(env)
    if point is not None:
        install(point, Trigger(at), lambda obj, name, value: setattr(obj, name, value))
    if log is not None:
        real_run_stage = grid.run_stage

        def run_stage(stage: grid.Stage, *args: Any, **kwargs: Any) -> Any:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"{stage.key} {os.getpid()}\n")
            time.sleep(pause_s)  # long enough for the other runner to reach the same stage
            return real_run_stage(stage, *args, **kwargs)

        grid.run_stage = run_stage
    stages = grid.execute(load_spec(Path(spec_path)), Path(out))
    os._exit(0 if all(s.status == "done" for s in stages) else 3)


def index_runs(run_dir: str, env: dict[str, str], point: str | None = None, at: int | None = None) -> None:
    """Child: index ``run_dir``; die at the ``at``-th call of ``point``."""
    _child_setup(env)
    if point is not None:
        install(point, Trigger(at), lambda obj, name, value: setattr(obj, name, value))
    store.index(run_dir)
    os._exit(0)


def write_and_index(run_dir: str, worker: int, n: int, env: dict[str, str]) -> None:
    """Child: write ``n`` runs into ``run_dir``, indexing after each, as a runner and a ``results`` call would."""
    from tests.report.synthetic import uniform, write_run

    _child_setup(env)
    for i in range(n):
        write_run(
            Path(run_dir),
            "pawsx",
            f"w{worker}",
            i,
            uniform("pawsx", accuracy=float(i)),
            run_id=f"run-w{worker}-{i}",
        )
        store.index(run_dir)
    os._exit(0)


def cli(argv: list[str], env: dict[str, str], stderr: str, fsize_limit: int | None = None) -> None:
    """Child: ``xstilts ARGV`` with stderr to a file, optionally under a file size limit (a full disk)."""
    import resource
    import sys

    from xstilts.cli import main

    _child_setup(env)
    fd = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 2)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    if fsize_limit is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_limit, fsize_limit))
    sys.argv = ["xstilts", *argv]
    try:
        main()
    except SystemExit as exit_:
        sys.stderr.flush()
        os._exit(exit_.code if isinstance(exit_.code, int) else 1)
    sys.stderr.flush()
    os._exit(0)


def start(target: Callable[..., None], *args: Any, **kwargs: Any) -> Any:
    proc = context().Process(target=target, args=args, kwargs=kwargs)
    proc.start()
    return proc
