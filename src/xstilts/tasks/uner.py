"""Universal NER v1: PER / ORG / LOC on UD sentences (PUD and others); zero-shot evaluation after PAN-X."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.conllu import join_files
from xstilts.data.iob2 import NER_LABELS, read_iob2
from xstilts.data.schema import Example
from xstilts.tasks.base import Task
from xstilts.tasks.registry import register
from xstilts.tasks.udpos import treebank_files

#: the languages of the Universal NER v1 treebanks (ceb_gja, da_ddt, de_pud, en_ewt, en_pud, hr_set,
#: nob_norne, nno_norne, pt_bosque, pt_pud, ru_pud, sk_snk, sr_set, sv_pud, sv_talbanken, tl_trg,
#: tl_ugnayan, zh_gsd, zh_gsdsimp, zh_pud)
LANGUAGES = ("ceb", "da", "de", "en", "hr", "nb", "nn", "pt", "ru", "sk", "sr", "sv", "tl", "zh")
#: UNER's other types (``OTH``, hr_set) and NorNE's unconverted ``-`` are not PER/LOC/ORG: read as ``O``
LABEL_MAP = {"OTH": "O", "-": "O"}


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """``<lang>_<treebank>-ud-<split>.iob2``; several treebanks of a language are concatenated."""
    paths = treebank_files(folder, lang, split, "iob2")
    if not paths:
        return None
    return join_files((p, read_iob2(p, NER_LABELS, label_map=LABEL_MAP)) for p in paths), paths


TASK = Task(
    name="uner",
    format="tagging",
    role="evaluation",
    languages=LANGUAGES,
    splits={"train": True, "dev": True, "test": True},
    metric="f1",
    description=(
        "Universal NER v1 (PER/ORG/LOC, the PAN-X label set) on UD treebanks; PUD (de, en, pt, ru, sv, zh) is "
        "test only and parallel across languages. Local files only; evaluated with a PAN-X-trained model."
    ),
    citation="Mayhew et al. Universal NER: A Gold-Standard Multilingual Named Entity Recognition Benchmark. NAACL 2024.",
    labels=NER_LABELS,
    release=read_release,
    train_task="panx",
    label_map=LABEL_MAP,
)
register(TASK)
