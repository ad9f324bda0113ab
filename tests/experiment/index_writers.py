"""Child processes for the results index's many-writers test: each writes runs and indexes them.

Kept light (no torch): the children come from a ``forkserver`` that imported only this module.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

from xstilts.experiment import store
from xstilts.runs import RunResult

LANGUAGES = ("en", "de", "fr")


def write_result(run_dir: Path, run_id: str, task: str, seed: int, score: float) -> None:
    """One finished run, written atomically as a real run's ``result.json`` is."""
    metrics = {lang: {"accuracy": score + k} for k, lang in enumerate(LANGUAGES)}
    average = {"accuracy": sum(m["accuracy"] for m in metrics.values()) / len(metrics)}
    RunResult(
        run_id=run_id, kind="transfer", task=task, intermediate="none", model="tiny", seed=seed,
        config={"data": {"eval_split": "test"}}, versions={}, git_commit=None, metrics=metrics, average=average,
        created="2024-01-01T00:00:00+00:00",
    ).write(run_dir / run_id)  # fmt: skip


def write_and_index(run_dir: str, worker: int, n: int) -> None:
    """Child: ``n`` runs, indexing after each (as a grid runner does), then one rewritten in place."""
    for i in range(n):
        write_result(Path(run_dir), f"run-w{worker}-{i}", "pawsx", i, float(10 * worker + i))
        store.index(run_dir)
    write_result(Path(run_dir), f"run-w{worker}-0", "pawsx", 0, float(10 * worker + 5))  # a rerun's new numbers
    store.index(run_dir)
    os._exit(0)


def start(*args: Any) -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    proc = ctx.Process(target=write_and_index, args=args)
    proc.start()
    return proc
