"""An SQLite index over a run folder's ``result.json`` files, so a grid of hundreds of runs is one query.

The JSON files stay the source of truth: the index only mirrors them and can be deleted at any time.
``index`` updates it incrementally (a run whose file changed size, mtime or inode is re-read, a run
whose folder vanished is dropped) inside one transaction.

Many writers may share one run folder, on one machine or on a cluster's shared filesystem, so the
index is built for that rather than for speed:

- a rollback journal, never WAL: WAL keeps its lock state in shared memory (``-shm``), which processes
  on different hosts of a network filesystem do not share, so two nodes could both write;
- every write holds a lock file beside the index (``index.sqlite.lock``) and then ``BEGIN IMMEDIATE``
  with a busy timeout; a transaction that still finds the database locked is retried;
- a run's stamp includes its file's inode: an atomic rewrite always makes a new one, so a rewrite
  within the filesystem's mtime resolution, at the same size, is still seen.

An index that is not a database, or is damaged, is deleted and rebuilt from the JSON files.

Example:
    >>> from xstilts.experiment.store import query
    >>> query("runs", task="xnli", metric="accuracy", language="average")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import math
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from xstilts.paths import safe_child
from xstilts.runs import RESULT_FILE, upgrade

log = logging.getLogger(__name__)

INDEX_FILE = "index.sqlite"
#: bump when the tables change: an index with another version is rebuilt from the JSON files
INDEX_VERSION = 2
AVERAGE = "average"
#: how long one statement waits for a lock, and how often a transaction that still finds one is retried
BUSY_TIMEOUT_S = 60
RETRIES = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, kind TEXT, task TEXT, intermediate TEXT, model TEXT, seed INTEGER,
    created TEXT, path TEXT UNIQUE, eval_split TEXT, data_dir TEXT, max_examples INTEGER,
    parent_run TEXT, git_commit TEXT, mtime_ns INTEGER, size INTEGER, inode INTEGER
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT, language TEXT, metric TEXT, value REAL, PRIMARY KEY (run_id, language, metric)
);
CREATE TABLE IF NOT EXISTS predictions (
    run_id TEXT, language TEXT, path TEXT, PRIMARY KEY (run_id, language)
);
CREATE TABLE IF NOT EXISTS problems (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, inode INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS runs_by_task ON runs (task, intermediate, seed);
"""

RUN_COLUMNS = ("run_id", "kind", "task", "intermediate", "model", "seed", "created", "path", "eval_split", "data_dir", "max_examples")


def result_files(run_dir: Path) -> Iterator[Path]:
    """``RUN_DIR/<run-id>/result.json``; hidden folders (half-written runs, temp dirs) are skipped."""
    for child in sorted(Path(run_dir).iterdir()):
        if child.is_dir() and not child.name.startswith(".") and (child / RESULT_FILE).is_file():
            yield child / RESULT_FILE


def eval_split(raw: dict[str, Any]) -> str | None:
    """The split a run was scored on (a field since schema 2, a note before); else its config's."""
    split = upgrade(raw).get("eval_split")
    if split:
        return str(split)
    return ((raw.get("config") or {}).get("data") or {}).get("eval_split")


def _connect(path: Path, write: bool = False) -> sqlite3.Connection:
    """A connection with a busy timeout; a writer turns an index left in WAL mode (older xstilts) back."""
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        if write and con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            con.execute("PRAGMA journal_mode = DELETE")  # see the module docstring: WAL needs one host
    except BaseException:
        con.close()
        raise
    return con


def _lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _writer_lock(db: Path) -> AbstractContextManager[object]:
    """Writers take turns through a lock file (``flock``; NFS clients map it to the server's locks)."""
    return FileLock(_lock_path(db))


def _is_busy(err: sqlite3.Error) -> bool:
    return isinstance(err, sqlite3.OperationalError) and any(w in str(err).lower() for w in ("locked", "busy"))


