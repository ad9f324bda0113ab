"""The embedded mini benchmark: small tasks written for xstilts, shipped in the package.

They are their own tasks (``mini_*``), for the demo and tests, never a stand-in for the real ones.
See ``xstilts/mini/DATASHEET.md``.
"""

from __future__ import annotations

from pathlib import Path

import xstilts.mini
from xstilts.tasks.base import Task
from xstilts.tasks.common import NLI_ALIASES, NLI_LABELS
from xstilts.tasks.registry import register

ROOT = Path(xstilts.mini.__file__).parent / "data"
MINI_LANGUAGES = ("en", "de", "es", "ru", "zh", "ar", "hi", "sw", "tr")
CITATION = "xstilts mini benchmark (written for xstilts; see DATASHEET.md). CC BY 4.0."

register(
    Task(
        name="mini_nli",
        format="classification",
        role="mini",
        languages=MINI_LANGUAGES,
        splits={"train": True, "dev": True, "test": True},
        metric="accuracy",
        description="Mini NLI: English train/dev, a test set translated into 8 languages (smoke scale).",
        citation=CITATION,
        labels=NLI_LABELS,
        label_aliases=NLI_ALIASES,
        builtin_root=ROOT,
        train_task="mini_nli",
        slice_fields=("topic",),
    ),
    Task(
        name="mini_paraphrase",
        format="classification",
        role="mini",
        languages=("en",),
        splits={"train": True, "dev": True},
        metric="accuracy",
        description="Mini paraphrase identification in English: the demo's intermediate task (smoke scale).",
        citation=CITATION,
        labels=("not_paraphrase", "paraphrase"),
        label_aliases={"0": "not_paraphrase", "1": "paraphrase"},
        builtin_root=ROOT,
    ),
)
