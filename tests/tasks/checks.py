"""Checks every registered task must pass; each returns the problems it finds, empty when none.

They live apart from the tests so the tests can also feed them deliberately bad tasks.
"""

from __future__ import annotations

import re

from xstilts.tasks.base import Task

SHA = re.compile(r"[0-9a-f]{40}")
#: languages with no ISO 639-1 code, written in ISO 639-3 (Universal NER's Cebuano)
NO_ISO_639_1 = frozenset({"bbj", "ceb", "fon", "luo", "mos", "pcm"})
#: the metrics each format's scorer produces that may be a task's primary metric
FORMAT_METRICS: dict[str, frozenset[str]] = {
    "classification": frozenset({"accuracy"}),
    "multiple_choice": frozenset({"accuracy"}),
    "qa": frozenset({"f1", "exact_match"}),
    "tagging": frozenset({"f1", "accuracy"}),
    "retrieval": frozenset({"accuracy", "f1"}),
}
MINI_DATASHEET = "DATASHEET"


def hub_problems(task: Task) -> list[str]:
    """A hub source is pinned to a full commit sha, or is on ``main`` and says why."""
    hub = task.hub
    if hub is None:
        return []
    if SHA.fullmatch(hub.revision):
        return (
            [f"{task.name}: pinned to {hub.revision} yet gives an unpinned_reason"]
            if hub.unpinned_reason
            else []
        )
    if hub.revision != "main":
        return [f"{task.name}: revision {hub.revision!r} is neither a 40-hex sha nor 'main'"]
    if not hub.unpinned_reason.strip():
        return [f"{task.name}: {hub.dataset} is unpinned ('main') without an unpinned_reason"]
    return []


def citation_problems(task: Task) -> list[str]:
    """Every task cites its data; the mini tasks cite the mini benchmark's datasheet."""
    if not task.citation.strip():
        return [f"{task.name}: no citation"]
    if task.role == "mini" and MINI_DATASHEET not in task.citation:
        return [f"{task.name}: a mini task should cite the mini benchmark's {MINI_DATASHEET}.md"]
    return []


def label_problems(task: Task) -> list[str]:
    """Labels are distinct, and aliases exist only for a label set and land on it."""
    if task.labels is None:
        return [f"{task.name}: label_aliases without labels"] if task.label_aliases else []
    problems = []
    if len(set(task.labels)) != len(task.labels):
        problems.append(f"{task.name}: duplicate labels in {task.labels}")
    problems += [
        f"{task.name}: alias {a!r} -> {v!r}, not a label"
        for a, v in task.label_aliases.items()
        if v not in task.labels
    ]
    return problems


def language_problems(task: Task) -> list[str]:
    """Codes are ISO 639-1 where one exists (``sw``, not ``swh``), each listed once."""
    problems = [
        f"{task.name}: language {lang!r} is not ISO 639-1"
        for lang in task.languages
        if not re.fullmatch(r"[a-z]{2}", lang) and lang not in NO_ISO_639_1
    ]
    if not task.languages or len(set(task.languages)) != len(task.languages):
        problems.append(f"{task.name}: languages empty or repeated: {task.languages}")
    extra = set(task.average_languages or ()) - set(task.languages)
    if extra:
        problems.append(f"{task.name}: average_languages outside languages: {sorted(extra)}")
    return problems


def metric_problems(task: Task) -> list[str]:
    """The primary metric is one the task's format actually produces."""
    allowed = FORMAT_METRICS[task.format]
    return (
        []
        if task.metric in allowed
        else [f"{task.name}: {task.format} does not produce {task.metric!r} ({sorted(allowed)})"]
    )


def train_size_problems(task: Task) -> list[str]:
    """An intermediate task read from the hub knows its training-set size, so a grid can be costed."""
    if task.train_size is not None and task.train_size <= 0:
        return [f"{task.name}: train_size {task.train_size} is not positive"]
    if task.role == "intermediate" and task.hub is not None and task.train_size is None:
        return [f"{task.name}: intermediate task with a hub source but no train_size"]
    return []


CHECKS = (
    hub_problems,
    citation_problems,
    label_problems,
    language_problems,
    metric_problems,
    train_size_problems,
)


def problems(task: Task) -> list[str]:
    return [p for check in CHECKS for p in check(task)]
