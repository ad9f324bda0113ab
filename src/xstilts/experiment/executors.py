"""Where a grid's stages run: one at a time here, N at once here, on a Ray cluster, or as Slurm jobs.

An executor decides only where and how a ready stage runs. Everything else stays the grid's: a stage is
content-addressed, a lock per stage keeps two workers off it, and a stage counts as done only when its
run's ``result.json`` parses. So a rerun under any executor skips finished stages, and a stage whose
worker was lost is simply run again: its lock is an ``flock``, released by the kernel when the process
holding it dies, and its half-written run folder is a hidden temp folder no reader ever opens.

- ``local``: today's runner, stage after stage in this process (:func:`xstilts.experiment.grid.execute`).
- ``pool``: N worker processes (spawned), each pinned to a GPU (``CUDA_VISIBLE_DEVICES``) or, without
  GPUs, to a share of the CPU cores; a ready stage goes to the next free worker.
- ``ray``: each stage a Ray task with its CPUs, GPUs and memory; a stage's parent is passed to it as
  the parent task's object ref, so Ray itself runs the DAG (workers that die are retried by Ray).
- ``slurm``: through submitit; stages that are ready together and ask for the same resources go out
  as one job array (all intermediate phases of a seed, say), and each wave's children follow.

Every worker writes its stage's output to ``OUT/logs/<stage>.log``; the stage's record in
``OUT/stages/<key>.json`` names the executor, host and log.

Example:
    >>> ex = make_executor("pool", jobs=2)  # doctest: +SKIP
    >>> stages = ex.execute(spec, Path("runs/smoke"), {}, progress=None)  # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import multiprocessing
import os
import re
import socket
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from xstilts.config import ConfigError, first_error
from xstilts.experiment import grid as grid_module
from xstilts.experiment.grid import (
    GridSpec,
    Stage,
    complete_stage,
    plan,
    revalidate,
    runner_presence,
    stage_lock,
)
from xstilts.experiment.resources import Resources, SlurmOptions, stage_resources

ExecutorName = Literal["local", "pool", "ray", "slurm"]
EXECUTORS: tuple[str, ...] = ("local", "pool", "ray", "slurm")
#: how often a stage whose worker was lost (killed, preempted, out of memory) is run again
RETRIES = 2
#: environment a worker takes from the runner that started it (a Ray or Slurm node may not have it)
_PASSED_ENV = ("XSTILTS_", "HF_", "TRANSFORMERS_")


@dataclass
class StageJob:
    """Everything a worker needs to run one stage; plain data, so it pickles to any worker."""

    spec: GridSpec
    out: str
    overrides: dict[str, Any]
    stage: Stage
    log: str
    executor: str
    threads: int | None = None
    cwd: str = field(default_factory=os.getcwd)
    env: dict[str, str] = field(default_factory=lambda: {k: v for k, v in os.environ.items() if k.startswith(_PASSED_ENV)})


@dataclass
class Outcome:
    """What became of a stage on its worker: ``done`` (with its run), ``failed`` or ``blocked`` (a parent failed)."""

    key: str
    status: Literal["done", "failed", "blocked"]
    run_id: str | None = None
    error: str | None = None
    seconds: float = 0.0
    log: str | None = None


def run_job(job: StageJob, *parents: Outcome | str | None) -> Outcome:
    """A worker's whole part: run one stage under its lock, its output going to its log file.

    ``parents`` are the run ids of the stage's parents, or their :class:`Outcome` (what a Ray task
    receives for the object ref of its parent's task). Errors come back as a failed outcome, never
    raised: a raise means the worker itself was lost.
    """
    stage, out = job.stage, Path(job.out)
    ids: list[str] = []
    for parent in parents:
        if isinstance(parent, Outcome):
            if parent.status != "done":
                return Outcome(stage.key, "blocked", error=f"its parent stage {parent.key} {parent.status}")
            parent = parent.run_id
        ids.append(str(parent))
    os.environ.update(job.env)
    with contextlib.suppress(OSError):
        os.chdir(job.cwd)
    if job.threads:
        import torch

        torch.set_num_threads(job.threads)
    log = out / job.log
    started = time.perf_counter()
    with _output_to(log):
        print(f"== {stage.label().strip()}  key={stage.key}  executor={job.executor}  host={socket.gethostname()}  "
              f"pid={os.getpid()}  {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)  # fmt: skip
        try:
            with runner_presence(out), stage_lock(out, stage.key, wait=True):
                run_id = complete_stage(stage, job.spec, out, out / ids[0] if ids else None, job.overrides, None,
                                        {"executor": job.executor, "host": socket.gethostname(), "log": job.log})  # fmt: skip
        except Exception as exc:
            traceback.print_exc()
            error = " ".join(f"{type(exc).__name__}: {exc}".split())
            return Outcome(stage.key, "failed", error=error, seconds=time.perf_counter() - started, log=job.log)
        print(f"== done: {run_id} in {time.perf_counter() - started:.1f} s", flush=True)
    return Outcome(stage.key, "done", run_id, seconds=time.perf_counter() - started, log=job.log)


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """This process's stdout and stderr (file descriptors too, so library and C output) appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(log, "ab", buffering=0) as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def log_name(stage: Stage) -> str:
    """``logs/<step>-<what>-<intermediate>-seed<N>-<key>.log``: readable, and unique by the stage's key."""
    what = stage.target or "+".join(stage.tasks)
    name = f"{stage.step}-{what}-{stage.intermediate}-seed{stage.seed}-{stage.key}"
    return f"logs/{re.sub(r'[^A-Za-z0-9_.+-]', '_', name)}.log"


