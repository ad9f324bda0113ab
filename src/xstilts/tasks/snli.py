"""SNLI: one of the three sources of the ANLI+ intermediate mixture."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_jsonl
from xstilts.data.schema import Example
from xstilts.formats.classification import classification_rows
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.common import NLI_ALIASES, NLI_LABELS, pair_row
from xstilts.tasks.registry import register


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """``snli_1.0_{train,dev,test}.jsonl``; gold label ``-`` (no consensus) becomes unlabeled."""
    path = folder / f"snli_1.0_{split}.jsonl"
    if lang != "en" or not path.is_file():
        return None
    keep = ("sentence1", "sentence2", "gold_label", "pairID", "captionID")
    rows = ((line, {k: r[k] for k in keep if k in r}) for line, r in read_jsonl(path))
    return classification_rows(TASK, rows, path), [path]


TASK = Task(
    name="snli",
    format="classification",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True, "test": True},
    metric="accuracy",
    description="Stanford NLI: 3-way NLI on image captions; rows without a gold label are skipped.",
    citation="Bowman, Angeli, Potts, Manning. A large annotated corpus for learning natural language inference. EMNLP 2015.",
    train_size=549367,
    labels=NLI_LABELS,
    label_aliases=NLI_ALIASES,
    hub=HubSource(
        dataset="stanfordnlp/snli",
        revision="cdb5c3d5eed6ead6e5a341c8e56e669bb666725b",
        config="plain_text",
        splits={"dev": "validation"},
        row=pair_row("premise", "hypothesis", "label", NLI_LABELS),
    ),
    release=read_release,
)
register(TASK)
