"""CCG supertagging on CCGbank (LDC licence): an English token-tagging intermediate task, local files only."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.iob2 import read_tagged_text
from xstilts.data.schema import Example
from xstilts.tasks.base import Task
from xstilts.tasks.registry import register

#: the standard CCGbank split: WSJ sections 02-21 train, 00 dev, 23 test
SECTIONS = {"train": "wsj_02-21", "dev": "wsj_00", "test": "wsj_23"}
EXTENSIONS = ("stagged", "txt", "tsv", "conll")


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """``wsj_02-21`` / ``wsj_00`` / ``wsj_23`` or ``<split>`` with ext stagged, txt, tsv or conll:
    ``word|tag`` (or ``word|POS|tag``) sentence lines, or ``word<TAB>tag`` columns."""
    if lang != "en":
        return None
    for stem in (SECTIONS.get(split), split):
        for ext in EXTENSIONS:
            path = folder / f"{stem}.{ext}"
            if stem and path.is_file():
                return list(read_tagged_text(path)), [path]
    return None


TASK = Task(
    name="ccg",
    format="tagging",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True, "test": True},
    metric="accuracy",
    description=(
        "CCG supertagging (CCGbank, ~1,363 supertags; the label set is built from the training data). "
        "No hub source: CCGbank is LDC-licensed, so it reads local files only."
    ),
    citation="Hockenmaier, Steedman. CCGbank: A Corpus of CCG Derivations and Dependency Structures Extracted from the Penn Treebank. CL 2007.",
    train_size=39604,
    labels=None,
    release=read_release,
)
register(TASK)