def require(module: str, extra: str, executor: str) -> Any:
    """Import an optional engine, or say which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"--executor {executor} needs the '{module}' package: pip install 'xstilts[{extra}]'") from None


class Coordinator:
    """The runner's view of a grid under a non-local executor: which stages are ready, and what became of each."""

    def __init__(self, spec: GridSpec, out: Path, overrides: dict[str, Any], progress: Any, executor: str,
                 resources: dict[str, Resources], base: Resources | None = None) -> None:  # fmt: skip
        self.spec, self.out, self.overrides, self.progress, self.executor = spec, out, overrides, progress, executor
        self.stages = plan(spec, out, overrides)
        revalidate(self.stages, out)
        self.by_key = {s.key: s for s in self.stages}
        self.layers = [spec.resources, resources]
        self.base = base
        self.finished = sum(s.status == "done" for s in self.stages)
        self.bar = progress.add_task(f"grid {spec.name} ({executor})", total=len(self.stages)) if progress is not None else None
        if self.bar is not None:
            progress.advance(self.bar, self.finished)

    def resources(self, stage: Stage) -> Resources:
        return stage_resources(stage, self.layers, self.base)

    def job(self, stage: Stage, threads: int | None = None) -> StageJob:
        return StageJob(self.spec, str(self.out.resolve()), self.overrides, stage, log_name(stage), self.executor, threads)

    def todo(self) -> list[Stage]:
        return [s for s in self.stages if s.status == "todo"]

    def ready(self) -> list[Stage]:
        """Stages not yet started whose parents are all done, in plan order."""
        return [s for s in self.todo() if all(self.by_key[d].status == "done" for d in s.deps)]

    def parents(self, stage: Stage) -> list[str]:
        return [str(self.by_key[d].run_id) for d in stage.deps]

    def report(self, stage: Stage, outcome: Outcome) -> None:
        stage.status, stage.run_id = outcome.status, outcome.run_id
        if outcome.status == "done":
            self.finished += 1
            if self.bar is not None:
                self.progress.advance(self.bar)
        where = f"  log {self.out / outcome.log}" if outcome.log else ""
        why = f": {outcome.error}" if outcome.error and outcome.status != "done" else ""
        self.say(f"[{self.finished}/{len(self.stages)}] {outcome.status:7s} {stage.label().strip()}  "
                 f"{outcome.seconds:.1f} s{why}{where}")  # fmt: skip

    def say(self, line: str) -> None:
        """A line on stderr; through a live progress bar's console when there is one, so the bar stays whole."""
        console = getattr(self.progress, "console", None)
        if console is not None:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> list[Stage]:
        """Stages still waiting when nothing more can run are blocked (a parent failed)."""
        for stage in self.stages:
            if stage.status in ("todo", "running"):
                stage.status = "blocked"
        return self.stages


