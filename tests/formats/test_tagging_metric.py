"""Tagging metric: seqeval default mode as XTREME uses it, the prediction file format, and the vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xstilts.formats.tagging_metric import read_tag_predictions, seqeval_scores, write_tag_predictions

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
VECTORS = SHARED / "testvectors"


# --------------------------------------------------------------------------- local gold readers (tests only)


def _blocks(path: Path) -> list[list[list[str]]]:
    """Sentences of tab-split token lines; '#' comments skipped, blank line ends a sentence."""
    sentences: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
        elif not line.startswith("#"):
            current.append(line.split("\t"))
    if current:
        sentences.append(current)
    return sentences


def _ud_gold(path: Path) -> list[list[str]]:
    """UPOS (4th column) of CoNLL-U word lines; multiword ranges (3-4) and empty nodes (5.1) skipped."""
    return [[cols[3] for cols in sent if cols[0].isdigit()] for sent in _blocks(path)]


def _uner_gold(path: Path) -> list[list[str]]:
    """IOB2 tag (3rd column) of Universal NER lines."""
    return [[cols[2] for cols in sent] for sent in _blocks(path)]


# --------------------------------------------------------------------------- hand cases


def test_paper_pos_example() -> None:
    gold = [["NOUN", "NOUN", "VERB", "DET", "NOUN"]]
    pred = [["NOUN", "VERB", "VERB", "DET", "NOUN"]]
    # gold chunks: NOUN(0-1) VERB(2) DET(3) NOUN(4) = 4; pred: NOUN(0) VERB(1-2) DET(3) NOUN(4) = 4; 2 shared.
    assert seqeval_scores(gold, pred) == pytest.approx(
        {"f1": 50.0, "precision": 50.0, "recall": 50.0, "accuracy": 80.0}
    )


def test_iob2_entity_starting_with_i_counts_as_entity() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "I-LOC"]]
    # Default (non-strict) mode: an I- after O starts a chunk, so both entities match.
    assert seqeval_scores(gold, pred) == pytest.approx(
        {"f1": 100.0, "precision": 100.0, "recall": 100.0, "accuracy": 50.0}
    )


def test_iob2_partial_match() -> None:
    gold = [["B-ORG", "I-ORG", "O"], ["B-PER", "O"]]
    pred = [["B-ORG", "O", "O"], ["B-PER", "B-LOC"]]
    # gold {ORG 0-1, PER}; pred {ORG 0, PER, LOC}: tp=1, P=1/3, R=1/2, F1=0.4
    out = seqeval_scores(gold, pred)
    assert out == pytest.approx({"f1": 40.0, "precision": 100 / 3, "recall": 50.0, "accuracy": 60.0})


def test_length_mismatch_names_sentence() -> None:
    with pytest.raises(ValueError, match=r"sentence 1: gold has 2 tags but prediction has 1"):
        seqeval_scores([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="sentences"):
        seqeval_scores([["O"], ["O"]], [["O"]])


def test_prediction_file_roundtrip(tmp_path: Path) -> None:
    tags = [["B-PER", "O"], ["NOUN"], ["O", "O", "I-LOC"]]
    path = tmp_path / "pred.txt"
    write_tag_predictions(path, tags)
    assert path.read_text(encoding="utf-8") == "B-PER\nO\n\nNOUN\n\nO\nO\nI-LOC\n\n"
    assert read_tag_predictions(path) == tags


def test_reader_tolerates_trailing_blanks_crlf_and_missing_final_blank(tmp_path: Path) -> None:
    path = tmp_path / "pred.txt"
    path.write_bytes(b"NOUN\r\nVERB \r\n\r\n\n\nDET\n\n\n\n")
    assert read_tag_predictions(path) == [["NOUN", "VERB"], ["DET"]]
    path.write_text("NOUN\n\nDET", encoding="utf-8")
    assert read_tag_predictions(path) == [["NOUN"], ["DET"]]


@pytest.mark.parametrize("bad", ["B-PER O", "token\tNOUN"])
def test_reader_rejects_multi_column_lines(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "pred.txt"
    path.write_text(f"O\n\nO\n{bad}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pred\.txt:4: a single tag on the line"):
        read_tag_predictions(path)


@pytest.mark.parametrize("tags", [[[]], [["B PER"]], [[""]]])
def test_writer_rejects_unrepresentable(tmp_path: Path, tags: list[list[str]]) -> None:
    with pytest.raises(ValueError):
        write_tag_predictions(tmp_path / "p.txt", tags)


def test_local_ud_reader_skips_ranges_and_empty_nodes(tmp_path: Path) -> None:
    path = tmp_path / "x.conllu"
    path.write_text(
        "# text = Vámonos al mar\n"
        "1-2\tVámonos\t_\t_\t_\t_\t_\t_\t_\t_\n1\tVamos\tir\tVERB\t_\t_\t0\troot\t_\t_\n"
        "2\tnos\tnosotros\tPRON\t_\t_\t1\tobj\t_\t_\n2.1\tx\t_\tX\t_\t_\t_\t_\t_\t_\n"
        "3\tmar\tmar\tNOUN\t_\t_\t1\tobl\t_\t_\n\n",
        encoding="utf-8",
    )
    assert _ud_gold(path) == [["VERB", "PRON", "NOUN"]]


# --------------------------------------------------------------------------- official test vectors


def _tagging_cases() -> list[Any]:
    expected = VECTORS / "tagging" / "expected.json"
    if not expected.is_file():
        return [pytest.param(None, id="no-shared-testvectors")]
    cases = json.loads(expected.read_text(encoding="utf-8"))
    return [pytest.param(c, id=f"{c['task']}-{c['language']}") for c in cases]


@pytest.mark.realdata
@pytest.mark.parametrize("case", _tagging_cases())
def test_tagging_testvector(case: dict[str, Any] | None) -> None:
    if case is None:
        pytest.skip(f"shared test vectors not found at {VECTORS}")
    gold_path = REPO / case["gold"]
    if not gold_path.is_file():
        pytest.skip(f"gold file {gold_path} not found")
    gold = _ud_gold(gold_path) if case["task"] == "udpos" else _uner_gold(gold_path)
    pred = read_tag_predictions(VECTORS / case["predictions"])
    out = seqeval_scores(gold, pred)
    assert out["f1"] == pytest.approx(case["seqeval_f1"], abs=1e-6)
    assert out["precision"] == pytest.approx(case["seqeval_precision"], abs=1e-6)
    assert out["recall"] == pytest.approx(case["seqeval_recall"], abs=1e-6)
    assert out["accuracy"] == pytest.approx(case["token_accuracy"], abs=1e-6)
