"""Example types shared by readers (which produce them) and formats (which consume them).

Each format has one example type. Readers never know about tokenisers or heads; formats never know
about files. ``meta`` keeps per-example fields such as XNLI's genre so metrics can be sliced by them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClassificationExample:
    """A single sentence (``text_b`` None) or a sentence pair with a label name (None if unlabeled)."""

    id: str
    text_a: str
    text_b: str | None
    label: str | None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class MultipleChoiceExample:
    """A context (and optional question) with candidate endings; ``label`` is the gold index."""

    id: str
    context: str
    question: str
    choices: list[str]
    label: int | None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class QAExample:
    """Extractive QA: ``answers`` are (text, char start); empty for an unanswerable question."""

    id: str
    context: str
    question: str
    answers: list[tuple[str, int]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_impossible(self) -> bool:
        return not self.answers


@dataclass
class TaggingExample:
    """A sentence of words with one tag per word (``tags`` None if unlabeled)."""

    id: str
    tokens: list[str]
    tags: list[str] | None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParallelCorpus:
    """Two sides of a retrieval task; ``gold`` pairs source ids with target ids."""

    src_ids: list[str]
    src: list[str]
    tgt_ids: list[str]
    tgt: list[str]
    gold: list[tuple[str, str]]
    src_lang: str
    tgt_lang: str = "en"


Example = ClassificationExample | MultipleChoiceExample | QAExample | TaggingExample


class DataError(ValueError):
    """Bad input data: the message names the file, the line and what was expected."""

    def __init__(self, path: object, line: int | None, expected: str) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {expected}")
        self.path = path
        self.line = line
        self.expected = expected
