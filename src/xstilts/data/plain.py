"""Plain-named files (``<task>/<lang>.<split>.<ext>``): numbered rows, each turned into an example.

The format owns the conversion of one row (``xstilts.formats``); this module owns what is common to
every format: reading the rows with line numbers, and refusing a file whose rows disagree about
whether they carry a label.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xstilts.data.files import read_records
from xstilts.data.schema import DataError, Example

LABEL_COLUMNS = ("label", "gold_label", "is_duplicate", "answerKey", "tags", "ner_tags", "pos_tags")

#: labels that mean "unlabeled" in the releases (SNLI's "-", GLUE test's -1)
UNLABELED = {"-", "-1", "", "None"}

#: (task, row, path, line, index) -> an example, or None to skip the row
RowConverter = Callable[[Any, dict[str, Any], Path, int, int], "Example | None"]


def read_rows(task: Any, path: Path, convert: RowConverter) -> list[Any]:
    """Every row of one plain-named file through ``convert``; rows must agree on having a label."""
    out: list[Any] = []
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


def _has_label_field(ex: Any, row: dict[str, Any]) -> bool:
    """Whether the row carried a label column at all (an explicit unlabeled marker still counts)."""
    return getattr(ex, "label", None) is not None or any(k in row for k in LABEL_COLUMNS)
