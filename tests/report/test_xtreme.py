"""XTREME aggregation against hand-computed numbers on a synthetic grid covering all nine tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.synthetic import uniform, write_run
from xstilts.report.tables import build_report
from xstilts.report.xtreme import task_score, xtreme_score
from xstilts.tasks.registry import get_task

XQUAD_EN = {"exact_match": 70.0, "f1": 80.0}


def nine_tasks(run_dir: Path, intermediate: str = "none", skip: tuple[str, ...] = ()) -> None:
    xnli = uniform("xnli", accuracy=80.0)
    xnli["en"] = {"accuracy": 90.0}
    xquad = uniform("xquad", exact_match=60.0, f1=76.0)
    xquad["en"] = dict(XQUAD_EN)
    xquad["ro"] = {"exact_match": 0.0, "f1": 0.0}  # after XTREME: must not count
    runs = {
        "xnli": xnli,
        "pawsx": uniform("pawsx", accuracy=85.0),
        "udpos": uniform("udpos", f1=70.0, accuracy=95.0),
        "panx": uniform("panx", f1=60.0, precision=99.0),
        "xquad": xquad,
        "mlqa": uniform("mlqa", exact_match=50.0, f1=70.0),
        "tydiqa": uniform("tydiqa", exact_match=45.0, f1=65.0),
        "bucc2018": uniform("bucc2018", f1=70.0, precision=90.0),
        "tatoeba": uniform("tatoeba", accuracy=50.0),
    }
    for task, metrics in runs.items():
        if task not in skip:
            kind = "retrieval" if task in ("bucc2018", "tatoeba") else "transfer"
            write_run(run_dir, task, intermediate, 0, metrics, kind=kind)


# hand-computed task scores
XNLI = (14 * 80 + 90) / 15
XQUAD = ((70 + 10 * 60) / 11 + (80 + 10 * 76) / 11) / 2  # (mean EM + mean F1) / 2 over XTREME's 11 languages
EXPECTED = {"xnli": XNLI, "pawsx": 85.0, "udpos": 70.0, "panx": 60.0, "xquad": XQUAD, "mlqa": 60.0, "tydiqa": 55.0, "bucc2018": 70.0, "tatoeba": 50.0}


def test_task_scores_and_xtreme_score_match_hand_computation(tmp_path: Path) -> None:
    nine_tasks(tmp_path)
    report = build_report(tmp_path)
    scores = report.xtreme["none"]
    assert scores.complete and scores.label == "XTREME score (9 tasks)"
    for task, value in EXPECTED.items():
        assert scores.tasks[task] == pytest.approx(value), task
    assert pytest.approx(68.63636, abs=1e-4) == XQUAD
    assert scores.score == pytest.approx(sum(EXPECTED.values()) / 9)
    assert scores.score == pytest.approx((XNLI + 85 + 70 + 60 + XQUAD + 60 + 55 + 70 + 50) / 9)
    assert scores.groups["classification"] == pytest.approx((XNLI + 85) / 2)
    assert scores.groups["structured prediction"] == pytest.approx(65.0)
    assert scores.groups["question answering"] == pytest.approx((XQUAD + 60 + 55) / 3)
    assert scores.groups["retrieval"] == pytest.approx(60.0)


def test_romanian_is_not_an_xquad_language_for_the_score() -> None:
    task = get_task("xquad")
    metrics = uniform("xquad", exact_match=60.0, f1=80.0)
    metrics["ro"] = {"exact_match": 0.0, "f1": 0.0}
    result = task_score(task, metrics)
    assert result.score == pytest.approx(70.0)
    assert "ro" not in result.languages and len(result.languages) == 11


def test_missing_task_gives_a_labelled_partial_mean(tmp_path: Path) -> None:
    nine_tasks(tmp_path, skip=("tatoeba",))
    scores = build_report(tmp_path).xtreme["none"]
    assert not scores.complete and scores.missing == ["tatoeba"]
    assert "partial" in scores.label and "tatoeba" in scores.label
    assert scores.score == pytest.approx((sum(EXPECTED.values()) - 50.0) / 8)
    assert scores.groups["retrieval"] == pytest.approx(70.0)


def test_non_xtreme_tasks_get_an_xtreme_style_mean_labelled_as_such() -> None:
    scores = xtreme_score({"mini_nli": 60.0, "mini_qa": 40.0})
    assert scores.score is None and not scores.tasks
    assert scores.other_mean == pytest.approx(50.0)
    assert "not the XTREME score" in scores.other_label


def test_qa_task_score_uses_em_and_f1_of_each_language() -> None:
    task = get_task("mlqa")
    metrics = {"en": {"exact_match": 40.0, "f1": 60.0}, "de": {"exact_match": 20.0, "f1": 30.0}}
    result = task_score(task, metrics)
    assert result.score == pytest.approx(((40 + 20) / 2 + (60 + 30) / 2) / 2)
    assert set(result.missing) == set(task.scored_languages) - {"en", "de"}
