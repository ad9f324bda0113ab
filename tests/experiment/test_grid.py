"""The grid: the paper's plan counts, and the smoke preset run, killed and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from xstilts.experiment.grid import GridSpec, plan
from xstilts.paths import sha256_file
from xstilts.presets import load_preset, preset_header, preset_names
from xstilts.runs import read_result


def test_phang2020_plan_counts(tmp_path: Path) -> None:
    spec = GridSpec.model_validate(load_preset("phang2020"))
    stages = plan(spec, tmp_path)
    counts = Counter((s.kind, s.phase, s.seed) for s in stages)
    for seed in spec.seeds:
        assert counts[("train", "intermediate", seed)] == 10
        assert counts[("train", "target", seed)] == 66
        assert counts[("transfer", None, seed)] == 77
        assert counts[("retrieval", None, seed)] == 22
    # one vocabulary: a stage's kind is the kind of run it writes
    assert {s.kind for s in stages} == {"train", "transfer", "retrieval"}
    # XQuAD and MLQA share one SQuAD training per encoder and seed
    squad = [s for s in stages if s.phase == "target" and s.tasks == ["squad"] and s.seed == 1]
    assert len(squad) == 11
    # seeds pair across stages: a target stage depends on the intermediate stage of the same seed
    by_key = {s.key: s for s in stages}
    assert all(by_key[d].seed == s.seed for s in stages for d in s.deps)


def test_presets_ship_with_their_command() -> None:
    assert {"demo", "smoke", "phang2020"} <= set(preset_names())
    from xstilts.presets import PRESET_DIR

    for name in preset_names():
        assert preset_header(PRESET_DIR / f"{name}.yaml").splitlines()[0] == f"xstilts run {name}"


def xstilts(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xstilts.cli", *args], capture_output=True, text=True, env=env, timeout=600)


def stage_records(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "stages").glob("*.json")}


def final_metrics(out: Path) -> dict[str, dict]:
    rows = {}
    for rec in stage_records(out).values():
        res = read_result(out / rec["run_id"])
        rows[res.run_id] = {"metrics": res.metrics, "average": res.average, "parent": res.parent, "training": res.training.get("best_step")}
    return rows


@pytest.mark.slow
def test_smoke_grid_killed_and_resumed_matches_uninterrupted(tmp_path: Path) -> None:
    env = {**os.environ, "XSTILTS_PROGRESS": "0", "PYTHONUNBUFFERED": "1"}
    dry = xstilts("run", "smoke", "--out", str(tmp_path / "a"), "--dry-run", "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)["stages"]  # {"stages": [...], "cost": {...}}
    kinds = Counter(s["phase"] or s["kind"] for s in planned)
    assert kinds["intermediate"] == 4 and kinds["retrieval"] == 6  # 2 seeds x (paraphrase, multitask); 2 x 3 encoders
    assert {s["status"] for s in planned} == {"todo"}

    start = time.perf_counter()
    full = xstilts("run", "smoke", "--out", str(tmp_path / "a"), env=env)
    assert full.returncode == 0, full.stderr[-2000:]
    seconds = time.perf_counter() - start
    assert seconds < 180, f"smoke grid took {seconds:.0f} s"

    # interrupted run: SIGKILL once a few stages have finished, then resume
    out = tmp_path / "b"
    proc = subprocess.Popen([sys.executable, "-m", "xstilts.cli", "run", "smoke", "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and len(list((out / "stages").glob("*.json"))) < 5:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = stage_records(out)
    assert 5 <= len(before) < len(planned)
    mtimes = {rec["run_id"]: (out / rec["run_id"] / "result.json").stat().st_mtime_ns for rec in before.values()}

    resumed = xstilts("run", "smoke", "--out", str(out), env=env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = stage_records(out)
    assert len(after) == len(planned)
    for key, rec in before.items():  # no finished stage ran again
        assert after[key]["run_id"] == rec["run_id"]
        assert (out / rec["run_id"] / "result.json").stat().st_mtime_ns == mtimes[rec["run_id"]]
    assert final_metrics(out) == final_metrics(tmp_path / "a")  # same numbers as uninterrupted
    # no partial artifact was read: every parent is a finished run whose checkpoint hash matches
    for rec in after.values():
        parent = read_result(out / rec["run_id"]).parent
        if parent:
            weights = out / parent["run_id"] / "encoder" / "model.safetensors"
            assert (out / parent["run_id"] / "result.json").is_file()
            assert sha256_file(weights) == parent["checkpoint_sha256"]
    assert not list(out.glob(".*.tmp"))  # the killed run's temp folder was cleared, never used

    again = xstilts("run", "smoke", "--out", str(out), "--dry-run", "--json", env=env)
    assert {s["status"] for s in json.loads(again.stdout)["stages"]} == {"done"}
