"""The ``retrieval`` format: prediction files, scoring, and the data half of the format protocol.

Why these checks: ``xstilts score``, the bootstrap and the XTREME export re-read a retrieval run's
prediction files; they must agree with the run's own numbers and refuse a malformed file. The format
has no head, and asking to train it must say so rather than fail somewhere inside the trainer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xstilts.data.schema import DataError, ParallelCorpus
from xstilts.formats import retrieval as R
from xstilts.formats.base import NotTrainable, get_format, trainable_format
from xstilts.formats.bucc import write_bucc_predictions
from xstilts.formats.tatoeba import write_tatoeba_predictions
from xstilts.tasks.registry import get_task

IDS = ["0", "1", "2"]


def tatoeba_corpus() -> ParallelCorpus:
    return ParallelCorpus(IDS, ["a", "b", "c"], IDS, ["A", "B", "C"], [(i, i) for i in IDS], src_lang="de")


def bucc_corpus() -> ParallelCorpus:
    return ParallelCorpus(["d1", "d2", "d3"], ["a", "b", "c"], ["e1", "e2"], ["A", "B"], [("d1", "e1"), ("d3", "e2")], src_lang="de")


def test_format_scores_and_reads_prediction_files(tmp_path: Path) -> None:
    fmt = get_format("retrieval")
    tatoeba = tatoeba_corpus()
    write_tatoeba_predictions(tmp_path / "t.txt", [0, 2, 2])
    preds = fmt.read_predictions(tmp_path / "t.txt", [tatoeba])
    assert fmt.score([tatoeba], preds, "de")["accuracy"] == pytest.approx(200 / 3)
    bucc = bucc_corpus()
    write_bucc_predictions(tmp_path / "b.txt", [("d1", "e1"), ("d2", "e2")])
    assert (tmp_path / "b.txt").read_text() == "d1\te1\nd2\te2\n"
    m = fmt.score([bucc], fmt.read_predictions(tmp_path / "b.txt", [bucc]), "de")
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((50.0, 50.0, 50.0))


def test_the_format_is_not_trainable_and_the_trainer_says_so() -> None:
    fmt = get_format("retrieval")
    assert fmt.trainable is False and not hasattr(fmt, "head")
    with pytest.raises(NotTrainable, match="no head"):
        trainable_format(get_task("tatoeba"))


def test_mining_is_decided_by_the_task_metric() -> None:
    assert R.FORMAT.is_mining(get_task("bucc2018"))
    assert not R.FORMAT.is_mining(get_task("tatoeba"))
    assert not R.FORMAT.is_mining(get_task("mini_parallel"))


def test_row_pairs_collect_into_one_corpus_and_count_as_gold_pairs() -> None:
    rows = [ParallelCorpus([i], [f"x {i}"], [i], [f"y {i}"], [(i, i)], src_lang="de") for i in IDS]
    (corpus,) = R.FORMAT.collect(rows, "de")
    assert corpus.src == ["x 0", "x 1", "x 2"] and corpus.gold == [(i, i) for i in IDS]
    assert R.FORMAT.collect(rows[:1], "de") == rows[:1]
    counts = R.FORMAT.counts([corpus])
    assert (counts.examples, counts.labeled, counts.sentences, counts.tokens) == (3, 3, 6, 12)
    assert R.FORMAT.has_gold(corpus) and not R.FORMAT.has_gold(ParallelCorpus([], [], [], [], [], src_lang="de"))


def test_units_reproduce_the_scores(tmp_path: Path) -> None:
    task = get_task("tatoeba")
    write_tatoeba_predictions(tmp_path / "t.txt", [0, 2, 2])
    units = R.FORMAT.units(task, [tatoeba_corpus()], tmp_path / "t.txt", "de")
    assert units.rule == "mean" and units.score() == pytest.approx(200 / 3)
    write_bucc_predictions(tmp_path / "b.txt", [("d1", "e1"), ("d2", "e2")])
    units = R.FORMAT.units(get_task("bucc2018"), [bucc_corpus()], tmp_path / "b.txt", "de")
    assert units.rule == "f1" and units.score() == pytest.approx(50.0)


def test_export_checks_the_shape_of_each_kind_of_file(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("0\n2")
    assert R.FORMAT.export_text(tmp_path / "t.txt") == "0\n2\n"
    (tmp_path / "b.txt").write_text("d1\te1\nd2\te2\n")
    assert R.FORMAT.export_text(tmp_path / "b.txt") == "d1\te1\nd2\te2\n"
    (tmp_path / "bad.txt").write_text("d1\te1\nd2\n")
    with pytest.raises(DataError, match="xx-id<TAB>en-id"):
        R.FORMAT.export_text(tmp_path / "bad.txt")
    (tmp_path / "word.txt").write_text("0\nzwei\n")
    with pytest.raises(DataError, match="one retrieved index per line"):
        R.FORMAT.export_text(tmp_path / "word.txt")
