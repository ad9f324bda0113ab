"""The SQLite run index: built from result.json files, updated incrementally, runs removed with their folder."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from tests.report.synthetic import uniform, write_run
from xstilts.experiment import store


def test_index_and_query(tmp_path: Path) -> None:
    write_run(tmp_path, "pawsx", "none", 0, {"en": {"accuracy": 80.0, "n": 10.0}, "de": {"accuracy": 70.0, "n": 10.0}})
    write_run(tmp_path, "pawsx", "mnli", 1, {"en": {"accuracy": 90.0}})
    write_run(tmp_path, "mini_nli", None, 0, {"en": {"accuracy": 50.0}}, kind="evaluate")
    db = store.index(tmp_path)
    assert db == tmp_path / "index.sqlite" and db.is_file()
    every = store.query(tmp_path)
    assert set(every["run_id"]) == {"transfer-pawsx-none-0", "transfer-pawsx-mnli-1", "evaluate-mini_nli-None-0"}
    avg = store.query(tmp_path, task="pawsx", intermediate="none", language="average", metric="accuracy")
    assert avg["value"].tolist() == [75.0]
    assert store.query(tmp_path, seed=1)["value"].tolist() == [90.0, 90.0]  # en and average
    assert store.query(tmp_path, kind="evaluate")["intermediate"].isna().all()
    n_rows = store.query(tmp_path, task="pawsx", intermediate="none", language="de")
    assert dict(zip(n_rows["metric"], n_rows["value"], strict=True)) == {"accuracy": 70.0, "n": 10.0}
    runs = store.runs(tmp_path)
    assert set(runs.columns) >= {"run_id", "kind", "task", "intermediate", "model", "seed", "created", "path"}
    assert set(runs["eval_split"]) == {"test"}


def test_incremental_update_and_removal(tmp_path: Path) -> None:
    rid = write_run(tmp_path, "pawsx", "none", 0, {"en": {"accuracy": 80.0}})
    write_run(tmp_path, "pawsx", "mnli", 0, {"en": {"accuracy": 85.0}})
    store.index(tmp_path)
    # rewrite one run with a different score (and a different mtime), delete the other
    write_run(tmp_path, "pawsx", "none", 0, {"en": {"accuracy": 81.5}})
    path = tmp_path / rid / "result.json"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    shutil.rmtree(tmp_path / "transfer-pawsx-mnli-0")
    write_run(tmp_path, "pawsx", "squad", 0, {"en": {"accuracy": 88.0}})
    frame = store.query(tmp_path, language="en")
    assert dict(zip(frame["intermediate"], frame["value"], strict=True)) == {"none": 81.5, "squad": 88.0}
    with sqlite3.connect(tmp_path / "index.sqlite") as con:
        assert con.execute("SELECT count(*) FROM metrics WHERE run_id = 'transfer-pawsx-mnli-0'").fetchone()[0] == 0


def test_unchanged_runs_are_not_reread(tmp_path: Path, monkeypatch) -> None:
    write_run(tmp_path, "pawsx", "none", 0, uniform("pawsx", accuracy=80.0))
    store.index(tmp_path)
    calls = []
    real = store._insert_run
    monkeypatch.setattr(store, "_insert_run", lambda *a: calls.append(a) or real(*a))
    store.index(tmp_path)
    assert calls == []


def test_broken_and_half_written_runs(tmp_path: Path) -> None:
    write_run(tmp_path, "pawsx", "none", 0, {"en": {"accuracy": 80.0}})
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "result.json").write_text("{not json")
    (tmp_path / ".transfer-x.tmp").mkdir()
    (tmp_path / ".transfer-x.tmp" / "result.json").write_text("{}")
    assert len(store.runs(tmp_path)) == 1
    assert list(store.problems(tmp_path)) == ["broken"]
    shutil.rmtree(tmp_path / "broken")
    assert store.problems(tmp_path) == {}


def test_concurrent_indexing_is_safe(tmp_path: Path) -> None:
    for seed in range(20):
        write_run(tmp_path, "pawsx", "none", seed, uniform("pawsx", accuracy=float(seed)))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            store.index(tmp_path)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.runs(tmp_path)) == 20
    assert len(store.query(tmp_path, language="average")) == 20


def test_stale_index_version_is_rebuilt(tmp_path: Path) -> None:
    write_run(tmp_path, "pawsx", "none", 0, {"en": {"accuracy": 80.0}})
    with sqlite3.connect(tmp_path / "index.sqlite") as con:
        con.execute("CREATE TABLE runs (x)")
        con.execute("PRAGMA user_version = 99")
    assert store.runs(tmp_path)["run_id"].tolist() == ["transfer-pawsx-none-0"]


def test_copied_run_folder_is_a_problem_not_a_second_run(tmp_path: Path) -> None:
    rid = write_run(tmp_path, "pawsx", "none", 0, {"en": {"accuracy": 80.0}})
    shutil.copytree(tmp_path / rid, tmp_path / "copy")
    (kept,) = store.runs(tmp_path)["path"].tolist()  # folders are indexed in name order: "copy" first
    (dropped, why), = store.problems(tmp_path).items()
    assert {kept, dropped} == {rid, "copy"} and f"already indexed from {kept}" in why
    shutil.rmtree(tmp_path / kept)
    assert store.runs(tmp_path)["path"].tolist() == [dropped] and store.problems(tmp_path) == {}


def _tables(db: Path) -> dict[str, list[tuple]]:
    """Every row of the index as it is on disk (no re-indexing), in a stable order."""
    with closing(sqlite3.connect(db)) as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in ("runs", "metrics", "predictions", "problems")}


def test_eight_concurrent_writer_processes_lose_no_rows(tmp_path: Path) -> None:
    """8 processes write runs (and rewrite one each) into one folder, indexing after every write."""
    from tests.experiment import index_writers

    writers = [index_writers.start(str(tmp_path), worker, 5) for worker in range(8)]
    for proc in writers:
        proc.join(300)
    assert [p.exitcode for p in writers] == [0] * 8
    db = tmp_path / store.INDEX_FILE
    with closing(sqlite3.connect(db)) as con:  # the index as the writers left it, not re-indexed
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # WAL is unsafe across hosts
    left = _tables(db)
    assert len(left["runs"]) == 40 and left["problems"] == []
    averages = {r[0]: r[3] for r in left["metrics"] if r[1] == store.AVERAGE}
    assert len(averages) == 40
    assert all(averages[f"run-w{w}-0"] == 10 * w + 6 for w in range(8))  # each rewrite was picked up
    for suffix in ("", "-journal", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    store.index(tmp_path)
    assert _tables(db) == left  # equal to a rebuild from the JSON files


def test_a_rewrite_within_the_mtime_resolution_is_seen(tmp_path: Path) -> None:
    """A coarse-mtime filesystem (NFS, FAT) can give a rewritten result the old mtime and size: the inode differs."""
    from tests.experiment.index_writers import write_result

    write_result(tmp_path, "r", "pawsx", 0, 10.0)
    store.index(tmp_path)
    path = tmp_path / "r" / "result.json"
    before = path.stat()
    write_result(tmp_path, "r", "pawsx", 0, 20.0)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert store.query(tmp_path, language="en")["value"].tolist() == [20.0]


def test_an_index_left_in_wal_mode_is_turned_back(tmp_path: Path) -> None:
    write_run(tmp_path, "pawsx", "none", 0, {"en": {"accuracy": 80.0}})
    db = store.index(tmp_path)
    with closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA journal_mode = WAL")
    write_run(tmp_path, "pawsx", "mnli", 0, {"en": {"accuracy": 85.0}})
    assert len(store.runs(tmp_path)) == 2
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_damaged_index_is_rebuilt_from_the_run_files(tmp_path: Path) -> None:
    for seed in range(3):
        write_run(tmp_path, "pawsx", "none", seed, uniform("pawsx", accuracy=float(seed)))
    db = store.index(tmp_path)
    want = store.query(tmp_path).to_dict("records")
    db.write_bytes(b"this is not an SQLite database\n" * 100)  # garbage
    assert store.query(tmp_path).to_dict("records") == want
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = db.read_bytes()
    db.write_bytes(data[:100] + bytes(len(data) - 100))  # a valid header over zeroed pages
    assert store.runs(tmp_path)["run_id"].tolist() == [f"transfer-pawsx-none-{s}" for s in range(3)]
    assert store.query(tmp_path).to_dict("records") == want
