"""The embedded mini benchmark: small tasks written for xstilts, shipped in the package.

They are their own tasks (``mini_*``), for the demo and tests, never a stand-in for the real ones.
See ``xstilts/mini/DATASHEET.md``.
"""

from __future__ import annotations

from pathlib import Path

import xstilts.mini
from xstilts.data.conllu import UPOS_TAGS
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

NER_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
SPLITS = {"train": True, "dev": True, "test": True}

register(
    Task(
        name="mini_qa",
        format="qa",
        role="mini",
        languages=MINI_LANGUAGES,
        splits=SPLITS,
        metric="f1",
        description="Mini extractive QA: short fictional contexts, English train/dev, test in 9 languages (smoke scale).",
        citation=CITATION,
        builtin_root=ROOT,
        train_task="mini_qa",
        defaults={"train.max_length": 192, "train.doc_stride": 64},
    ),
    Task(
        name="mini_ner",
        format="tagging",
        role="mini",
        languages=MINI_LANGUAGES,
        splits=SPLITS,
        metric="f1",
        description="Mini NER (PER/ORG/LOC, IOB2, the PAN-X label set) in 9 languages (smoke scale).",
        citation=CITATION,
        labels=NER_LABELS,
        builtin_root=ROOT,
        train_task="mini_ner",
    ),
    Task(
        name="mini_pos",
        format="tagging",
        role="mini",
        languages=MINI_LANGUAGES,
        splits=SPLITS,
        metric="f1",
        description="Mini UPOS tagging in 9 languages; scored like XTREME's POS (seqeval F1) with accuracy beside.",
        citation=CITATION,
        labels=UPOS_TAGS,
        builtin_root=ROOT,
        train_task="mini_pos",
    ),
    Task(
        name="mini_mc",
        format="multiple_choice",
        role="mini",
        languages=MINI_LANGUAGES,
        splits=SPLITS,
        metric="accuracy",
        description="Mini commonsense multiple choice, 4 choices, in 9 languages (smoke scale).",
        citation=CITATION,
        builtin_root=ROOT,
        train_task="mini_mc",
    ),
    Task(
        name="mini_parallel",
        format="retrieval",
        role="mini",
        languages=tuple(lang for lang in MINI_LANGUAGES if lang != "en"),
        splits={"test": True},
        metric="accuracy",
        description="Mini parallel sentences (xx <-> en) for Tatoeba-style retrieval (smoke scale).",
        citation=CITATION,
        builtin_root=ROOT,
    ),
)
