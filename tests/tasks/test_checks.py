"""The task checks fail on deliberately broken tasks, so a passing registry means something."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.tasks.checks import (
    citation_problems,
    hub_problems,
    label_problems,
    language_problems,
    metric_problems,
    problems,
    train_size_problems,
)
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task


def with_hub(task: Task, **changes: str) -> Task:
    assert task.hub is not None
    return replace(task, hub=replace(task.hub, **changes))


def test_real_tasks_are_clean() -> None:
    assert problems(get_task("xnli")) == [] and problems(get_task("mlqa")) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"revision": "main"},  # unpinned, no reason
        {"revision": "main", "unpinned_reason": "  "},
        {"revision": "b8dd5d7"},  # a short sha
        {"revision": "B8DD5D7AF51114DBDA02C0E3F6133F332186418E"},
        {"revision": "v1.0", "unpinned_reason": "a tag"},
        {"unpinned_reason": "pinned and unpinned at once"},
    ],
)
def test_hub_check_fails(changes: dict[str, str]) -> None:
    assert hub_problems(with_hub(get_task("xnli"), **changes))


def test_hub_check_accepts_an_explained_main() -> None:
    assert hub_problems(with_hub(get_task("xnli"), revision="main", unpinned_reason="script only")) == []


def test_citation_check_fails() -> None:
    assert citation_problems(replace(get_task("xnli"), citation=" "))
    assert citation_problems(replace(get_task("mini_nli"), citation="Someone. 2024."))


def test_label_check_fails() -> None:
    xnli = get_task("xnli")
    assert label_problems(replace(xnli, labels=("entailment", "neutral", "entailment")))
    assert label_problems(replace(xnli, label_aliases={"e": "entails"}))
    assert label_problems(replace(get_task("ccg"), label_aliases={"x": "y"}))


@pytest.mark.parametrize("languages", [("en", "swh"), ("en", "EN"), ("en", "en"), ()])
def test_language_check_fails(languages: tuple[str, ...]) -> None:
    assert language_problems(replace(get_task("xnli"), languages=languages))


def test_language_check_allows_listed_codes_and_checks_average_languages() -> None:
    assert language_problems(replace(get_task("uner"), languages=("ceb", "en"))) == []
    assert language_problems(replace(get_task("xquad"), languages=("en", "de")))


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("xnli", "f1"),
        ("hellaswag", "f1"),
        ("squad", "accuracy"),
        ("panx", "bleu"),
        ("tatoeba", "exact_match"),
    ],
)
def test_metric_check_fails(name: str, metric: str) -> None:
    assert metric_problems(replace(get_task(name), metric=metric))


def test_train_size_check_fails() -> None:
    assert train_size_problems(replace(get_task("mnli"), train_size=None))
    assert train_size_problems(replace(get_task("xnli"), train_size=0))
    assert train_size_problems(replace(get_task("anli_plus"), train_size=None)) == []  # no hub source
