"""SIGKILL inside every stage kind and every kind of write; the rerun finishes with identical results.

Each test kills a grid run at a random call (drawn from ``XSTILTS_FAULT_SEED``) of one kill point: a
training step, a checkpoint write, a zero-shot prediction, a retrieval embedding, a result write, a
feature-cache write, a stage record write, or a row insert into the SQLite index. The rerun must
finish every stage, give the reference's numbers, and leave every run finished before the kill alone.
"""

from __future__ import annotations

import random
import shutil
import signal
from pathlib import Path

import pytest

from tests.faults import hooks
from tests.faults.conftest import SEED, Reference, final_metrics, finished_mtimes, leftovers
from tests.report.synthetic import uniform, write_run
from xstilts.experiment import store
from xstilts.experiment.grid import execute, plan


@pytest.mark.parametrize("point", hooks.GRID_POINTS)
def test_killed_grid_resumes_with_identical_results(
    point: str, reference: Reference, tmp_path: Path, monkeypatch
) -> None:
    at = random.Random(f"{SEED}:{point}").randint(1, reference.counts[point])
    why = f"killed at call {at} of {reference.counts[point]} of {point} (XSTILTS_FAULT_SEED={SEED})"
    cache = reference.fresh_cache(tmp_path / "cache") if point == "feature_cache_write" else reference.cache
    monkeypatch.setenv("XSTILTS_CACHE", str(cache))
    out = tmp_path / "runs"

    proc = hooks.start(hooks.run_grid, str(reference.spec), str(out), reference.env(cache), point, at)
    proc.join(240)
    assert proc.exitcode == -signal.SIGKILL, why
    before = finished_mtimes(out)
    spec = hooks.load_spec(reference.spec)
    assert sum(s.status == "done" for s in plan(spec, out)) < 7, why

    with hooks.one_thread():
        stages = execute(spec, out)
    assert {s.status for s in stages} == {"done"}, why
    assert final_metrics(out) == reference.metrics, why
    assert {rid: m for rid, m in finished_mtimes(out).items() if rid in before} == before, (
        f"a finished run was redone; {why}"
    )
    assert not leftovers(out), why


def test_killed_index_write_loses_nothing(tmp_path: Path, reference: Reference) -> None:
    for seed in range(12):
        write_run(
            tmp_path, "pawsx", "none" if seed % 2 else "mnli", seed, uniform("pawsx", accuracy=float(seed))
        )
    clean = tmp_path.parent / f"{tmp_path.name}-clean"
    shutil.copytree(tmp_path, clean)
    store.index(tmp_path)  # an index exists; then runs change and the next update is killed half-way
    for seed in range(12, 18):
        write_run(tmp_path, "pawsx", "squad", seed, uniform("pawsx", accuracy=float(seed)))
        write_run(clean, "pawsx", "squad", seed, uniform("pawsx", accuracy=float(seed)))
    at = random.Random(f"{SEED}:index").randint(1, 6)
    proc = hooks.start(hooks.index_runs, str(tmp_path), reference.env(), "index_write", at)
    proc.join(120)
    assert proc.exitcode == -signal.SIGKILL
    got = store.query(tmp_path).drop(columns="path")
    want = store.query(clean).drop(columns="path")
    assert len(set(got["run_id"])) == 18
    assert got.to_dict("records") == want.to_dict("records")
