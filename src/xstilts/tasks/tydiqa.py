"""TyDiQA-GoldP: gold-passage QA in 9 languages; trained on its English train set, evaluated on dev."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xstilts.data.schema import Example, QAExample
from xstilts.data.squad import TYDIQA_PREFIXES, hub_qa_row, read_squad, tydiqa_language
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.registry import register

LANGUAGES = ("ar", "bn", "en", "fi", "id", "ko", "ru", "sw", "te")


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """Per-language files first (``tydiqa-goldp-dev-<lang>.json``, the dev archive's
    ``tydiqa-goldp-dev-<language name>.json``, XTREME's ``tydiqa.<lang>.<split>.json``), else the mixed
    ``tydiqa-goldp-v1.1-<split>.json`` filtered by the language prefix of each id (``arabic-...``).
    """
    if split not in ("train", "dev"):
        return None
    name = TYDIQA_PREFIXES.get(lang, lang)
    singles = [f"tydiqa-goldp-{split}-{lang}.json", f"tydiqa-goldp-{split}-{name}.json", f"tydiqa.{lang}.{split}.json"]
    for base in (folder, folder / f"tydiqa-goldp-v1.1-{split}"):
        for single in singles:
            if (base / single).is_file():
                return list(read_squad(base / single)), [base / single]
    for base in (folder, folder / f"tydiqa-goldp-v1.1-{split}"):
        mixed = base / f"tydiqa-goldp-v1.1-{split}.json"
        if mixed.is_file():
            found = read_squad(mixed, keep=lambda qid: tydiqa_language(qid) == lang)
            return (list(found), [mixed]) if found else None
    return None


def hub_row(row: Mapping[str, Any], lang: str, i: int) -> QAExample | None:
    """google-research-datasets/tydiqa ``secondary_task`` rows hold every language: keep ``lang``'s."""
    if tydiqa_language(str(row.get("id", ""))) != lang:
        return None
    return hub_qa_row(row, lang, i)


TASK = Task(
    name="tydiqa",
    format="qa",
    role="target",
    languages=LANGUAGES,
    splits={"train": True, "dev": True},
    metric="f1",
    description="TyDiQA-GoldP: QA on gold passages; English train (3,696), dev in 9 languages (no public test); F1 with EM beside.",
    citation="Clark et al. TyDi QA: A Benchmark for Information-Seeking Question Answering in Typologically Diverse Languages. TACL 2020.",
    train_size=3696,
    hub=HubSource(
        dataset="google-research-datasets/tydiqa",
        revision="da78f23f9119363459acbaf46bf89426ff26c259",
        config="secondary_task",
        splits={"dev": "validation"},
        row=hub_row,
    ),
    release=read_release,
    train_task="tydiqa",
    eval_split="dev",
    xtreme_group="question answering",
    xtreme_order=7,
    defaults={"train.epochs": 2, "train.batch_size": 16, "train.max_length": 384},
)
register(TASK)
