"""Row readers for delimited and JSON files, with line numbers for error messages.

Every reader yields ``(line_number, row_dict)``. A bad encoding, a short row or broken JSON raises
:class:`DataError` naming the file and line, so users can fix the file instead of guessing.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.data.schema import DataError

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

DELIMITED = {".tsv": "\t", ".csv": ","}
BOM = "\ufeff"


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each line of a UTF-8 file with its number (from 1), a leading BOM dropped; a bad byte names its line."""
    with open(path, "rb") as fh:
        for no, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(path, no, f"UTF-8 text (undecodable byte at column {err.start + 1})") from None
            yield no, text.lstrip(BOM) if no == 1 else text


def read_text(path: Path) -> str:
    """A whole file as UTF-8 text without a leading byte-order mark; a bad byte names its line."""
    return "".join(text for _, text in numbered_lines(Path(path)))


def read_delimited(path: Path, delimiter: str | None = None, quoting: bool | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Read a headed TSV/CSV file. TSV is read without quote handling, as XNLI and PAWS-X ship it.

    Rows are numbered by the line they start on (a quoted CSV field may span lines); blank lines are
    skipped, and every other row must have exactly the header's fields.
    """
    path = Path(path)
    delimiter = delimiter or DELIMITED.get(path.suffix, "\t")
    quoting = (delimiter == ",") if quoting is None else quoting
    lines = (text for _, text in numbered_lines(path))
    if quoting:
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
    else:
        reader = csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_NONE)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(path, 1, "a header row, found an empty file") from None
    except csv.Error as err:
        raise DataError(path, 1, f"a valid header row ({err})") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise DataError(path, 1, "a header row of column names, found a blank line")
    repeated = next((h for i, h in enumerate(header) if h in header[:i]), None)
    if repeated is not None:
        raise DataError(path, 1, f"distinct column names in the header, found {repeated!r} twice")
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            if "end of data" in str(err):
                raise DataError(path, start, "a closing quote for the field opened on this line") from None
            raise DataError(path, reader.line_num, f"well-formed delimited text ({err})") from None
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != len(header):
            raise DataError(path, start, f"{len(header)} fields ({', '.join(header)}), found {len(fields)}")
        yield start, dict(zip(header, fields, strict=True))


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for no, text in numbered_lines(Path(path)):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(path, no, f"one JSON object per line ({err.msg})") from None
        if not isinstance(obj, dict):
            raise DataError(path, no, f"a JSON object, found {_json_kind(obj)}")
        yield no, obj


def read_json(path: Path) -> Any:
    """A JSON document (a leading byte-order mark is allowed); broken JSON names its line."""
    return parse_json(path, read_text(path))


def parse_json(path: Path, text: str) -> Any:
    """``text`` (read from ``path``) as JSON; an empty or broken document names the file and line."""
    if not text.strip():
        raise DataError(path, 1, "a JSON document, found an empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, err.lineno, f"valid JSON ({err.msg}, column {err.colno})") from None


def json_key_lines(text: str, key: str, value: Any = None) -> list[int]:
    """Lines of a JSON document on which ``"key":`` (followed by ``value``, if given) occurs, in order.

    ``json`` keeps no positions, so an error about one record of a parsed document finds its line
    this way; the list is empty where the text spells it differently (escapes, odd spacing).
    """
    pattern = re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:"
    if value is not None:
        pattern += r"\s*" + re.escape(json.dumps(value, ensure_ascii=False))
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text)]


def _json_kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


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
