"""PAN-X (WikiANN) NER in XTREME's 40 languages: PER / ORG / LOC in IOB2; trained on English PAN-X."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.iob2 import NER_LABELS, read_iob2
from xstilts.data.schema import Example
from xstilts.formats.tagging import hub_tag_row
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.registry import register

LANGUAGES = (
    "af", "ar", "bg", "bn", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id",
    "it", "ja", "jv", "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl", "pt", "ru", "sw", "ta", "te", "th",
    "tl", "tr", "ur", "vi", "yo", "zh",
)  # fmt: skip


def release_path(folder: Path, lang: str, split: str) -> Path | None:
    """The first PAN-X layout present: the unpacked WikiANN archive ``<lang>/<split>``, XTREME's
    intermediate ``<lang>-<split>``, or its prepared ``<split>-<lang>.tsv``."""
    candidates = [
        folder / lang / split,
        folder / lang / f"{split}.tsv",
        folder / f"{lang}-{split}",
        folder / f"{split}-{lang}.tsv",
        folder / f"{split}-{lang}",
    ]
    return next((p for p in candidates if p.is_file()), None)


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """``token<TAB>tag`` lines, blank line between sentences; a ``<lang>:`` token prefix is removed."""
    path = release_path(folder, lang, split)
    if path is None:
        return None
    return list(read_iob2(path, NER_LABELS, lang=lang)), [path]


TASK = Task(
    name="panx",
    format="tagging",
    role="target",
    languages=LANGUAGES,
    splits={"train": True, "dev": True, "test": True},
    metric="f1",
    description="PAN-X / WikiANN NER (Rahimi et al. splits): PER, ORG, LOC in IOB2; entity F1 (seqeval).",
    citation="Pan et al. Cross-lingual Name Tagging and Linking for 282 Languages. ACL 2017; Rahimi, Li, Cohn. ACL 2019.",
    train_size=20000,
    labels=NER_LABELS,
    hub=HubSource(
        dataset="google/xtreme",
        revision="ec5f1f46e9af79639a90684a7a70a956c4998f04",
        config="PAN-X.{lang}",
        splits={"dev": "validation"},
        row=hub_tag_row("ner_tags", NER_LABELS),
    ),
    release=read_release,
    train_task="panx",
    xtreme_group="structured prediction",
    xtreme_order=4,
    defaults={"train.epochs": 10, "train.batch_size": 32},
)
register(TASK)
