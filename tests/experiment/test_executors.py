"""Executors: the smoke grid under pool, Ray and Slurm (submitit's local executor) ends with the sequential
run's numbers; reruns under another executor skip everything; the cost plan's schedule and resources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.helpers import run_main
from xstilts.config import ConfigError
from xstilts.experiment.cost import cost_plan, list_schedule
from xstilts.experiment.executors import (
    RETRIES,
    Coordinator,
    Outcome,
    PoolExecutor,
    RayExecutor,
    SlurmExecutor,
    dispatch,
    require,
    worker_slots,
)
from xstilts.experiment.grid import GridSpec, estimate, execute, load_spec, plan, stage_lock
from xstilts.experiment.resources import Resources, gigabytes, minutes, resources_from_cli, stage_resources
from xstilts.presets import load_preset
from xstilts.runs import read_result

SMOKE = GridSpec.model_validate(load_preset("smoke"))
#: wall time of the smoke grid under each executor, printed at the end (``pytest -rP`` shows it)
WALL: dict[str, float] = {}


def records(out: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "stages").glob("*.json")}


def metrics(out: Path) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Every stage's run and numbers, by (kind, task, intermediate, seed) as the plan names the stage (a target
    training's run records no intermediate, only its parent)."""
    rows = {}
    for stage in plan(SMOKE, out):
        assert stage.status == "done", stage.label()
        r = read_result(out / str(stage.run_id))
        key = (stage.step, stage.target or "+".join(stage.tasks), stage.intermediate, stage.seed)
        rows[key] = (r.run_id, r.metrics, r.average, r.training.get("best_step"))
    return rows


def untouched(out: Path) -> dict[str, int]:
    """The mtime of every stage record and result: a rerun that skips everything leaves them as they are."""
    return {str(p): p.stat().st_mtime_ns for p in [*(out / "stages").glob("*.json"), *out.glob("*/result.json")]}


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke grid, stage after stage in this process (one thread, as each worker below uses)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("sequential")
    start = time.perf_counter()
    try:
        stages = execute(SMOKE, out)
    finally:
        torch.set_num_threads(threads)
    WALL["local"] = time.perf_counter() - start
    assert {s.status for s in stages} == {"done"}
    return out


def check_against(out: Path, sequential: Path, executor: str) -> None:
    assert metrics(out) == metrics(sequential)
    recs = records(out)
    assert len(recs) == len(plan(SMOKE, out))
    for rec in recs.values():  # each stage's log is kept beside its run
        assert rec["executor"] == executor
        log = out / rec["log"]
        assert log.is_file() and rec["run_id"] in log.read_text()


def rerun_skips(executor: Any, out: Path) -> None:
    before = untouched(out)
    stages = executor.execute(SMOKE, out, {}, None)
    assert {s.status for s in stages} == {"done"}
    assert untouched(out) == before


@pytest.mark.slow
def test_pool_through_the_cli_matches_sequential(sequential: Path, tmp_path: Path) -> None:
    out = tmp_path / "pool"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "xstilts.cli", "run", "smoke", "--out", str(out), "--executor", "pool",
                           "--jobs", "2"], capture_output=True, text=True, timeout=1800)  # fmt: skip
    WALL["pool"] = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pool: 2 workers" in done.stderr
    check_against(out, sequential, "pool")
    rerun_skips(PoolExecutor(jobs=2), sequential)  # local -> pool
    before = untouched(out)  # pool -> local
    assert {s.status for s in execute(SMOKE, out)} == {"done"}
    assert untouched(out) == before