def dispatch(grid: Coordinator, submit: Callable[[list[Stage]], dict[Any, Stage]],
             wait: Callable[[list[Any]], list[tuple[Any, Outcome | BaseException]]], jobs: int | None,
             retries: int = RETRIES) -> None:  # fmt: skip
    """Hand ready stages to ``submit`` (at most ``jobs`` in flight) until nothing more can run.

    ``wait`` returns the handles that finished, each with its outcome, or the exception that says its
    worker was lost (killed, pre-empted: a phase that caught SIGTERM or SIGUSR1 exits after writing a
    checkpoint); such a stage is run again, ``retries`` times, as a rerun of the grid would, and its
    phase resumes from its last checkpoint.
    """
    flying: dict[Any, Stage] = {}
    lost: Counter[str] = Counter()
    while True:
        room = jobs - len(flying) if jobs else len(grid.stages)
        ready = grid.ready()[: max(room, 0)]
        for stage in ready:
            stage.status = "running"
        if ready:
            flying.update(submit(ready))
        if not flying:
            return
        for handle, result in wait(list(flying)):
            stage = flying.pop(handle)
            if isinstance(result, Outcome):
                grid.report(stage, result)
                continue
            lost[stage.key] += 1
            error = " ".join(f"{type(result).__name__}: {result}".split())[:500]
            if lost[stage.key] > retries:
                grid.report(stage, Outcome(stage.key, "failed", error=f"worker lost {lost[stage.key]} times ({error})", log=log_name(stage)))
            else:
                grid.say(f"worker lost, running again: {stage.label().strip()} ({error})")
                stage.status = "todo"


class LocalExecutor:
    """Today's runner: stage after stage, in this process."""

    name = "local"

    def execute(self, spec: GridSpec, out: Path, overrides: dict[str, Any] | None = None, progress: Any = None) -> list[Stage]:
        return grid_module.execute(spec, out, overrides, progress)  # looked up at call time: the one local runner

    def concurrency(self, gpus: int) -> int:
        return 1


