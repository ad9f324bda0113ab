"""Cosmos QA: commonsense reading comprehension with 4 answers; an intermediate task of the paper."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_records
from xstilts.data.schema import Example
from xstilts.formats.multiple_choice import choice_row, hub_choice_row
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.registry import register

RELEASE_FILES = {"train": ("train.csv",), "dev": ("valid.csv",), "test": ("test.jsonl",)}


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """The release's ``train.csv`` / ``valid.csv`` (id, context, question, answer0..answer3, label), ``test.jsonl``."""
    if lang != "en":
        return None
    for name in RELEASE_FILES.get(split, ()):
        path = folder / name
        if path.is_file():
            return [choice_row(TASK, row, path, line, i) for i, (line, row) in enumerate(read_records(path))], [path]
    return None


TASK = Task(
    name="cosmosqa",
    format="multiple_choice",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True, "test": False},
    metric="accuracy",
    description="Cosmos QA: a passage and a question with 4 candidate answers; test labels are hidden.",
    citation="Huang, Le Bras, Bhagavatula, Choi. Cosmos QA: Machine Reading Comprehension with Contextual Commonsense Reasoning. EMNLP 2019.",
    train_size=25262,
    hub=HubSource(
        dataset="allenai/cosmos_qa",
        revision="main",
        unpinned_reason="main holds only a loading script (Parquet only on refs/convert/parquet)",
        splits={"dev": "validation"},
        row=hub_choice_row,
    ),
    release=read_release,
)
register(TASK)
