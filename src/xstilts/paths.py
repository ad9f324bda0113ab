"""Where xstilts keeps its cache, and how it writes files so a crash never leaves half a file.

Every JSON file xstilts writes is strict JSON (:func:`strict_json_dumps`): a NaN or infinite float
becomes ``null``, so any parser reads it. Paths built from data (language codes, task names, run ids
read from a file) go through :func:`safe_name` or :func:`safe_child`, so none can leave its folder.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

#: errors that mean "no room": a full disk, a quota, or a file size limit (``RLIMIT_FSIZE``)
_NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


class InputError(ValueError):
    """Bad input that the user can fix (exit code 2): the message names the file and what was expected."""


class UnsafePathError(InputError):
    """A name read from data would leave the folder it is meant to stay in."""


class DiskFullError(OSError):
    """The disk (or a quota, or a file size limit) ran out while writing; nothing partial was left."""


def cache_dir() -> Path:
    """The user cache: ``$XSTILTS_CACHE``, else ``$XDG_CACHE_HOME/xstilts``, else ``~/.cache/xstilts``."""
    env = os.environ.get("XSTILTS_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "xstilts"


def _no_room(err: BaseException, what: Path) -> BaseException:
    """A clear error for a full disk naming what could not be written; any other error as it is.

    Libraries that write natively (safetensors) report it in their own exception type, with the OS
    error number in the message.
    """
    if isinstance(err, DiskFullError):
        return err
    code = err.errno if isinstance(err, OSError) else None
    if code is None:
        found = re.search(r"os error (\d+)", str(err))
        code = int(found.group(1)) if found else None
    if code in _NO_ROOM:
        return DiskFullError(
            code,
            f"{what}: could not be written ({os.strerror(code)}: disk full, quota or file size limit); nothing partial was left",
        )
    return err


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target.

    A full disk raises :class:`DiskFullError` naming ``path``; the temp file is removed, so neither a
    partial file nor a half-replaced one is ever seen.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        clear = _no_room(err, path)
        if clear is not err:
            raise clear from err
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def strict_json(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by ``None`` (JSON ``null``).

    Strict JSON has no NaN: Python's ``json`` would write a bare ``NaN`` that most parsers reject.
    NumPy scalars become Python numbers; tuples become lists.
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    if (
        not isinstance(obj, (str, int, bool))
        and obj is not None
        and callable(getattr(obj, "item", None))
        and getattr(obj, "ndim", 1) == 0
    ):
        return strict_json(obj.item())  # a NumPy scalar
    return obj


def strict_json_dumps(obj: Any, indent: int | None = 2, **kwargs: Any) -> str:
    """JSON text any strict parser reads: NaN and ±inf are written as ``null``, never ``NaN``.

    Example:
        >>> strict_json_dumps({"accuracy": float("nan"), "n": 3}, indent=None)
        '{"accuracy": null, "n": 3}'
    """
    kwargs.setdefault("ensure_ascii", False)
    return json.dumps(strict_json(obj), indent=indent, allow_nan=False, **kwargs)


def atomic_write_json(path: Path, obj: Any) -> None:
    """Strict JSON (NaN and ±inf become ``null``), written atomically."""
    atomic_write_text(path, strict_json_dumps(obj, indent=2) + "\n")


def safe_name(name: str, what: str = "name") -> str:
    """``name`` if it is one plain path component (no separator, not ``.``/``..``, no NUL); else an error.

    For names that come from data and become a file or folder name: a language code, a task name, a
    run id read from an index. ``what`` says in the error what the name is.
    """
    text = str(name)
    if (
        not text
        or text in (".", "..")
        or "/" in text
        or "\\" in text
        or "\0" in text
        or PureWindowsPath(text).drive
    ):
        raise UnsafePathError(
            f"{what} {text!r}: a plain name (no '/', '\\', '..' or empty name) is expected, as it names a file"
        )
    return text


def safe_child(folder: Path | str, name: str | Path, what: str = "path") -> Path:
    """``folder / name`` for a relative ``name`` that stays inside ``folder`` (checked on the text, no I/O).

    ``name`` may have several parts (``predictions/en.tsv``); an absolute path, a ``..`` part or a
    NUL byte raises :class:`UnsafePathError`.

    Example:
        >>> safe_child("runs", "transfer-xnli-0123/predictions/en.tsv").as_posix()
        'runs/transfer-xnli-0123/predictions/en.tsv'
    """
    text = str(name)
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if (
        not text
        or "\0" in text
        or PurePosixPath(text).is_absolute()
        or PureWindowsPath(text).drive
        or PureWindowsPath(text).root
        or ".." in parts
        or not parts
    ):
        raise UnsafePathError(
            f"{what} {text!r}: a relative path inside {folder} is expected (no absolute path or '..')"
        )
    return Path(folder).joinpath(*parts)


def _fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder`` to disk, so the rename never publishes unwritten data."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                os.fsync(fh.fileno())


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temp folder beside ``final``; on success it replaces ``final`` in one rename.

    Readers therefore see either no folder or a complete one, never a half-written one. An existing
    ``final`` (a damaged run being rebuilt) is swapped out whole. A full disk raises
    :class:`DiskFullError` naming ``final``, and the temp folder is removed.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
        _fsync_tree(tmp)
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", suffix=".tmp", dir=final.parent))
            os.replace(
                final, old
            )  # onto an empty folder: allowed, and a hidden ``.tmp`` name is cleared if left
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        clear = _no_room(err, final)
        if clear is not err:
            raise clear from err
        raise


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """A file's sha256, read in chunks so a multi-GB checkpoint never sits in memory."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
