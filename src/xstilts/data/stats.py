"""Size of a task's data per language and split: examples, sentences and tokens.

Tokens are whitespace tokens of the raw text (words for tagging), so the counts describe the data
itself and do not depend on any model's tokenizer. For retrieval tasks an example is a gold pair.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from xstilts.data.load import available_languages, load_split
from xstilts.data.schema import (
    ClassificationExample,
    DataError,
    MultipleChoiceExample,
    ParallelCorpus,
    QAExample,
    TaggingExample,
    has_gold,
)
from xstilts.tasks.base import Task


@dataclass
class SplitStats:
    language: str
    split: str
    examples: int
    labeled: int
    sentences: int
    tokens: int
    source: str


def _texts(ex: object) -> list[str]:
    """The distinct texts an example contributes (a QA context is counted once per context)."""
    if isinstance(ex, ClassificationExample):
        return [t for t in (ex.text_a, ex.text_b) if t]
    if isinstance(ex, MultipleChoiceExample):
        return [t for t in (ex.context, ex.question, *ex.choices) if t]
    if isinstance(ex, QAExample):
        return [ex.question]
    raise TypeError(type(ex).__name__)


def split_stats(task: Task, lang: str, split: str, data_dir: str | Path | None) -> SplitStats:
    loaded = load_split(task, lang, split, data_dir)
    examples = loaded.examples
    if examples and isinstance(examples[0], ParallelCorpus):
        corpora: list[ParallelCorpus] = examples  # type: ignore[assignment]
        pairs = sum(len(c.gold) for c in corpora)
        sides = [t for c in corpora for t in (*c.src, *c.tgt)]
        return SplitStats(lang, split, pairs, pairs, len(sides), sum(len(t.split()) for t in sides), loaded.source)
    if examples and isinstance(examples[0], TaggingExample):
        words = sum(len(ex.tokens) for ex in examples)  # type: ignore[union-attr]
        return SplitStats(lang, split, len(examples), sum(map(has_gold, examples)), len(examples), words, loaded.source)
    texts = [t for ex in examples for t in _texts(ex)]
    contexts = list(dict.fromkeys(ex.context for ex in examples if isinstance(ex, QAExample)))
    texts += contexts
    return SplitStats(lang, split, len(examples), sum(map(has_gold, examples)), len(texts), sum(len(t.split()) for t in texts), loaded.source)


def task_stats(task: Task, data_dir: str | Path | None) -> tuple[list[SplitStats], list[str]]:
    """Stats for every (language, split) that exists locally, and the problems met on the way."""
    rows: list[SplitStats] = []
    problems: list[str] = []
    for split in task.splits:
        for lang in available_languages(task, split, data_dir):
            try:
                rows.append(split_stats(task, lang, split, data_dir))
            except DataError as exc:
                problems.append(str(exc))
    return rows, problems


def as_dicts(rows: list[SplitStats]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]