def _is_damaged(err: sqlite3.Error) -> bool:
    """Not a database, or a damaged one (not a lock, a full disk or a missing folder)."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
    text = str(err).lower()
    return any(w in text for w in ("not a database", "malformed", "corrupt"))


def _delete_index(db: Path) -> None:
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), db.with_name(db.name + "-journal")):
        path.unlink(missing_ok=True)


def _rebuild_if_damaged(db: Path, err: sqlite3.Error) -> bool:
    """Delete a damaged index so the next transaction rebuilds it; False if it reads fine after all."""
    with _writer_lock(db):  # one process deletes it; the others then find a good one
        try:
            with closing(_connect(db)) as con:
                damaged = con.execute("PRAGMA quick_check").fetchone()[0] != "ok"
        except sqlite3.DatabaseError as again:
            damaged = _is_damaged(again)
        if damaged:
            log.warning("%s: not a readable SQLite index (%s); rebuilding it from the run folders", db, err)
            _delete_index(db)
        return damaged


def _with_index(db: Path, work: Any, write: bool = False) -> Any:
    """``work(connection)`` on the index: retried while another writer holds it, rebuilt if it is damaged.

    ``write``: the work changes the index, so it runs holding the writers' lock file.
    """
    for attempt in range(RETRIES + 1):
        try:
            with _writer_lock(db) if write else nullcontext(), closing(_connect(db, write)) as con:
                return work(con)
        except sqlite3.DatabaseError as err:
            if _is_damaged(err) and attempt < RETRIES:
                if _rebuild_if_damaged(db, err):
                    continue
                raise
            if not _is_busy(err) or attempt == RETRIES:
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


def _ensure_schema(con: sqlite3.Connection) -> None:
    """Create the tables; an index written by another layout is emptied and rebuilt."""
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, INDEX_VERSION):
        for table in ("runs", "metrics", "predictions", "problems"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            con.execute(statement)  # not executescript: that would commit the open transaction
    con.execute(f"PRAGMA user_version = {INDEX_VERSION}")


def _finite(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _insert_run(con: sqlite3.Connection, raw: dict[str, Any], rel: str, mtime_ns: int, size: int, inode: int) -> None:
    rid = raw["run_id"]
    cfg = raw.get("config") or {}
    parent = raw.get("parent") or {}
    con.execute(
        "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            rid, raw["kind"], raw["task"], raw.get("intermediate"), raw.get("model"), raw.get("seed"), raw.get("created"),
            rel, eval_split(raw), (cfg.get("data") or {}).get("data_dir"), (cfg.get("eval") or {}).get("max_examples"),
            parent.get("run_id"), raw.get("git_commit"), mtime_ns, size, inode,
        ),
    )  # fmt: skip
    rows = [(rid, lang, key, _finite(v)) for lang, m in (raw.get("metrics") or {}).items() for key, v in m.items()]
    rows += [(rid, AVERAGE, key, _finite(v)) for key, v in (raw.get("average") or {}).items()]
    con.executemany("INSERT OR REPLACE INTO metrics VALUES (?,?,?,?)", rows)
    preds = [(rid, lang, p) for lang, p in (raw.get("predictions") or {}).items()]
    con.executemany("INSERT OR REPLACE INTO predictions VALUES (?,?,?)", preds)


def _drop(con: sqlite3.Connection, rel: str) -> None:
    row = con.execute("SELECT run_id FROM runs WHERE path = ?", (rel,)).fetchone()
    if row:
        for table in ("runs", "metrics", "predictions"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", (row[0],))


def _update(con: sqlite3.Connection, run_dir: Path) -> None:
    """One transaction bringing the index in line with the run folders (rolled back whole on any error)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        _ensure_schema(con)
        known = {p: (m, s, i) for p, m, s, i in con.execute("SELECT path, mtime_ns, size, inode FROM runs")}
        bad = {p: (m, s, i) for p, m, s, i in con.execute("SELECT path, mtime_ns, size, inode FROM problems")}
        files = {file.parent.name: file for file in result_files(run_dir)}
        for rel in (set(known) | set(bad)) - set(files):  # removed folders first, so a copy can take over
            _drop(con, rel)
            con.execute("DELETE FROM problems WHERE path = ?", (rel,))
        for rel, file in files.items():
            try:
                st = file.stat()
            except OSError:  # removed since the listing: the next index drops it
                continue
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if known.get(rel) == stamp or bad.get(rel) == stamp:
                continue
            _drop(con, rel)
            con.execute("DELETE FROM problems WHERE path = ?", (rel,))
            try:
                raw = json.loads(file.read_text(encoding="utf-8"))
                other = con.execute("SELECT path FROM runs WHERE run_id = ?", (raw["run_id"],)).fetchone()
                if other and other[0] != rel:  # stamp -1: retried next time, in case the other folder goes
                    msg = f"run id {raw['run_id']} is already indexed from {other[0]} (a copied run folder?)"
                    con.execute("INSERT OR REPLACE INTO problems VALUES (?,?,?,?,?)", (rel, -1, -1, -1, msg))
                    continue
                _insert_run(con, raw, rel, *stamp)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                con.execute("INSERT OR REPLACE INTO problems VALUES (?,?,?,?,?)", (rel, *stamp, f"{type(exc).__name__}: {exc}"))
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise


