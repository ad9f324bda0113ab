"""Plain-named files (``<task>/<lang>.<split>.<ext>``): rows with the column names of CONTRACTS.md.

One converter per format turns a row into an example. Labels are matched by name, never by position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from xstilts.data.files import read_records, require
from xstilts.data.schema import ClassificationExample, DataError, Example
from xstilts.tasks.base import Task

#: (first text, second text) column pairs accepted for classification, first match wins
TEXT_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("premise", "hypothesis"),
    ("context", "statement"),
    ("context", "hypothesis"),
    ("sentence1", "sentence2"),
    ("question1", "question2"),
    ("sentence", None),
    ("text", None),
)
LABEL_COLUMNS = ("label", "gold_label", "is_duplicate", "answerKey", "tags", "ner_tags", "pos_tags")

#: labels that mean "unlabeled" in the releases (SNLI's "-", GLUE test's -1)
UNLABELED = {"-", "-1", "", "None"}

RowConverter = Callable[[Task, dict[str, Any], Path, int, int], "Example | None"]


def classification_row(task: Task, row: dict[str, Any], path: Path, line: int, index: int) -> ClassificationExample | None:
    pair = next(((a, b) for a, b in TEXT_COLUMNS if a in row and (b is None or b in row)), None)
    if pair is None:
        wanted = "; ".join(f"{a}, {b}" if b else a for a, b in TEXT_COLUMNS)
        raise DataError(path, line, f"text columns for a {task.name} row ({wanted}); the row has {', '.join(row)}")
    a, b = pair
    lab = next((c for c in LABEL_COLUMNS if c in row), "label")
    text_a = row[a]
    text_b = row[b] if b else None
    raw_label = row.get(lab)
    label = None
    if raw_label is not None and str(raw_label).strip() not in UNLABELED:
        label = task.canonical_label(str(raw_label))
        if label is None:
            allowed = ", ".join(task.labels or ())
            raise DataError(path, line, f"a label in {{{allowed}}} (or an alias), found {raw_label!r}")
    if not isinstance(text_a, str) or (b and not isinstance(text_b, str)):
        raise DataError(path, line, f"text in columns {a}" + (f" and {b}" if b else ""))
    used = {a, b, lab}
    meta = {k: v for k, v in row.items() if k not in used and k not in {"id", "uid", "pairID"}}
    ex_id = str(row.get("id") or row.get("uid") or row.get("pairID") or f"{path.stem}-{index}")
    return ClassificationExample(id=ex_id, text_a=text_a, text_b=text_b, label=label, meta=meta)


def classification_rows(task: Task, rows: Iterable[tuple[int, dict[str, Any]]], path: Path) -> list[Example]:
    """Release files: numbered rows through :func:`classification_row`, skipping nothing but None."""
    out = (classification_row(task, row, path, line, i) for i, (line, row) in enumerate(rows))
    return [ex for ex in out if ex is not None]


CONVERTERS: dict[str, RowConverter] = {"classification": classification_row}


def register_converter(fmt: str, fn: RowConverter) -> None:
    CONVERTERS[fmt] = fn


def read_plain(task: Task, path: Path) -> list[Example]:
    """Read one plain-named file into examples of the task's format."""
    try:
        convert = CONVERTERS[task.format]
    except KeyError:
        raise DataError(path, None, f"no plain-file reader for the {task.format} format") from None
    out: list[Example] = []
    labeled: bool | None = None
    for index, (line, row) in enumerate(read_records(path)):
        ex = convert(task, row, path, line, index)
        if ex is None:
            continue
        has = _has_label_field(ex, row)
        if labeled is None:
            labeled = has
        elif has != labeled:
            what = "a label column, as the rows before it have" if labeled else "no label column, as the rows before"
            raise DataError(path, line, what)
        out.append(ex)
    return out


def _has_label_field(ex: Example, row: dict[str, Any]) -> bool:
    """Whether the row carried a label column at all (an explicit unlabeled marker still counts)."""
    return getattr(ex, "label", None) is not None or any(k in row for k in LABEL_COLUMNS)


__all__ = ["read_plain", "register_converter", "require"]
