"""M2QA: extractive QA in German, Turkish and Chinese across domains (news, product reviews, creative writing).

The release is JSON Lines, one file per language and domain (``de.news.jsonl``); questions are SQuAD 2.0
style (about 60% answerable) and scored as SQuAD 2.0. Every file is one domain of the ``test`` split;
ids repeat across files, so each id is prefixed with its domain.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.data.domains import DOMAIN, file_codes
from xstilts.data.schema import Example
from xstilts.tasks.base import Task
from xstilts.tasks.registry import register


def domain_files(folder: Path, lang: str) -> list[tuple[str, Path]]:
    """``<lang>.<domain>.jsonl`` files of a language (any code it may be written in), as (domain, path)."""
    found = []
    for code in file_codes(lang):
        for path in sorted(folder.glob(f"{code}.*.jsonl")):
            domain = path.name[len(code) + 1 : -len(".jsonl")]
            if domain and "." not in domain and domain not in TASK.splits:
                found.append((domain, path))
    return found


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """All domain files of a language, concatenated in domain order: the ``test`` split."""
    files = domain_files(folder, lang) if split == "test" else []
    if not files:
        return None
    out: list[Example] = []
    for domain, path in files:
        for ex in TASK.fmt.read_file(TASK, path):
            ex.id = f"{domain}/{ex.id}"
            ex.meta[DOMAIN] = domain
            out.append(ex)
    return out, [p for _, p in files]


TASK = Task(
    name="m2qa",
    format="qa",
    role="evaluation",
    languages=("de", "tr", "zh"),
    splits={"test": True},
    metric="f1",
    metric_variant="squad_v2",
    description=(
        "M2QA: extractive QA (SQuAD 2.0 style, with no-answer questions) in de/tr/zh over news, product "
        "reviews and creative writing; one file per language and domain. Local files only."
    ),
    citation="Englaender et al. M2QA: Multi-domain Multilingual Question Answering. Findings of EMNLP 2024.",
    release=read_release,
    train_task="squad_v2",
)
register(TASK)
