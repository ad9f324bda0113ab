"""PAWS-X: adversarial paraphrase identification in 7 languages; trained on English PAWS-X."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_delimited
from xstilts.data.plain import classification_rows
from xstilts.data.schema import Example
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.common import BINARY_LABELS, hub_revision, pair_row
from xstilts.tasks.registry import register

LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "zh")
RELEASE_NAMES = {"train": ("train.tsv", "translated_train.tsv"), "dev": ("dev_2k.tsv",), "test": ("test_2k.tsv",)}


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """The PAWS-X release tree ``x-final/<lang>/{train,dev_2k,test_2k}.tsv`` (id, sentence1, sentence2, label)."""
    for base in (folder / "x-final" / lang, folder / lang):
        for name in RELEASE_NAMES.get(split, ()):
            path = base / name
            if path.is_file():
                rows = read_delimited(path)
                return classification_rows(TASK, rows, path), [path]
    return None


TASK = Task(
    name="pawsx",
    format="classification",
    role="target",
    languages=LANGUAGES,
    splits={"train": True, "dev": True, "test": True},
    metric="accuracy",
    description="PAWS-X: paraphrase adversaries from word scrambling, labels 0/1, 7 languages.",
    citation="Yang, Zhang, Tar, Baldridge. PAWS-X: A Cross-lingual Adversarial Dataset for Paraphrase Identification. EMNLP 2019.",
    labels=BINARY_LABELS,
    label_aliases={"not_paraphrase": "0", "paraphrase": "1"},
    hub=HubSource(
        dataset="google-research-datasets/paws-x",
        revision=hub_revision("google-research-datasets/paws-x"),
        config="{lang}",
        splits={"dev": "validation"},
        row=pair_row("sentence1", "sentence2", "label", BINARY_LABELS, id_field="id"),
    ),
    release=read_release,
    train_task="pawsx",
    xtreme=True,
    defaults={"train.epochs": 5, "train.batch_size": 32},
)
register(TASK)
