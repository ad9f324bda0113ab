"""Sequence-tagging scores as XTREME computes them, and the plain-text prediction format.

XTREME scores NER *and* POS with seqeval's entity F1 in default mode, so the published POS numbers
are a chunk F1 over bare UPOS tags (seqeval reads their first letter as a chunk prefix), not token
accuracy. We call seqeval itself rather than re-implementing its chunking quirks, and report token
accuracy beside it.

Prediction file format: one tag per line, in gold token order, and a blank line after each sentence.
Reading rules (chosen so a bad file fails loudly instead of shifting every later tag):

- a line is stripped of surrounding whitespace (so CRLF and stray trailing spaces are harmless);
- an empty (or whitespace-only) line ends the current sentence; several in a row count as one, and
  trailing blank lines at the end of the file are ignored. Empty sentences therefore cannot be written;
- a line that still contains whitespace after stripping (``B-PER O``, ``tok\\tNOUN``) is an error that
  names the file and line: it looks like a multi-column file, and guessing a column would hide bugs.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from seqeval.metrics import f1_score, precision_score, recall_score

from xstilts.data.files import numbered_lines
from xstilts.data.schema import DataError
from xstilts.paths import atomic_write_text


def _check_lengths(gold: list[list[str]], pred: list[list[str]]) -> None:
    """Refuse misaligned input: seqeval would silently mis-pair tokens across sentence borders."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences but predictions have {len(pred)}")
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags but prediction has {len(p)}")


def seqeval_scores(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    """XTREME's NER/POS score: seqeval F1/precision/recall (default mode) plus token accuracy, 0-100."""
    _check_lengths(gold, pred)
    n_tokens = sum(len(g) for g in gold)
    if n_tokens == 0:
        raise ValueError("no tokens to score")
    correct = sum(gt == pt for g, p in zip(gold, pred, strict=True) for gt, pt in zip(g, p, strict=True))
    with warnings.catch_warnings():
        # Bare POS tags (ADV, NUM, ...) make seqeval warn once per tag; that reading is intended here.
        warnings.filterwarnings("ignore", message=r".* seems not to be NE tag\.", category=UserWarning)
        # No predicted (or no gold) chunks: seqeval scores 0, as XTREME's evaluate.py reports it.
        warnings.filterwarnings("ignore", message=r".* is ill-defined and being set to 0\.0")
        scores = {
            "f1": 100.0 * f1_score(gold, pred),
            "precision": 100.0 * precision_score(gold, pred),
            "recall": 100.0 * recall_score(gold, pred),
        }
    return {**scores, "accuracy": 100.0 * correct / n_tokens}


def read_tag_predictions(path: str | Path) -> list[list[str]]:
    """Sentences of tags from a one-tag-per-line file (rules in the module docstring)."""
    return [tags for _, tags in read_tag_sentences(path)]


def read_tag_sentences(path: str | Path) -> list[tuple[int, list[str]]]:
    """Each sentence of a prediction file with the line it starts on (for errors that name it)."""
    sentences: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for lineno, raw in numbered_lines(Path(path)):
        tag = raw.strip()
        if not tag:
            if current:
                sentences.append((start, current))
                current = []
            continue
        if len(tag.split()) != 1:
            raise DataError(path, lineno, f"a single tag on the line, found {raw.rstrip()!r}")
        if not current:
            start = lineno
        current.append(tag)
    if current:
        sentences.append((start, current))
    return sentences


def write_tag_predictions(path: str | Path, tags: list[list[str]]) -> None:
    """Write sentences of tags so that :func:`read_tag_predictions` reads back exactly the same."""
    lines: list[str] = []
    for i, sentence in enumerate(tags):
        if not sentence:
            raise ValueError(f"sentence {i} is empty; the format cannot represent empty sentences")
        for tag in sentence:
            if not tag or len(tag.split()) != 1 or tag != tag.strip():
                raise ValueError(f"sentence {i}: tag {tag!r} is empty or contains whitespace")
        lines.extend(sentence)
        lines.append("")
    atomic_write_text(Path(path), "".join(line + "\n" for line in lines))