def index(run_dir: Path | str) -> Path:
    """Bring ``RUN_DIR/index.sqlite`` up to date with the run folders; returns its path.

    Unreadable result files are recorded in the ``problems`` table (and skipped) rather than
    failing the whole index: one broken run should not hide a grid.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: a folder of runs (RUN_DIR/<run-id>/{RESULT_FILE})")
    db = run_dir / INDEX_FILE
    _with_index(db, lambda con: _update(con, run_dir), write=True)
    return db


def problems(run_dir: Path | str) -> dict[str, str]:
    """Run folders whose result file could not be read, with the reason."""
    db = index(run_dir)
    return _with_index(db, lambda con: dict(con.execute("SELECT path, error FROM problems ORDER BY path")))


def _where(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses, args = [], []
    for column, value in filters.items():
        if value is None:
            continue
        clauses.append(f"{column} = ?")
        args.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def runs(run_dir: Path | str, **filters: Any) -> pd.DataFrame:
    """One row per indexed run (columns ``RUN_COLUMNS``), filtered by equality on any of them."""
    db = index(run_dir)
    where, args = _where({f"r.{k}": v for k, v in filters.items()})
    cols = ", ".join(f"r.{c}" for c in RUN_COLUMNS)
    sql = f"SELECT {cols} FROM runs r{where} ORDER BY r.task, r.intermediate, r.seed, r.run_id"
    return _with_index(db, lambda con: pd.read_sql_query(sql, con, params=args))


def query(
    run_dir: Path | str,
    task: str | None = None,
    intermediate: str | None = None,
    kind: str | None = None,
    seed: int | None = None,
    language: str | None = None,
    metric: str | None = None,
) -> pd.DataFrame:
    """Metric values in long form: one row per (run, language, metric), ``average`` included.

    Columns: run_id, kind, task, intermediate, model, seed, created, language, metric, value, path.
    """
    db = index(run_dir)
    where, args = _where(
        {"r.task": task, "r.intermediate": intermediate, "r.kind": kind, "r.seed": seed, "m.language": language, "m.metric": metric}
    )
    sql = (
        "SELECT r.run_id, r.kind, r.task, r.intermediate, r.model, r.seed, r.created, m.language, m.metric, m.value, r.path "
        f"FROM runs r JOIN metrics m ON m.run_id = r.run_id{where} "
        "ORDER BY r.task, r.intermediate, r.seed, r.run_id, m.language = 'average', m.language, m.metric"
    )
    return _with_index(db, lambda con: pd.read_sql_query(sql, con, params=args))


def prediction_paths(run_dir: Path | str, run_id: str) -> dict[str, Path]:
    """A run's prediction files by language, as paths checked to stay inside the run's folder."""
    db = index(run_dir)

    def read(con: sqlite3.Connection) -> tuple[Any, list[tuple[str, str]]]:
        row = con.execute("SELECT path FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        langs = con.execute("SELECT language, path FROM predictions WHERE run_id = ? ORDER BY language", (run_id,)).fetchall()
        return row, langs

    row, langs = _with_index(db, read)
    if row is None:
        raise KeyError(f"no run {run_id!r} in {run_dir}")
    folder = safe_child(run_dir, row[0], "run folder")
    return {lang: safe_child(folder, rel, f"{run_id}: prediction file for {lang}") for lang, rel in langs}