class PoolExecutor:
    """N stages at once in spawned worker processes on this machine, one per GPU or per share of the cores."""

    name = "pool"

    def __init__(self, jobs: int | None = None, resources: dict[str, Resources] | None = None) -> None:
        self.jobs, self.resources = jobs, resources or {}

    def concurrency(self, gpus: int) -> int | None:
        return self.jobs

    def execute(self, spec: GridSpec, out: Path, overrides: dict[str, Any] | None = None, progress: Any = None) -> list[Stage]:
        out = Path(out)
        with runner_presence(out):
            grid = Coordinator(spec, out, overrides or {}, progress, self.name, self.resources)
            per_stage = max([grid.resources(s).gpus or 0 for s in grid.todo()] or [0])
            slots = worker_slots(visible_gpus(), per_stage, os.cpu_count() or 1, self.jobs)
            threads = slots[0].get("threads")
            state: dict[str, Any] = {"pool": None}

            def start() -> cf.ProcessPoolExecutor:
                context = multiprocessing.get_context("spawn")
                queue = context.Queue()
                for slot in slots:
                    queue.put(slot)
                return cf.ProcessPoolExecutor(len(slots), mp_context=context, initializer=_take_slot, initargs=(queue,))

            def submit(stages: list[Stage]) -> dict[Any, Stage]:
                if state["pool"] is None:
                    state["pool"] = start()
                return {state["pool"].submit(run_job, grid.job(s, int(threads) if threads else None), *grid.parents(s)): s
                        for s in stages}  # fmt: skip

            def wait(handles: list[Any]) -> list[tuple[Any, Outcome | BaseException]]:
                done, _ = cf.wait(handles, return_when=cf.FIRST_COMPLETED)
                results = [(f, f.exception() or f.result()) for f in done]
                if any(isinstance(r, cf.process.BrokenProcessPool) for _, r in results):  # a worker died: a fresh pool
                    state["pool"].shutdown(wait=False, cancel_futures=True)
                    state["pool"] = None
                return results

            grid.say(f"pool: {len(slots)} workers" + (f", {threads} thread{'s' * (threads != '1')} each" if threads else "")
                     + (f", GPUs {', '.join(s['CUDA_VISIBLE_DEVICES'] for s in slots)}" if "CUDA_VISIBLE_DEVICES" in slots[0] else ""))
            try:
                dispatch(grid, submit, wait, len(slots))
            finally:
                if state["pool"] is not None:
                    state["pool"].shutdown(wait=True, cancel_futures=True)
            return grid.finish()


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` names them (without touching CUDA)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip() and g.strip() != "-1"]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception:
        return []


def worker_slots(gpus: list[str], per_stage: int, cores: int, jobs: int | None) -> list[dict[str, str]]:
    """The environment of each pool worker: its GPUs, or (without GPUs) its share of the cores.

    With GPUs a worker gets ``per_stage`` of them (at least 1), and by default there is one worker per
    such group; ``jobs`` above that shares groups round-robin. Without GPUs the default is 2 workers.
    """
    if gpus:
        size = max(per_stage, 1)
        groups = [gpus[i:i + size] for i in range(0, len(gpus) - size + 1, size)] or [gpus]
        count = jobs or len(groups)
        threads = max(1, cores // count)
        return [{"CUDA_VISIBLE_DEVICES": ",".join(groups[i % len(groups)]), "threads": str(threads)} for i in range(count)]
    count = jobs or 2
    threads = max(1, cores // count)
    return [{"threads": str(threads)} for _ in range(count)]


def _take_slot(queue: Any) -> None:
    """A pool worker's first act: take its slot's GPUs and thread count, before anything touches CUDA."""
    slot = queue.get()
    if "CUDA_VISIBLE_DEVICES" in slot:
        os.environ["CUDA_VISIBLE_DEVICES"] = slot["CUDA_VISIBLE_DEVICES"]
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = slot["threads"]


class RayExecutor:
    """Each stage a Ray task with its resources; a stage's parent reaches it as the parent task's object ref.

    Joins the running Ray instance or ``RAY_ADDRESS`` when there is one, else starts a local one (and
    stops it at the end). A stage's GPUs default to 1 where the cluster has GPUs, else 0. ``jobs``
    caps the stages running at once (Ray's own scheduling caps them by resources too).
    """

    name = "ray"

    def __init__(self, jobs: int | None = None, resources: dict[str, Resources] | None = None) -> None:
        self.jobs, self.resources = jobs, resources or {}

    def concurrency(self, gpus: int) -> int | None:
        return self.jobs

    def execute(self, spec: GridSpec, out: Path, overrides: dict[str, Any] | None = None, progress: Any = None) -> list[Stage]:
        ray = require("ray", "ray", self.name)
        out = Path(out)
        started = not ray.is_initialized()
        if started:
            ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False, log_to_driver=False)
        try:
            with runner_presence(out):
                grid = Coordinator(spec, out, overrides or {}, progress, self.name, self.resources)
                has_gpus = ray.cluster_resources().get("GPU", 0) > 0
                task = ray.remote(run_job)
                refs: dict[str, Any] = {}
                flying: dict[Any, Stage] = {}
                while True:
                    for stage in grid.todo():
                        parents = [grid.by_key[d] for d in stage.deps]
                        if self.jobs:  # a cap: only stages whose parents finished, so a waiting one holds no slot
                            if len(flying) >= self.jobs or any(p.status != "done" for p in parents):
                                continue
                        elif any(p.status != "done" and p.key not in refs for p in parents):
                            continue
                        need = grid.resources(stage)
                        options: dict[str, Any] = {"num_cpus": need.cpus or 1, "max_retries": RETRIES,
                                                   "num_gpus": need.gpus if need.gpus is not None else int(has_gpus),
                                                   "name": log_name(stage)[5:-4]}  # fmt: skip
                        if need.memory_gb:
                            options["memory"] = int(need.memory_gb * 2**30)
                        args = [refs.get(p.key, p.run_id) for p in parents]
                        refs[stage.key] = task.options(**options).remote(grid.job(stage, need.cpus or 1), *args)
                        flying[refs[stage.key]] = stage
                        stage.status = "running"
                    if not flying:
                        break
                    done, _ = ray.wait(list(flying), num_returns=1)
                    for ref in done:
                        stage = flying.pop(ref)
                        try:
                            outcome = ray.get(ref)
                        except Exception as exc:  # the worker died more often than Ray retries, or a parent's did
                            parents_done = all(grid.by_key[d].status == "done" for d in stage.deps)
                            error = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
                            outcome = Outcome(stage.key, "failed" if parents_done else "blocked", error=error, log=log_name(stage))
                        grid.report(stage, outcome)
                return grid.finish()
        finally:
            if started:
                ray.shutdown()


class SlurmExecutor:
    """Stages as Slurm jobs through submitit; stages ready together with equal resources form one job array.

    This runner stays alive to submit each wave once its parents are done (run it on a login node under
    tmux, or in a small CPU job); killed, it is simply started again and submits only what is missing.
    """

    name = "slurm"

    def __init__(self, jobs: int | None = None, resources: dict[str, Resources] | None = None,
                 slurm: dict[str, Any] | None = None, poll_s: float | None = None) -> None:  # fmt: skip
        self.jobs, self.resources, self.slurm, self.poll_s = jobs, resources or {}, slurm or {}, poll_s

    def concurrency(self, gpus: int) -> int | None:
        return self.jobs

    def options(self, spec: GridSpec) -> SlurmOptions:
        """The preset's ``slurm`` block under the command line's ``--slurm`` options."""
        base = spec.slurm.model_dump(exclude_unset=True)
        given = dict(self.slurm)
        if isinstance(given.get("setup"), str):
            given["setup"] = [given["setup"]]
        merged = {**base, **given, "extra": {**base.get("extra", {}), **given.get("extra", {})}}
        try:
            return SlurmOptions.model_validate(merged)
        except ValidationError as err:
            loc, msg, got = first_error(err)
            raise ConfigError(f"slurm.{loc}: {msg} (got {got!r})", f"slurm.{loc}") from None

    def execute(self, spec: GridSpec, out: Path, overrides: dict[str, Any] | None = None, progress: Any = None) -> list[Stage]:
        submitit = require("submitit", "slurm", self.name)
        opts = self.options(spec)
        out = Path(out)
        poll = self.poll_s if self.poll_s is not None else (10.0 if opts.cluster == "slurm" else 0.5)
        with runner_presence(out):
            grid = Coordinator(spec, out, overrides or {}, progress, self.name, self.resources, opts.defaults())
            made: list[Any] = []  # submitit's executor, made at the first submission (a rerun may need none)

            def submit(stages: list[Stage]) -> dict[Any, Stage]:
                if not made:
                    made.append(submitit.AutoExecutor(folder=out / "logs" / "submitit", cluster=opts.cluster))
                executor = made[0]
                groups: dict[tuple[Any, ...], list[Stage]] = {}
                for stage in stages:
                    need = grid.resources(stage)
                    groups.setdefault((need.cpus, need.gpus, need.memory_gb, need.time_min), []).append(stage)
                handles: dict[Any, Stage] = {}
                for (cpus, gpus, mem_gb, time_min), group in groups.items():
                    executor.update_parameters(**self.parameters(spec, opts, cpus, gpus, mem_gb, time_min))
                    with executor.batch() if len(group) > 1 else contextlib.nullcontext():
                        jobs = [executor.submit(run_job, grid.job(s, cpus or 1), *grid.parents(s)) for s in group]
                    handles.update(zip(jobs, group, strict=True))
                    grid.say(f"slurm: submitted {'array of ' if len(group) > 1 else ''}{len(group)} "
                             f"({', '.join(sorted({s.step for s in group}))}) as {jobs[0].job_id.split('_')[0]}")  # fmt: skip
                return handles

            def wait(handles: list[Any]) -> list[tuple[Any, Outcome | BaseException]]:
                while True:
                    done = [job for job in handles if job.done()]
                    if done:
                        return [(job, _job_result(job)) for job in done]
                    time.sleep(poll)

            dispatch(grid, submit, wait, self.jobs, opts.retries)
            return grid.finish()

    def parameters(self, spec: GridSpec, opts: SlurmOptions, cpus: int | None, gpus: int | None, mem_gb: float | None,
                   time_min: float | None) -> dict[str, Any]:  # fmt: skip
        """submitit's parameters for a group of stages: shared ones, then the ``slurm_`` ones."""
        params: dict[str, Any] = {"name": f"xstilts-{spec.name}", "timeout_min": math.ceil(time_min or 24 * 60),
                                  "cpus_per_task": cpus or 1, "gpus_per_node": gpus or 0}  # fmt: skip
        if mem_gb:
            params["mem_gb"] = mem_gb
        if opts.cluster == "slurm":
            for key in ("partition", "account", "qos"):
                if getattr(opts, key):
                    params[f"slurm_{key}"] = getattr(opts, key)
            if opts.setup:
                params["slurm_setup"] = list(opts.setup)
            # the signal xstilts' training phases take as "checkpoint and exit" (submitit's own is USR2)
            params["slurm_additional_parameters"] = {"signal": "USR1@120", **opts.extra}
            params["slurm_array_parallelism"] = opts.array_parallelism or self.jobs or 256
        return params


def _job_result(job: Any) -> Outcome | BaseException:
    try:
        return job.result()
    except Exception as exc:  # killed, preempted, out of time or memory: the worker was lost
        return exc


def make_executor(name: str, jobs: int | None = None, resources: dict[str, Resources] | None = None,
                  slurm: dict[str, Any] | None = None) -> LocalExecutor | PoolExecutor | RayExecutor | SlurmExecutor:  # fmt: skip
    """The executor ``--executor NAME`` asks for; ``jobs`` caps the stages running at once."""
    if name == "local":
        return LocalExecutor()
    if name == "pool":
        return PoolExecutor(jobs, resources)
    if name == "ray":
        return RayExecutor(jobs, resources)
    if name == "slurm":
        return SlurmExecutor(jobs, resources, slurm)
    raise ConfigError(f"--executor {name}: expected one of {', '.join(EXECUTORS)}")
