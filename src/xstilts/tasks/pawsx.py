"""PAWS-X: adversarial paraphrase identification in 7 languages; trained on English PAWS-X."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_delimited
from xstilts.data.schema import Example
from xstilts.formats.classification import classification_rows
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.common import BINARY_LABELS, pair_row
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
    train_size=49401,
    labels=BINARY_LABELS,
    label_aliases={"not_paraphrase": "0", "paraphrase": "1"},
    hub=HubSource(
        dataset="google-research-datasets/paws-x",
        # weaker evidence: pinned in public code, no hub page seen (docs/hub_revisions.md)
        revision="4cd8187c404bda33cb1f62b49b001115862acf37",
        config="{lang}",
        splits={"dev": "validation"},
        row=pair_row("sentence1", "sentence2", "label", BINARY_LABELS, id_field="id"),
    ),
    release=read_release,
    train_task="pawsx",
    xtreme_group="classification",
    xtreme_order=2,
    defaults={"train.epochs": 5, "train.batch_size": 32},
)
register(TASK)