@pytest.mark.slow
def test_ray_on_a_local_cluster_matches_sequential(sequential: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        assert ray.cluster_resources()["CPU"] == 2
        out = tmp_path / "ray"
        start = time.perf_counter()
        stages = RayExecutor().execute(SMOKE, out, {}, None)
        WALL["ray"] = time.perf_counter() - start
        assert {s.status for s in stages} == {"done"}
        check_against(out, sequential, "ray")
        rerun_skips(RayExecutor(jobs=2), sequential)  # local -> ray
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_slurm_through_submitit_locally_matches_sequential(sequential: Path, tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    pytest.importorskip("submitit")
    out = tmp_path / "slurm"
    start = time.perf_counter()
    stages = SlurmExecutor(jobs=2, slurm={"cluster": "local"}).execute(SMOKE, out, {}, None)
    WALL["slurm"] = time.perf_counter() - start
    assert {s.status for s in stages} == {"done"}
    check_against(out, sequential, "slurm")
    assert "submitted array of 2" in capfd.readouterr().err  # stages ready together went out as one array
    rerun_skips(SlurmExecutor(slurm={"cluster": "local"}), sequential)  # local -> slurm
    rerun_skips(PoolExecutor(jobs=2), out)  # slurm -> pool


def test_wall_times_are_reported() -> None:
    """Not a check: prints the smoke grid's wall time under each executor that ran above."""
    print("smoke grid wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in WALL.items()))


# --------------------------------------------------------------------------- lost workers and locks


def fake_backend(lose: dict[str, int]) -> tuple[Any, Any, list[str]]:
    """A backend whose workers finish each stage at once, except that ``lose[key]`` times the worker is lost."""
    submitted: list[str] = []
    pending: list[Any] = []

    def submit(stages: list[Any]) -> dict[Any, Any]:
        handles = {}
        for stage in stages:
            submitted.append(stage.key)
            handle = (stage.key, len(submitted))
            pending.append(handle)
            handles[handle] = stage
        return handles

    def wait(handles: list[Any]) -> list[tuple[Any, Any]]:
        handle = handles[0]
        pending.remove(handle)
        key = handle[0]
        if lose.get(key, 0) > 0:
            lose[key] -= 1
            return [(handle, RuntimeError("worker died"))]
        return [(handle, Outcome(key, "done", f"run-{key}"))]

    return submit, wait, submitted


def test_a_lost_workers_stage_is_run_again(tmp_path: Path) -> None:
    grid = Coordinator(SMOKE, tmp_path, {}, None, "fake", {})
    first = grid.stages[0]
    submit, wait, submitted = fake_backend({first.key: 1})
    dispatch(grid, submit, wait, jobs=3)
    assert {s.status for s in grid.finish()} == {"done"}
    assert submitted.count(first.key) == 2 and len(submitted) == len(grid.stages) + 1


def test_a_stage_lost_too_often_fails_and_blocks_its_children(tmp_path: Path) -> None:
    grid = Coordinator(SMOKE, tmp_path, {}, None, "fake", {})
    inter = next(s for s in grid.stages if s.phase == "intermediate")
    submit, wait, submitted = fake_backend({inter.key: RETRIES + 1})
    dispatch(grid, submit, wait, jobs=None)
    grid.finish()
    assert inter.status == "failed" and submitted.count(inter.key) == RETRIES + 1
    children = [s for s in grid.stages if inter.key in s.deps]
    grandchildren = [s for s in grid.stages if any(c.key in s.deps for c in children)]
    assert children and all(s.status == "blocked" for s in children + grandchildren)
    others = [s for s in grid.stages if s not in [inter, *children, *grandchildren]]
    assert {s.status for s in others} == {"done"}


def test_a_damaged_parent_is_built_again_before_its_child(sequential: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(sequential, out)
    stages = plan(SMOKE, out)
    child = next(s for s in stages if s.phase == "target" and s.deps)
    parent = next(s for s in stages if s.key == child.deps[0])
    (out / "stages" / f"{child.key}.json").unlink()  # the child is to run again...
    with open(out / str(parent.run_id) / "encoder" / "model.safetensors", "ab") as weights:
        weights.write(b"x")  # ...and its parent's weights no longer match their sha256
    grid = Coordinator(SMOKE, out, {}, None, "fake", {})
    assert grid.by_key[parent.key].status == "todo" and grid.by_key[child.key].status == "todo"
    assert grid.ready()[0].key == parent.key and child.key not in {s.key for s in grid.ready()}


def test_a_dead_workers_stage_lock_is_free(tmp_path: Path) -> None:
    """A stage's lock is an flock: when the worker holding it is killed, the next worker takes it."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from xstilts.experiment.grid import stage_lock\n"
        f"with stage_lock(Path({str(tmp_path)!r}), 'k'):\n    print('held', flush=True); time.sleep(600)")],
        stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with stage_lock(tmp_path, "k") as mine:
            assert not mine
    finally:
        holder.kill()
        holder.wait()
    with stage_lock(tmp_path, "k") as mine:
        assert mine


def test_a_missing_engine_names_its_extra() -> None:
    with pytest.raises(ConfigError, match=r"pip install 'xstilts\[ray\]'"):
        require("xstilts_no_such_engine", "ray", "ray")


# --------------------------------------------------------------------------- resources and slurm options


def test_resources_resolve_default_then_step_then_task_then_command_line(tmp_path: Path) -> None:
    spec = GridSpec.model_validate({**load_preset("smoke"), "resources": {
        "default": {"cpus": 2, "gpus": 1, "time": "1h"},
        "intermediate": {"time": "8h", "memory": "32G"},
        "multitask": {"gpus": 2, "memory": "48G"},
        "mini_qa": {"memory": 64, "gpus": 3},
    }})  # fmt: skip
    stages = plan(spec, tmp_path)
    by = {(s.step, s.target or "+".join(s.tasks), s.intermediate, s.seed): s for s in stages}
    cli = resources_from_cli(["cpus=4", "transfer.time=30"])
    layers = [spec.resources, cli]
    inter = stage_resources(by[("intermediate", "mini_paraphrase+mini_qa+mini_mc", "multitask", 1)], layers)
    assert (inter.cpus, inter.gpus, inter.memory_gb, inter.time_min) == (4, 2, 48.0, 480.0)  # the mix's own name wins
    target = stage_resources(by[("target", "mini_qa", "none", 1)], layers)
    assert (target.gpus, target.memory_gb, target.time_min) == (3, 64.0, 60.0)
    transfer = stage_resources(by[("transfer", "mini_nli", "none", 1)], layers)
    assert (transfer.cpus, transfer.time_min) == (4, 30.0)
    # the Slurm block's defaults sit under every resources block
    base = Resources(gpus=0, time="2:00:00")
    assert stage_resources(by[("retrieval", "mini_parallel", "none", 1)], [{}], base).time_min == 120.0


def test_durations_and_sizes_read_as_sbatch_writes_them() -> None:
    assert [minutes(v) for v in (90, "8h", "1-12:00:00", "02:30", "45m", "2d")] == [90, 480, 2160, 150, 45, 2880]
    assert [gigabytes(v) for v in ("16G", "512M", "1T", 8, "32GB")] == [16, 0.5, 1024, 8, 32]
    for bad in ("soon", "-1h", 0):
        with pytest.raises(ValueError):
            minutes(bad)


def test_a_resources_scope_must_name_a_step_or_a_task(tmp_path: Path) -> None:
    preset = load_preset("smoke")
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({**preset, "resources": {"default": {"gpus": 1}, "mnil": {"gpus": 2}}}))
    with pytest.raises(Exception, match=r"grid\.yaml.*resources\.mnil"):
        load_spec(path)


def test_slurm_options_merge_and_reach_sbatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    submitit = pytest.importorskip("submitit")
    fake = tmp_path / "bin" / "srun"  # submitit checks that it is on a Slurm node
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    spec = GridSpec.model_validate({**load_preset("smoke"), "slurm": {
        "partition": "gpu", "account": "lab", "time": "4h", "gpus": 1, "extra": {"constraint": "a100"},
        "setup": ["module load cuda"]}})  # fmt: skip
    ex = SlurmExecutor(jobs=8, slurm={"partition": "long", "extra": {"exclude": "node7"}, "mem": "64G"})
    opts = ex.options(spec)
    assert (opts.partition, opts.account, opts.extra) == ("long", "lab", {"constraint": "a100", "exclude": "node7"})
    need = opts.defaults()
    params = ex.parameters(spec, opts, 6, need.gpus, need.memory_gb, need.time_min)
    assert params["timeout_min"] == 240 and params["gpus_per_node"] == 1 and params["slurm_array_parallelism"] == 8
    auto = submitit.AutoExecutor(folder=tmp_path / "submitit", cluster="slurm")
    auto.update_parameters(**params)  # submitit accepts every one of them
    sbatch = auto._executor._make_submission_file_text("true", "uid")
    for line in ("--partition=long", "--account=lab", "--constraint=a100", "--exclude=node7", "--time=240",
                 "--mem=64GB", "--cpus-per-task=6", "--gpus-per-node=1", "module load cuda",
                 "--signal=USR1@120"):  # a phase's checkpoint-and-exit signal, not submitit's USR2  # fmt: skip
        assert line in sbatch


def test_pool_workers_take_a_gpu_group_each_or_a_share_of_the_cores() -> None:
    gpus = ["0", "1", "2", "3"]
    assert [s["CUDA_VISIBLE_DEVICES"] for s in worker_slots(gpus, 1, 16, None)] == ["0", "1", "2", "3"]
    assert [s["CUDA_VISIBLE_DEVICES"] for s in worker_slots(gpus, 2, 16, None)] == ["0,1", "2,3"]
    assert [s["threads"] for s in worker_slots([], 0, 16, 4)] == ["4"] * 4
    assert len(worker_slots([], 0, 2, None)) == 2


# --------------------------------------------------------------------------- the cost plan


def test_list_schedule_on_a_hand_made_dag() -> None:
    # a (2 h) -> b (1 h), a -> c (3 h), d (4 h) on its own; e needs 2 GPUs (1 h) after b
    h = 3600.0
    dag = [("a", [], 2 * h, 1), ("b", ["a"], 1 * h, 1), ("c", ["a"], 3 * h, 1), ("d", [], 4 * h, 1), ("e", ["b"], 1 * h, 2)]
    # 1 GPU: one after another (e on one GPU here)
    assert list_schedule([d if d[0] != "e" else ("e", ["b"], h, 1) for d in dag], gpus=1) == 11 * h
    # 2 GPUs: a,d at 0; b 2-3; c 3-6 (d holds a GPU until 4); e needs both: 6-7
    assert list_schedule(dag, gpus=2) == 7 * h
    # 3 GPUs: a,d at 0; b,c at 2; e waits for 2 free GPUs: d ends at 4 -> e 4-5; c ends 5
    assert list_schedule(dag, gpus=3) == 5 * h
    # a cap of 1 stage at once on 3 GPUs is the sequential sum
    assert list_schedule(dag, gpus=3, jobs=1) == 11 * h
    with pytest.raises(ConfigError, match="asks for 2 GPUs"):
        list_schedule(dag, gpus=1)


def test_phang2020_cost_plan_on_1_and_8_gpus(tmp_path: Path) -> None:
    spec = GridSpec.model_validate(load_preset("phang2020"))
    stages = plan(spec, tmp_path)
    estimate(stages, spec, tmp_path)
    one = cost_plan(stages, spec, tmp_path, gpus=1)
    eight = cost_plan(stages, spec, tmp_path, gpus=8, executor="slurm")
    assert one.gpu_hours_left == pytest.approx(eight.gpu_hours_left) and one.gpu_hours_left > 0
    assert one.wall_hours == pytest.approx(one.gpu_hours_left)  # one GPU, one stage at a time
    assert eight.critical_path_hours <= eight.wall_hours < one.wall_hours / 4
    assert one.checkpoints == 228 and one.disk_kept_bytes == 228 * one.checkpoint_bytes
    assert one.checkpoint_bytes == 560_000_000 * 4
    assert {c.source for c in one.stages} == {"default"}


def test_dry_run_json_carries_the_cost_plan(sequential: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    code, out, err = run_main(monkeypatch, capsys, "run", "smoke", "--out", sequential, "--dry-run", "--json",
                              "--executor", "pool", "--jobs", "2", "--gpus", "2", "--resource", "retrieval.gpus=0")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert {s["status"] for s in data["stages"]} == {"done"}
    assert {s["cost_source"] for s in data["stages"]} == {"done"}
    assert {s["gpus"] for s in data["stages"] if s["kind"] == "retrieval"} == {0}
    cost = data["cost"]
    assert (cost["executor"], cost["gpus"], cost["jobs"], cost["checkpoints"]) == ("pool", 2, 2, 22)
    assert cost["gpu_hours_left"] == 0 and cost["gpu_hours_done"] > 0 and cost["disk_to_write_bytes"] == 0
    code, out, err = run_main(monkeypatch, capsys, "run", "smoke", "--out", tmp_path, "--dry-run")
    assert code == 0, err
    assert "cost plan: --executor local" in out and "GPU-h" in out and "disk:" in out


def test_bad_resources_on_the_command_line_are_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    code, _, err = run_main(monkeypatch, capsys, "run", "smoke", "--out", tmp_path, "--dry-run", "--resource", "gpus=-1")
    assert code == 2 and "--resource gpus" in err
    code, _, err = run_main(monkeypatch, capsys, "run", "smoke", "--out", tmp_path, "--executor", "mpi", "--dry-run")
    assert code == 2 and "expected one of local, pool, ray, slurm" in err
