"""Row readers for delimited and JSON files, with line numbers for error messages.

Every reader yields ``(line_number, row_dict)``. A bad encoding, a short row or broken JSON raises
:class:`DataError` naming the file and line, so users can fix the file instead of guessing.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.data.schema import DataError

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

DELIMITED = {".tsv": "\t", ".csv": ","}


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, "rb") as fh:
        for no, raw in enumerate(fh, start=1):
            try:
                yield no, raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(path, no, f"UTF-8 text (undecodable byte at column {err.start + 1})") from None


def read_delimited(path: Path, delimiter: str | None = None, quoting: bool | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Read a headed TSV/CSV file. TSV is read without quote handling, as XNLI and PAWS-X ship it."""
    path = Path(path)
    delimiter = delimiter or DELIMITED.get(path.suffix, "\t")
    quoting = (delimiter == ",") if quoting is None else quoting
    lines = (text.lstrip("\ufeff") if no == 1 else text for no, text in _lines(path))
    if quoting:
        reader = csv.reader(lines, delimiter=delimiter)
    else:
        reader = csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_NONE)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(path, 1, "a header row") from None
    except csv.Error as err:
        raise DataError(path, 1, f"a valid header row ({err})") from None
    header = [h.strip() for h in header]
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise DataError(path, reader.line_num, f"well-formed delimited text ({err})") from None
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != len(header):
            raise DataError(
                path, reader.line_num, f"{len(header)} fields ({', '.join(header)}), found {len(fields)}"
            )
        yield reader.line_num, dict(zip(header, fields, strict=True))


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for no, text in _lines(Path(path)):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(path, no, f"one JSON object per line ({err.msg})") from None
        if not isinstance(obj, dict):
            raise DataError(path, no, "a JSON object")
        yield no, obj


def read_json(path: Path) -> Any:
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise DataError(path, line, "UTF-8 text") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise DataError(path, err.lineno, f"valid JSON ({err.msg})") from None


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a plain-named file, whatever its extension (tsv, csv, jsonl, or a JSON list)."""
    path = Path(path)
    if path.suffix in DELIMITED:
        yield from read_delimited(path)
    elif path.suffix == ".jsonl":
        yield from read_jsonl(path)
    elif path.suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = data["data"]
        if not isinstance(data, list):
            raise DataError(path, 1, "a JSON list of records")
        for i, obj in enumerate(data, start=1):
            if not isinstance(obj, dict):
                raise DataError(path, None, f"record {i} to be a JSON object")
            yield i, obj
    else:
        raise DataError(path, None, "a .tsv, .csv, .jsonl or .json file")


def require(row: dict[str, Any], path: Path, line: int, *names: str) -> list[Any]:
    """Return the named fields, or fail naming the missing column and what the row has."""
    missing = [n for n in names if n not in row or row[n] is None]
    if missing:
        raise DataError(path, line, f"column(s) {', '.join(missing)}; the row has {', '.join(row)}")
    return [row[n] for n in names]
