"""Tatoeba (XTREME's LASER test pairs): top-1 sentence retrieval xx -> en in 36 languages, no training."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.retrieval import TATOEBA_ISO3, hub_tatoeba_row, read_tatoeba, tatoeba_files
from xstilts.data.schema import ParallelCorpus
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.registry import register

LANGUAGES = tuple(sorted(TATOEBA_ISO3))


def read_release(folder: Path, lang: str, split: str) -> tuple[list[ParallelCorpus], list[Path]] | None:
    """``tatoeba.<iso3>-eng.{<iso3>,eng}``, line-aligned; the split is ``test``. One corpus in a list."""
    files = tatoeba_files(folder, lang)
    if split != "test" or files is None:
        return None
    return [read_tatoeba(*files, lang)], list(files)


TASK = Task(
    name="tatoeba",
    format="retrieval",
    role="target",
    languages=LANGUAGES,
    splits={"test": True},
    metric="accuracy",
    description=(
        "Tatoeba: up to 1,000 xx-en pairs per language; each xx sentence retrieves its nearest en sentence "
        "(top-1 accuracy). A split is one ParallelCorpus, held as the only element of Split.examples."
    ),
    citation="Artetxe, Schwenk. Massively Multilingual Sentence Embeddings for Zero-Shot Cross-Lingual Transfer and Beyond. TACL 2019.",
    hub=HubSource(
        dataset="google/xtreme",
        revision="ec5f1f46e9af79639a90684a7a70a956c4998f04",
        config="tatoeba.{Lang}",
        splits={"test": "validation"},
        row=hub_tatoeba_row,
        language_names=TATOEBA_ISO3,
    ),
    release=read_release,
    eval_split="test",
    xtreme_group="retrieval",
    xtreme_order=9,
)
register(TASK)
