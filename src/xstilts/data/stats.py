"""Size of a task's data per language and split: examples, sentences and tokens.

Tokens are whitespace tokens of the raw text (words for tagging), so the counts describe the data
itself and do not depend on any model's tokenizer. For retrieval tasks an example is a gold pair.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from xstilts.data.load import Source, available_languages, load_split
from xstilts.data.schema import DataError


@dataclass
class SplitStats:
    language: str
    split: str
    examples: int
    labeled: int
    sentences: int
    tokens: int
    source: str


def split_stats(task: Source, lang: str, split: str, data_dir: str | Path | None) -> SplitStats:
    """Counts of one split, as its format counts them (a retrieval example is a gold pair)."""
    loaded = load_split(task, lang, split, data_dir)
    c = task.fmt.counts(loaded.examples)
    return SplitStats(lang, split, c.examples, c.labeled, c.sentences, c.tokens, loaded.source)


def task_stats(task: Source, data_dir: str | Path | None) -> tuple[list[SplitStats], list[str]]:
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
