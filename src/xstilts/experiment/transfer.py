"""The X-STILTs recipe: intermediate task -> target task (English) -> zero-shot in every language.

Its stages are the functions below; ``xstilts transfer`` and the grid both call them, so one command
and a whole grid produce the same runs. Each stage is its own run, keyed by a content hash, so one
intermediate run serves every target and a rerun skips whatever already finished. A target without a
head (retrieval) scores the intermediate encoder as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xstilts.config import RunConfig, phase_config
from xstilts.evaluate.retrieval_run import retrieval_run
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.runs import NO_INTERMEDIATE, RunResult
from xstilts.tasks.registry import get_task
from xstilts.train.phase import train_run


def train_intermediate(tasks: Sequence[str], cfg: RunConfig, out: Path, progress: Any = None) -> RunResult:
    """English intermediate training: one task, or several on one encoder (multi-task)."""
    return train_run(list(tasks), cfg, out, progress=progress)


def train_target(target: str, cfg: RunConfig, out: Path, init: Path | None, progress: Any = None) -> RunResult:
    """English training of a target's head, from the intermediate encoder at ``init`` (or the model)."""
    return train_run([target_training_task(target, cfg)], cfg, out, init=init, progress=progress)


def zero_shot(
    target: str, cfg: RunConfig, model_run: Path, out: Path, languages: Sequence[str] | None, intermediate: str, progress: Any = None
) -> RunResult:
    """The trained target head scored in every language of the target."""
    return evaluate_run(target, cfg, model_run, out, languages=languages, kind="transfer", intermediate=intermediate, progress=progress)


def retrieve(
    target: str, cfg: RunConfig, encoder_run: Path | None, out: Path, languages: Sequence[str] | None, intermediate: str, progress: Any = None
) -> RunResult:
    """A retrieval target scored on the intermediate encoder as it is (``None``: the untouched model)."""
    return retrieval_run(target, cfg, out, model_run=encoder_run, languages=languages, progress=progress, intermediate=intermediate)


def target_training_task(target: str, cfg: RunConfig) -> str:
    return get_task(target).english_training_task(cfg.data.train_task)


def is_trained(target: str) -> bool:
    """Whether a target trains a head on English data (retrieval targets do not)."""
    return get_task(target).fmt.trainable


def intermediate_tasks(intermediate: str | None) -> list[str]:
    """``a+b`` -> [a, b]; ``none`` (or nothing) -> no intermediate phase."""
    return [] if intermediate in (None, "", NO_INTERMEDIATE) else str(intermediate).split("+")


def run_transfer(
    target: str,
    intermediate: str | None,
    user: dict[str, Any],
    out: Path,
    languages: Sequence[str] | None = None,
    progress: Any = None,
) -> RunResult:
    """Run (or reuse) each stage and return the zero-shot result, whose ``parent`` is the target run."""
    out = Path(out)
    names = intermediate_tasks(intermediate)
    label = "+".join(names) or NO_INTERMEDIATE
    init = None
    if names:
        defaults = get_task(names[0]).defaults if len(names) == 1 else {}
        init = out / train_intermediate(names, phase_config(defaults, user, intermediate=True), out, progress).run_id
    cfg = phase_config(get_task(target).defaults, user)
    if not is_trained(target):
        return retrieve(target, cfg, init, out, languages, label, progress)
    target_run = train_target(target, cfg, out, init, progress)
    return zero_shot(target, cfg, out / target_run.run_id, out, languages, label, progress)
