"""The XTREME score, computed exactly as XTREME aggregates it, and its honest partial variants.

A task's score is the mean over its languages (the task's ``average_languages``, English included);
a QA task's score is (mean EM + mean F1) / 2; the XTREME score is the unweighted mean of the nine
task scores. A grid that lacks a task gets a *partial* mean with the missing tasks named, never a
number that could be mistaken for the XTREME score. Tasks outside XTREME (``mini_*`` and the like)
get the same per-task rule with their primary metric, and an "XTREME-style" mean of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from xstilts.tasks.base import Task
from xstilts.tasks.registry import xtreme_groups, xtreme_tasks

#: XTREME's nine targets and its four groups, in XTREME's order, as the tasks declare them
XTREME_TASKS: tuple[str, ...] = xtreme_tasks()
GROUPS: dict[str, tuple[str, ...]] = xtreme_groups()


def score_rule(task: Task) -> str:
    """How a language's score is read off its metrics (``(EM+F1)/2`` for QA): the format decides."""
    return task.fmt.score_rule(task)


def language_score(task: Task, metrics: Mapping[str, float]) -> float | None:
    """One language's contribution to the task score (None if its metrics lack what the rule needs)."""
    return task.fmt.language_score(task, metrics)


@dataclass
class TaskScore:
    score: float | None
    languages: list[str]
    #: scored languages of the task that the run lacks (its score is then over fewer languages)
    missing: list[str]


def task_score(task: Task, metrics: Mapping[str, Mapping[str, float]]) -> TaskScore:
    """Mean language score over the task's scored languages present in ``metrics``."""
    scores = {lang: language_score(task, metrics[lang]) for lang in task.scored_languages if lang in metrics}
    present = [lang for lang, v in scores.items() if v is not None]
    missing = [lang for lang in task.scored_languages if lang not in present]
    value = sum(scores[lang] for lang in present) / len(present) if present else None  # type: ignore[misc]
    return TaskScore(value, present, missing)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class XtremeScore:
    """The XTREME score of one configuration, or the partial mean with what is missing."""

    score: float | None
    complete: bool
    tasks: dict[str, float]
    missing: list[str]
    groups: dict[str, float | None] = field(default_factory=dict)
    #: tasks outside XTREME and their plain mean: labelled as not the XTREME score
    other_tasks: dict[str, float] = field(default_factory=dict)
    other_mean: float | None = None

    @property
    def label(self) -> str:
        if self.complete:
            return "XTREME score (9 tasks)"
        if self.tasks:
            return f"partial XTREME mean ({len(self.tasks)} of 9 tasks; missing: {', '.join(self.missing)})"
        return "no XTREME task"

    @property
    def other_label(self) -> str:
        return f"XTREME-style mean over {', '.join(sorted(self.other_tasks))} (not the XTREME score)" if self.other_tasks else ""


def xtreme_score(task_scores: Mapping[str, float | None]) -> XtremeScore:
    """Aggregate task scores: the XTREME score only when all nine are present."""
    xt = {t: float(v) for t, v in task_scores.items() if t in XTREME_TASKS and v is not None}
    other = {t: float(v) for t, v in task_scores.items() if t not in XTREME_TASKS and v is not None}
    missing = [t for t in XTREME_TASKS if t not in xt]
    groups = {name: _mean([xt[t] for t in members if t in xt]) for name, members in GROUPS.items()}
    return XtremeScore(
        score=_mean(list(xt.values())),
        complete=not missing,
        tasks=xt,
        missing=missing,
        groups=groups,
        other_tasks=other,
        other_mean=_mean(list(other.values())),
    )
