"""The X-STILTs recipe: intermediate task -> target task (English) -> zero-shot in every language.

Each phase is its own run, keyed by a content hash, so one intermediate run serves every target and
a rerun skips whatever already finished.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xstilts.config import RunConfig, phase_config
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.experiment.results import RunResult
from xstilts.tasks.registry import get_task
from xstilts.train.phase import train_run

NO_INTERMEDIATE = "none"


def target_training_task(target: str, cfg: RunConfig) -> str:
    task = get_task(target)
    return cfg.data.train_task or task.train_task or task.name


def run_intermediate(intermediate: str, user: dict[str, Any], out: Path, progress: Any = None) -> RunResult:
    names = intermediate.split("+")
    defaults = get_task(names[0]).defaults if len(names) == 1 else {}
    cfg = phase_config(defaults, user, intermediate=True)
    return train_run(names, cfg, out, progress=progress)


def run_transfer(
    target: str,
    intermediate: str | None,
    user: dict[str, Any],
    out: Path,
    languages: Sequence[str] | None = None,
    progress: Any = None,
) -> RunResult:
    """Run (or reuse) each phase and return the zero-shot result, whose ``parent`` is the target run."""
    out = Path(out)
    target_task = get_task(target)
    cfg = phase_config(target_task.defaults, user)
    init = None
    inter = None if intermediate in (None, "", NO_INTERMEDIATE) else intermediate
    if inter is not None:
        inter_result = run_intermediate(inter, user, out, progress)
        init = out / inter_result.run_id
    train_task = target_training_task(target, cfg)
    target_result = train_run([train_task], cfg, out, init=init, progress=progress)
    return evaluate_run(
        target,
        cfg,
        out / target_result.run_id,
        out,
        languages=languages,
        kind="transfer",
        intermediate=inter or NO_INTERMEDIATE,
        progress=progress,
    )
