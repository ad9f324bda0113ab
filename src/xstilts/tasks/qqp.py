"""Quora Question Pairs: binary duplicate-question detection, an intermediate task of the paper."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_delimited
from xstilts.data.schema import Example
from xstilts.formats.classification import classification_rows
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.common import BINARY_LABELS, pair_row
from xstilts.tasks.registry import register


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """GLUE's ``QQP/{train,dev,test}.tsv`` (columns id, qid1, qid2, question1, question2, is_duplicate)."""
    path = folder / f"{split}.tsv"
    if lang != "en" or not path.is_file():
        return None
    rows = read_delimited(path)
    return classification_rows(TASK, rows, path), [path]


TASK = Task(
    name="qqp",
    format="classification",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True, "test": False},
    metric="accuracy",
    description="Quora Question Pairs (GLUE): is question 2 a duplicate of question 1? Labels 0/1.",
    citation="Iyer, Dandekar, Csernai. First Quora Dataset Release: Question Pairs. 2017.",
    train_size=363846,
    labels=BINARY_LABELS,
    label_aliases={"not_duplicate": "0", "duplicate": "1"},
    hub=HubSource(
        dataset="nyu-mll/glue",
        revision="bcdcba79d07bc864c1c254ccfcedcce55bcc9a8c",
        config="qqp",
        splits={"dev": "validation"},
        row=pair_row("question1", "question2", "label", BINARY_LABELS, id_field="idx"),
    ),
    release=read_release,
)
register(TASK)
