"""UD-POS: Universal Dependencies part-of-speech tagging in XTREME's 33 languages; trained on English UD."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.conllu import UPOS_TAGS, read_conllu_files
from xstilts.data.domains import file_codes
from xstilts.data.schema import Example
from xstilts.formats.tagging import hub_tag_row
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.registry import register

#: language code -> the English name in google/xtreme's ``udpos.<Name>`` configs
LANGUAGE_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "kk": "Kazakh", "ko": "Korean", "mr": "Marathi", "nl": "Dutch", "pt": "Portuguese", "ru": "Russian",
    "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "ur": "Urdu",
    "vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese",
}  # fmt: skip
LANGUAGES = tuple(sorted(LANGUAGE_NAMES))


def treebank_files(folder: Path, lang: str, split: str, ext: str) -> list[Path]:
    """``<lang>_<treebank>-ud-<split>.<ext>`` anywhere under ``folder`` (flat, or the UD release tree).

    The language may be written in ISO 639-3 (``nob_norne`` for nb), as some treebanks name it.
    """
    found = {p for code in file_codes(lang) for p in folder.rglob(f"{code}_*-ud-{split}.{ext}") if p.is_file()}
    return sorted(found, key=lambda p: (p.name, str(p)))


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """All treebanks of a language and split, concatenated (in file-name order), as XTREME does."""
    paths = treebank_files(folder, lang, split, "conllu")
    if not paths:
        return None
    return list(read_conllu_files(paths, UPOS_TAGS)), paths


TASK = Task(
    name="udpos",
    format="tagging",
    role="target",
    languages=LANGUAGES,
    splits={"train": True, "dev": True, "test": True},
    metric="f1",
    description=(
        "UD-POS: the 17 UPOS tags; all UD treebanks of a language and split concatenated. Metric: XTREME's "
        "seqeval F1 on bare POS tags, with token accuracy beside."
    ),
    citation="Nivre et al. Universal Dependencies v2. LREC 2020; XTREME uses UD v2.5.",
    train_size=12543,
    labels=UPOS_TAGS,
    hub=HubSource(
        dataset="google/xtreme",
        revision="ec5f1f46e9af79639a90684a7a70a956c4998f04",
        config="udpos.{Lang}",
        splits={"dev": "validation"},
        row=hub_tag_row("pos_tags", UPOS_TAGS),
        language_names=LANGUAGE_NAMES,
    ),
    release=read_release,
    train_task="udpos",
    xtreme_group="structured prediction",
    xtreme_order=3,
    defaults={"train.epochs": 10, "train.batch_size": 32},
)
register(TASK)
