"""Prediction files for ``xstilts score``: each format refuses a file it cannot score, naming file and line.

A prediction the gold reader would accept is accepted here too (NLI's ``e``/``n``/``c``), so the
same file never scores 0 silently; a label outside the task's set, an unknown id, a count that does
not match, JSON where lines are expected (and the reverse), broken JSON and bad UTF-8 are errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.badfiles import fails, write
from xstilts.data.schema import (
    ClassificationExample,
    MultipleChoiceExample,
    ParallelCorpus,
    QAExample,
    TaggingExample,
)
from xstilts.formats.base import format_of
from xstilts.tasks.registry import get_task

# --------------------------------------------------------------------------- classification

NLI = [
    ClassificationExample("0", "A man sleeps.", "A person rests.", "entailment"),
    ClassificationExample("1", "A cat.", "A dog.", "contradiction"),
    ClassificationExample("2", "He ran.", "He moved fast.", "neutral"),
]


def test_nli_aliases_score_as_the_gold_reader_reads_them(tmp_path: Path) -> None:
    fmt = format_of(get_task("xnli"))
    path = write(tmp_path / "p.txt", "\ufeffe\r\nc\r\nN\r\n\r\n")
    preds = fmt.read_predictions(path, NLI)
    assert preds == {"0": "entailment", "1": "contradiction", "2": "neutral"}
    assert fmt.score(NLI, preds, "en")["accuracy"] == 100.0


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("entailment\ncontradiction\nmaybe\n", 3, "a label in {entailment, neutral, contradiction} (or an alias), found 'maybe'"),
        ('{"0": "entailment"}\n{"1": "neutral"}\n{"2": "neutral"}\n', 1, "a label in {entailment, neutral, contradiction}"),
        ("entailment\ncontradiction\n", 2, "one label per line for 3 examples, found 2 lines"),
        ("entailment\ncontradiction\nneutral\nneutral\n", 4, "one label per line for 3 examples, found 4 lines"),
        ("entailment\n\nneutral\n", 2, "a single label on the line"),
        (b"entailment\ncontradiction\nneutr\xe9\n", 3, "UTF-8 text (undecodable byte at column 6)"),
    ],
    ids=["unknown-label", "json-lines", "too-few", "too-many", "blank-inside", "invalid-utf8"],
)
def test_classification_files_that_cannot_be_scored(tmp_path: Path, text: str | bytes, line: int, expected: str) -> None:
    path = write(tmp_path / "p.txt", text)
    with fails(path, line, expected):
        format_of(get_task("xnli")).read_predictions(path, NLI)


def test_a_task_without_a_fixed_label_set_reads_labels_as_written(tmp_path: Path) -> None:
    from xstilts.formats.classification import FORMAT

    path = write(tmp_path / "p.txt", "x\ny\nz\n")
    assert list(FORMAT.read_predictions(path, NLI).values()) == ["x", "y", "z"]


# --------------------------------------------------------------------------- multiple choice

MC = [MultipleChoiceExample("q1", "C", "Q", ["a", "b", "c", "d"], 1)]


@pytest.mark.parametrize(("text", "expected"), [("4\n", "a choice index 0..3, found '4'"), ("²\n", "a choice index 0..3, found '²'")])
def test_multiple_choice_indices_out_of_range(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "p.txt", text)
    with fails(path, 1, expected):
        format_of(get_task("cosmosqa")).read_predictions(path, MC)


# --------------------------------------------------------------------------- QA

QA = [QAExample("a", "Paris is in France.", "Q?", [("Paris", 0)]), QAExample("b", "Paris is in France.", "Q?", [("France", 12)])]


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ('{"a": "Paris", "b": "France"', 1, "valid JSON (Expecting ',' delimiter, column 29)"),
        ("Paris\nFrance\n", 1, "valid JSON (Expecting value, column 1)"),
        ("", 1, "a JSON document, found an empty file"),
        ('["Paris", "France"]', 1, "a JSON object {question_id: answer_text}"),
        ('{\n "a": "Paris",\n "b": ["France"]\n}\n', 3, "an answer string for question 'b', found ['France']"),
        ('{\n "a": "Paris",\n "b": "France",\n "zz": "x"\n}\n', 4, "answers to the 2 gold questions only, found 1 unknown question id(s), e.g. 'zz'"),
        ('{"a": "Paris"}', 1, "an answer for every question; 1 missing, e.g. ['b']"),
        (b'{"a": "Paris", "b": "Fr\xe9nce"}', 1, "UTF-8 text (undecodable byte at column 24)"),
    ],
    ids=["truncated", "lines-not-json", "empty", "list", "non-string", "unknown-id", "missing-id", "invalid-utf8"],
)
def test_qa_files_that_cannot_be_scored(tmp_path: Path, text: str | bytes, line: int | None, expected: str) -> None:
    path = write(tmp_path / "p.json", text)
    with fails(path, line, expected):
        format_of(get_task("xquad")).read_predictions(path, QA)


def test_qa_no_answer_probabilities_must_be_numbers(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", '{"a": "Paris", "b": ""}')
    na = write(tmp_path / "p.na_probs.json", '{"a": -1.5, "b": "high"}')
    with fails(na, None, "a number as the no-answer probability of 'b', found 'high'"):
        format_of(get_task("squad_v2")).read_predictions(path, QA)
    write(na, '{"a": -1.5, "b": 2}')
    assert format_of(get_task("squad_v2")).read_predictions(path, QA)["b"].na_prob == 2


def test_qa_training_needs_a_located_answer() -> None:
    fmt = format_of(get_task("squad"))
    lost = [QAExample("a", "Paris.", "Q?", [("Berlin", -1)]), QAExample("b", "Rome.", "Q?", [("Oslo", -1), ("Oslo", -1)])]
    with fails(Path("train.jsonl"), None, "training questions whose answers occur in their context; none of the 3 answers of the 2 questions does"):
        fmt.check_training(lost, "train.jsonl")
    fmt.check_training([*lost, QA[0]], "train.jsonl")  # one located answer is something to learn
    fmt.check_training([QAExample("c", "Paris.", "Q?", [])], "train.jsonl")  # so is a no-answer question


# --------------------------------------------------------------------------- tagging

NER = [TaggingExample("s1", ["Paris", "sleeps"], ["B-LOC", "O"]), TaggingExample("s2", ["Hi"], ["O"])]


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("B-LOC\nO\n\n", 4, "2 sentences of tags (a blank line after each), found 1"),
        ("B-LOC\nO\n\nO\n\nO\n", 6, "2 sentences of tags (a blank line after each), found 3"),
        ("B-LOC\n\nO\n\n", 1, "sentence 1 (s1): 2 tags, found 1"),
        ("B-LOC\nO\n\nB-MISC\n\n", 4, "a tag in {O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC}, found 'B-MISC'"),
        ("Paris B-LOC\nO\n\nO\n\n", 1, "a single tag on the line, found 'Paris B-LOC'"),
        (b"B-LOC\nO\n\n\xff\n", 4, "UTF-8 text (undecodable byte at column 1)"),
    ],
    ids=["too-few", "too-many", "tag-count", "unknown-tag", "two-columns", "invalid-utf8"],
)
def test_tag_files_that_cannot_be_scored(tmp_path: Path, text: str | bytes, line: int | None, expected: str) -> None:
    path = write(tmp_path / "p.txt", text)
    with fails(path, line, expected):
        format_of(get_task("uner")).read_predictions(path, NER)


# --------------------------------------------------------------------------- retrieval

TATOEBA = ParallelCorpus(["0", "1"], ["a", "b"], ["0", "1"], ["A", "B"], [("0", "0"), ("1", "1")], "sw")
BUCC = ParallelCorpus(["d1", "d2", "d3"], ["Hallo", "Hallo", "Tschüss"], ["e1", "e2", "e3"], ["Hello", "Hello", "Bye"], [("d1", "e1"), ("d2", "e2")], "de")


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("0\n5\n", 2, "a target line index in [0, 1], found '5'"),
        ("0\n-1\n", 2, "a target line index in [0, 1], found '-1'"),
        ("0\n", 2, "one retrieved index per source sentence (2 lines), found 1"),
        ("0\n1\n1\n", 3, "one retrieved index per source sentence (2 lines), found 3"),
        (b"0\n\xff\n", 2, "UTF-8 text (undecodable byte at column 1)"),
    ],
    ids=["out-of-range", "negative", "too-few", "too-many", "invalid-utf8"],
)
def test_tatoeba_files_that_cannot_be_scored(tmp_path: Path, text: str | bytes, line: int, expected: str) -> None:
    path = write(tmp_path / "p.txt", text)
    with fails(path, line, expected):
        format_of(get_task("tatoeba")).read_predictions(path, [TATOEBA])


def test_bucc_pairs_name_known_ids_and_keep_every_pair(tmp_path: Path) -> None:
    fmt = format_of(get_task("bucc2018"))
    path = write(tmp_path / "p.txt", "d1\te7\n")
    with fails(path, 1, "ids that occur in the sentence files; e7 does not"):
        fmt.read_predictions(path, [BUCC])
    # a repeated sentence is mined under each of its ids: one source id may have several pairs
    write(path, "d1\te1\nd1\te2\nd2\te2\n")
    preds = fmt.read_predictions(path, [BUCC])
    assert preds == {"d1": ["e1", "e2"], "d2": ["e2"]}
    metrics = fmt.score([BUCC], preds, "de")
    assert metrics["precision"] == pytest.approx(200 / 3) and metrics["recall"] == 100.0
    assert fmt.units(get_task("bucc2018"), [BUCC], path, "de").score() == pytest.approx(metrics["f1"])
