"""MasakhaNER 1.0 and 2.0: news NER in 21 African languages; evaluated zero-shot with a PER/LOC/ORG model.

Release files are ``<iso3>.{train,dev,test}.txt`` (``token tag`` per line, a blank line between
sentences); file names use ISO 639-3, read here as the ISO 639-1 code where one exists. DATE is outside
the PAN-X / Universal NER label set, so it is read as ``O`` (recorded in every result).
"""

from __future__ import annotations

from pathlib import Path

from xstilts.data.domains import file_codes
from xstilts.data.iob2 import NER_LABELS, read_iob2
from xstilts.data.schema import Example
from xstilts.tasks.base import Task
from xstilts.tasks.registry import register

#: 1.0's amh hau ibo kin lug luo pcm swa wol yor and 2.0's bam bbj ewe fon mos nya sna tsn twi xho zul, as
#: ISO 639-1 where it exists (bbj, fon, luo, mos and pcm have none)
LANGUAGES = ("am", "bbj", "bm", "ee", "fon", "ha", "ig", "lg", "luo", "mos", "ny", "pcm", "rw", "sn", "sw", "tn",
             "tw", "wo", "xh", "yo", "zu")  # fmt: skip
LABEL_MAP = {"DATE": "O"}


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    for code in file_codes(lang):
        path = folder / f"{code}.{split}.txt"
        if path.is_file():
            return list(read_iob2(path, NER_LABELS, label_map=LABEL_MAP)), [path]
    return None


TASK = Task(
    name="masakhaner",
    format="tagging",
    role="evaluation",
    languages=LANGUAGES,
    splits={"train": True, "dev": True, "test": True},
    metric="f1",
    description=(
        "MasakhaNER 1.0/2.0: news NER (PER/LOC/ORG; DATE read as O) in 21 African languages; seqeval F1. "
        "Local files only; evaluated with a PER/LOC/ORG model (PAN-X or Universal NER English)."
    ),
    citation=(
        "Adelani et al. MasakhaNER: Named Entity Recognition for African Languages. TACL 2021; Adelani et al. "
        "MasakhaNER 2.0: Africa-centric Transfer Learning for Named Entity Recognition. EMNLP 2022."
    ),
    labels=NER_LABELS,
    release=read_release,
    train_task="panx",
    domain="news",
    label_map=LABEL_MAP,
)
register(TASK)
