"""Every registered task passes the task checks, and XTREME's nine targets are the paper's."""

from __future__ import annotations

import pytest

from tests.tasks.checks import CHECKS
from xstilts.report import xtreme as report_xtreme
from xstilts.tasks.base import XTREME_GROUPS
from xstilts.tasks.registry import all_tasks, get_task, xtreme_groups, xtreme_tasks

TASKS = all_tasks()

#: ../shared/docs/PAPER.md, "Target tasks (XTREME)" and "XTREME score"
PAPER_XTREME = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba")
PAPER_GROUPS = {
    "classification": ("xnli", "pawsx"),
    "structured prediction": ("udpos", "panx"),
    "question answering": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("bucc2018", "tatoeba"),
}
#: the metric XTREME averages for each non-QA target (QA averages (EM + F1) / 2)
PAPER_METRIC = {
    "xnli": "accuracy",
    "pawsx": "accuracy",
    "udpos": "f1",
    "panx": "f1",
    "bucc2018": "f1",
    "tatoeba": "accuracy",
}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_passes_check(name: str, check) -> None:
    assert check(TASKS[name]) == []


def test_the_registry_holds_the_study_tasks() -> None:
    expected = {
        "mnli",
        "qqp",
        "snli",
        "anli",
        "anli_plus",
        "squad",
        "squad_v2",
        "hellaswag",
        "cosmosqa",
        "commonsenseqa",
        "ccg",
        "uner",
    }
    assert expected | set(PAPER_XTREME) <= set(TASKS)


def test_xtreme_tasks_in_the_papers_order() -> None:
    assert xtreme_tasks() == PAPER_XTREME
    assert tuple(n for n, t in TASKS.items() if t.xtreme) == tuple(sorted(PAPER_XTREME))


def test_xtreme_groups_are_the_papers() -> None:
    assert xtreme_groups() == PAPER_GROUPS
    assert tuple(xtreme_groups()) == XTREME_GROUPS


def test_xtreme_order_numbers_the_nine_columns() -> None:
    assert [get_task(t).xtreme_order for t in PAPER_XTREME] == list(range(1, 10))
    assert all(t.xtreme_order is None for t in TASKS.values() if not t.xtreme)


@pytest.mark.parametrize("name", sorted(PAPER_METRIC))
def test_metric_is_the_one_xtreme_averages(name: str) -> None:
    task = get_task(name)
    assert task.metric == PAPER_METRIC[name]
    assert report_xtreme.score_rule(task) == PAPER_METRIC[name]


@pytest.mark.parametrize("name", ["xquad", "mlqa", "tydiqa"])
def test_qa_targets_average_em_and_f1(name: str) -> None:
    assert report_xtreme.score_rule(get_task(name)) == "(EM+F1)/2"


def test_report_reads_xtreme_from_the_registry() -> None:
    assert report_xtreme.XTREME_TASKS == PAPER_XTREME
    assert report_xtreme.GROUPS == PAPER_GROUPS
