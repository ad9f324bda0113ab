"""Plain-named files (``<task>/<lang>.<split>.<ext>``): numbered rows, each turned into an example.

The format owns the conversion of one row (``xstilts.formats``); this module owns what is common to
every format: reading the rows with line numbers, and refusing a file that cannot mean what it says:

- no rows at all (an empty or header-only file is a mistake, never an empty split);
- rows that disagree about whether they carry a label column;
- an empty label field in a file whose other rows are labelled. A file may be unlabelled, and a row
  may say so with an explicit marker (SNLI's ``-``, GLUE's ``-1``), but a blank field among labels
  is a lost label, and dropping the row silently would change the training set;
- two rows with the same explicit id: predictions are keyed by id, so the second would take the
  first one's prediction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xstilts.data.files import DELIMITED, read_records
from xstilts.data.schema import DataError, Example

LABEL_COLUMNS = ("label", "gold_label", "is_duplicate", "answerKey", "tags", "ner_tags", "pos_tags")

#: labels that mean "unlabeled" in the releases (SNLI's "-", GLUE test's -1); an empty field too,
#: but only in a file whose rows are all unlabeled (see :class:`LabelCheck`)
UNLABELED = {"-", "-1", "", "None"}

#: columns whose value is a row's own id (the first one present)
ID_COLUMNS = ("id", "uid", "pairID")

#: (task, row, path, line, index) -> an example, or None to skip the row
RowConverter = Callable[[Any, dict[str, Any], Path, int, int], "Example | None"]


def label_column(row: dict[str, Any]) -> str | None:
    """The column a row's label is read from: the first of :data:`LABEL_COLUMNS` it has."""
    return next((c for c in LABEL_COLUMNS if c in row), None)


class LabelCheck:
    """Fails a file in which an empty label field sits among labelled rows (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.empty_at: tuple[int, str] | None = None
        self.labelled = False

    def see(self, ex: Any, row: dict[str, Any], line: int) -> None:
        col = label_column(row)
        value = row.get(col) if col else None
        if isinstance(value, str) and not value.strip():
            self.empty_at = self.empty_at or (line, col or "label")
        elif getattr(ex, "label", None) is not None:
            self.labelled = True
        if self.empty_at and self.labelled:
            line, col = self.empty_at
            raise DataError(
                self.path, line, f"a label in column {col}, found an empty field (the file's other rows are labelled; "
                "mark an unlabelled row with -)"
            )


def read_rows(task: Any, path: Path, convert: RowConverter) -> list[Any]:
    """Every row of one plain-named file through ``convert``; see the module docstring for what fails."""
    out: list[Any] = []
    labeled: bool | None = None
    labels = LabelCheck(path)
    ids: dict[str, int] = {}
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
        labels.see(ex, row, line)
        explicit = next((c for c in ID_COLUMNS if row.get(c) not in (None, "")), None)
        if explicit is not None and hasattr(ex, "id"):
            if ex.id in ids:
                raise DataError(path, line, f"a unique {explicit}, found {ex.id!r} again (first on line {ids[ex.id]})")
            ids[ex.id] = line
        out.append(ex)
    if not out:
        raise DataError(path, *_no_rows(path))
    return out


def _no_rows(path: Path) -> tuple[int, str]:
    if path.suffix in DELIMITED:
        return 2, "rows after the header line, found none (the file holds a header only)"
    return 1, "at least one record, found none"


def _has_label_field(ex: Any, row: dict[str, Any]) -> bool:
    """Whether the row carried a label column at all (an explicit unlabeled marker still counts)."""
    return getattr(ex, "label", None) is not None or any(k in row for k in LABEL_COLUMNS)
