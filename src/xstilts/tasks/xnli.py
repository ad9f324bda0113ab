"""XNLI: MNLI-style NLI in 15 languages; zero-shot target trained on English MNLI."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_delimited
from xstilts.data.schema import Example
from xstilts.formats.classification import classification_row
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.common import NLI_ALIASES, NLI_LABELS, pair_row
from xstilts.tasks.registry import register

LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
RELEASE_KEEP = ("sentence1", "sentence2", "gold_label", "genre", "pairID", "promptID")


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """XNLI-1.0 ``xnli.{dev,test}.tsv``: all languages in one file, selected by its ``language`` column."""
    candidates = [folder / f"xnli.{split}.tsv", folder / "XNLI-1.0" / f"xnli.{split}.tsv"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        return None
    out: list[Example] = []
    for i, (line, row) in enumerate(read_delimited(path)):
        if row.get("language") != lang:
            continue
        ex = classification_row(TASK, {k: row[k] for k in RELEASE_KEEP if k in row}, path, line, i)
        if ex is not None:
            out.append(ex)
    return (out, [path]) if out else None


TASK = Task(
    name="xnli",
    format="classification",
    role="target",
    languages=LANGUAGES,
    splits={"train": True, "dev": True, "test": True},
    metric="accuracy",
    description="Cross-lingual NLI (XNLI 1.0): MNLI dev/test translated into 14 languages; genre kept.",
    citation="Conneau et al. XNLI: Evaluating Cross-lingual Sentence Representations. EMNLP 2018.",
    labels=NLI_LABELS,
    label_aliases=NLI_ALIASES,
    hub=HubSource(
        dataset="facebook/xnli",
        revision="b8dd5d7af51114dbda02c0e3f6133f332186418e",
        config="{lang}",
        splits={"dev": "validation"},
        row=pair_row("premise", "hypothesis", "label", NLI_LABELS),
    ),
    release=read_release,
    train_task="mnli",
    slice_fields=("genre",),
    xtreme_group="classification",
    xtreme_order=1,
    defaults={"train.epochs": 2, "train.batch_size": 32},
)
register(TASK)
