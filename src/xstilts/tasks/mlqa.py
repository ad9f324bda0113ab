"""MLQA: extractive QA in 7 languages (same-language context and question); trained on SQuAD v1.1."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.schema import Example
from xstilts.data.squad import hub_qa_row, read_squad
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.registry import register

LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """``{dev,test}-context-<lang>-question-<lang>.json``, flat or in the release's ``MLQA_V1/<split>/``."""
    name = f"{split}-context-{lang}-question-{lang}.json"
    for path in (folder / name, folder / "MLQA_V1" / split / name, folder / split / name):
        if split in ("dev", "test") and path.is_file():
            return list(read_squad(path)), [path]
    return None


TASK = Task(
    metric_variant="mlqa",
    name="mlqa",
    format="qa",
    role="target",
    languages=LANGUAGES,
    splits={"dev": True, "test": True},
    metric="f1",
    description="MLQA (same-language pairs): F1 with EM beside, scored with MLQA's own normalisation.",
    citation="Lewis, Oguz, Rinott, Riedel, Schwenk. MLQA: Evaluating Cross-lingual Extractive Question Answering. ACL 2020.",
    hub=HubSource(
        dataset="facebook/mlqa",
        revision="main",
        unpinned_reason="main's Parquet conversion not seen merged; google/xtreme's MLQA configs are pinned",
        config="mlqa.{lang}.{lang}",
        splits={"dev": "validation"},
        row=hub_qa_row,
    ),
    release=read_release,
    train_task="squad",
    xtreme_group="question answering",
    xtreme_order=6,
    defaults={"train.epochs": 2, "train.batch_size": 16, "train.max_length": 384},
)
register(TASK)
