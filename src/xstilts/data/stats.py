"""Size of a task's data per language and split: examples, sentences and tokens.

Tokens are whitespace tokens of the raw text (words for tagging), so the counts describe the data
itself and do not depend on any model's tokenizer. For retrieval tasks an example is a gold pair.

Besides the counts, the problems met on the way: splits that failed to load, and readings a reader
accepted but a user should know of (IOB2 ``I-`` tags that continue no entity).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from xstilts.data.iob2 import I_WITHOUT_B
from xstilts.data.load import Source, Split, available_languages, load_split
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
    return _counted(task, load_split(task, lang, split, data_dir))


def _counted(task: Source, loaded: Split) -> SplitStats:
    c = task.fmt.counts(loaded.examples)
    return SplitStats(loaded.language, loaded.split, c.examples, c.labeled, c.sentences, c.tokens, loaded.source)


def reader_notes(loaded: Split) -> list[str]:
    """What the readers accepted but counted: I- tags that continue no entity, per split."""
    marked = [ex for ex in loaded.examples if getattr(ex, "meta", {}).get(I_WITHOUT_B)]
    if not marked:
        return []
    total = sum(ex.meta[I_WITHOUT_B] for ex in marked)
    return [
        f"{loaded.source} ({loaded.language}/{loaded.split}): {total} I- tag(s) in {len(marked)} sentence(s) continue "
        f"no entity (after O, at a sentence start or after another type), first at {_where(marked[0])}; read as the "
        "start of an entity, as seqeval does"
    ]


def _where(ex: Any) -> str:
    meta = ex.meta
    return f"{meta['source']}:{meta['line']}" if "source" in meta and "line" in meta else f"sentence {ex.id}"


def task_stats(task: Source, data_dir: str | Path | None) -> tuple[list[SplitStats], list[str]]:
    """Stats for every (language, split) that exists locally, and the problems met on the way."""
    rows: list[SplitStats] = []
    problems: list[str] = []
    for split in task.splits:
        for lang in available_languages(task, split, data_dir):
            try:
                loaded = load_split(task, lang, split, data_dir)
            except DataError as exc:
                problems.append(str(exc))
                continue
            rows.append(_counted(task, loaded))
            problems.extend(reader_notes(loaded))
    return rows, problems


def as_dicts(rows: list[SplitStats]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]
