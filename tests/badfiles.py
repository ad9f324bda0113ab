"""Writing small malformed files and expecting the one-line error that names them (shared by the reader tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xstilts.data.schema import DataError


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def fails(path: Path, line: int | None, expected: str):
    """``pytest.raises`` for a DataError that names ``path``, ``line`` and starts with ``expected``."""
    where = re.escape(f"{path}:{line}" if line is not None else f"{path}")
    return pytest.raises(DataError, match=f"^{where}: {re.escape(expected)}")
