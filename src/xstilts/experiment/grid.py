"""The study as a DAG of stages: intermediate(task, seed) -> target(intermediate, train task, seed)
-> zero-shot evaluation; retrieval targets are scored on the intermediate encoder directly.

Stages are keyed by a hash of everything that determines them (config, seed, parent stage), and map
to content-hashed runs (which also cover the data fingerprints). Targets that share English training
data share one target training (XQuAD and MLQA both train on SQuAD), and one intermediate run serves
every target. Rerunning after a crash runs only what is missing; a lock per stage keeps two runners
off the same stage. A stage is done when its run's ``result.json`` parses; a run whose files no longer
match their recorded sha256 is built again before a later stage uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from xstilts.config import (
    ConfigError,
    RunConfig,
    build_config,
    dotted_to_tree,
    first_error,
    in_file,
    load_yaml,
    merge,
    phase_config,
)
from xstilts.experiment import transfer
from xstilts.experiment.resources import Resources, SlurmOptions, check_scopes
from xstilts.paths import atomic_write_json, safe_name
from xstilts.runs import NO_INTERMEDIATE, RunKind, RunResult, finished_result, is_finished, read_result
from xstilts.tasks.registry import get_task
from xstilts.train.phase import NOT_IN_RUN_ID

#: which of the two training phases a ``train`` stage is
Phase = Literal["intermediate", "target"]


class Intermediate(BaseModel):
    """An intermediate entry: one task, ``none``, or a named multi-task mix with a sampling rule."""

    model_config = ConfigDict(extra="forbid")
    name: str
    tasks: list[str] = []
    sampling: Literal["proportional", "capped", "temperature", "uniform"] | None = None
    sampling_cap: int | None = None
    sampling_temperature: float | None = None

    @property
    def task_list(self) -> list[str]:
        return self.tasks or ([] if self.name == NO_INTERMEDIATE else self.name.split("+"))


class GridSpec(BaseModel):
    """An experiment: model, intermediate tasks, targets, seeds, languages and config overrides."""

    model_config = ConfigDict(extra="forbid")
    name: str = "grid"
    model: str = "embedded"
    data_dir: str | None = None
    intermediates: list[Intermediate]
    targets: list[str]
    seeds: list[int] = [1]
    languages: dict[str, list[str]] = {}
    #: dotted ``key: value`` overrides for every phase
    config: dict[str, Any] = {}
    #: per-task dotted overrides, applied to the phases that train or evaluate that task
    task_config: dict[str, dict[str, Any]] = {}
    #: what each stage asks of its machine, by scope: ``default``, a step, a task or an intermediate's name
    resources: dict[str, Resources] = {}
    #: sbatch options for ``--executor slurm``
    slurm: SlurmOptions = SlurmOptions()

    @field_validator("intermediates", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return [{"name": v} if isinstance(v, str) else v for v in value]


def load_spec(path: Path) -> GridSpec:
    """A grid spec from YAML, checked before any work starts: each error names the file and the key's line.

    Beyond the schema, every task named must exist and every ``config``/``task_config`` key must be a
    valid, in-range config value, so a typo fails now rather than hours into a grid.
    """
    try:
        spec = GridSpec.model_validate(load_yaml(path))
    except ValidationError as err:
        loc, msg, got = first_error(err)
        raise in_file(path, loc, f"{loc}: {msg} (got {got!r})") from None
    named = [(f"targets.{i}", t) for i, t in enumerate(spec.targets)]
    named += [(f"intermediates.{i}", t) for i, m in enumerate(spec.intermediates) for t in m.task_list]
    named += [(f"task_config.{t}", t) for t in spec.task_config]
    for key, task in named:
        try:
            get_task(task)
        except KeyError as err:
            raise in_file(path, key, str(err.args[0])) from None
    names = {t for _, t in named} | {m.name for m in spec.intermediates}
    scope = check_scopes(spec.resources, names)
    if scope is not None:
        raise in_file(path, f"resources.{scope}", f"resources.{scope}: a scope is 'default', a step "
                      f"(intermediate, target, transfer, retrieval), or a task or intermediate of this grid")
    layers = [("config.", spec.config)] + [(f"task_config.{t}.", c) for t, c in spec.task_config.items()]
    for prefix, layer in layers:
        try:
            build_config(dotted_to_tree(layer))
        except ConfigError as err:
            raise in_file(path, err.key, str(err), prefix) from None
    return spec


@dataclass
class Stage:
    """One run of the grid: its kind is the kind of run it makes (``train`` stages also name their phase)."""

    kind: RunKind
    key: str
    seed: int
    intermediate: str
    tasks: list[str]
    target: str | None = None
    deps: list[str] = field(default_factory=list)
    status: str = "todo"
    run_id: str | None = None
    #: for a target training: the target whose config it follows
    config_task: str | None = None
    estimate_s: float | None = None
    examples: int | None = None
    phase: Phase | None = None

    @property
    def step(self) -> str:
        """What the stage does in the study's words: intermediate, target, transfer or retrieval."""
        return self.phase or self.kind

    def label(self) -> str:
        what = self.target or "+".join(self.tasks)
        return f"{self.step:12s} {what:14s} inter={self.intermediate:12s} seed={self.seed}"


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _identity(cfg: RunConfig) -> dict[str, Any]:
    """A stage's config as its key reads it: what it computes, not how often it saves its progress."""
    return cfg.model_dump(mode="json", exclude={"train": NOT_IN_RUN_ID})


def user_tree(spec: GridSpec, overrides: dict[str, Any], task: str | None = None, seed: int | None = None) -> dict[str, Any]:
    tree = dotted_to_tree(dict(spec.config))
    if spec.data_dir:  # before task_config, so one task may read another root (intermediates' data)
        tree = merge(tree, {"data": {"data_dir": spec.data_dir}})
    if task and task in spec.task_config:
        tree = merge(tree, dotted_to_tree(dict(spec.task_config[task])))
    tree = merge(tree, {"model": {"name": spec.model}})
    tree = merge(tree, overrides)
    if seed is not None:
        tree = merge(tree, {"seed": seed})
    return tree


def intermediate_config(spec: GridSpec, inter: Intermediate, seed: int, overrides: dict[str, Any]) -> RunConfig:
    tasks = inter.task_list
    tree = user_tree(spec, overrides, tasks[0] if len(tasks) == 1 else None, seed)
    defaults = get_task(tasks[0]).defaults if len(tasks) == 1 else {}
    cfg = phase_config(defaults, tree, intermediate=True)
    mix = {k: v for k, v in {"sampling": inter.sampling, "sampling_cap": inter.sampling_cap, "sampling_temperature": inter.sampling_temperature}.items() if v is not None}
    return cfg.model_copy(update={"train": cfg.train.model_copy(update=mix)}) if mix else cfg


def target_config(spec: GridSpec, target: str, seed: int, overrides: dict[str, Any]) -> RunConfig:
    return phase_config(get_task(target).defaults, user_tree(spec, overrides, target, seed))


def plan(spec: GridSpec, out: Path, overrides: dict[str, Any] | None = None) -> list[Stage]:
    """Every stage of the grid, in dependency order, with its status in ``out``."""
    overrides = overrides or {}
    stages: dict[str, Stage] = {}
    for seed in spec.seeds:
        for inter in spec.intermediates:
            inter_key = None
            if inter.name != NO_INTERMEDIATE:
                cfg = intermediate_config(spec, inter, seed, overrides)
                inter_key = _key("intermediate", inter.task_list, _identity(cfg))
                stages.setdefault(inter_key, Stage("train", inter_key, seed, inter.name, inter.task_list, phase="intermediate"))
            for target in spec.targets:
                cfg = target_config(spec, target, seed, overrides)
                langs = spec.languages.get(target)
                deps = [inter_key] if inter_key else []
                if not transfer.is_trained(target):
                    key = _key("retrieval", target, langs, _identity(cfg), inter_key, inter.name)
                    stages.setdefault(key, Stage("retrieval", key, seed, inter.name, [], target, deps))
                    continue
                train_task = transfer.target_training_task(target, cfg)
                # the split a target is scored on is no part of its training: targets that differ only
                # there (XQuAD's held-out half, M2QA's domains) share one trained model
                trained_on = cfg.data.model_dump(mode="json", exclude={"eval_split"})
                t_key = _key("target", train_task, cfg.train.model_dump(mode="json", exclude=NOT_IN_RUN_ID), trained_on,
                             cfg.model.model_dump(mode="json"), seed, inter_key)
                stages.setdefault(t_key, Stage("train", t_key, seed, inter.name, [train_task], None, deps, config_task=target, phase="target"))
                e_key = _key("evaluate", target, langs, _identity(cfg), t_key, inter.name)
                stages.setdefault(e_key, Stage("transfer", e_key, seed, inter.name, [train_task], target, [t_key]))
    ordered = list(stages.values())
    for stage in ordered:
        record = _read_index(out, stage.key)
        if record and is_finished(Path(out) / record["run_id"]):
            stage.status, stage.run_id = "done", record["run_id"]
    return ordered


def _index_path(out: Path, key: str) -> Path:
    return Path(out) / "stages" / f"{key}.json"


def _read_index(out: Path, key: str) -> dict[str, Any] | None:
    """A stage's record; a damaged one, or one whose run id is not a plain folder name, counts as absent."""
    path = _index_path(out, key)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        safe_name(record["run_id"], "run id")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if isinstance(record, dict) else None


@contextmanager
def stage_lock(out: Path, key: str, wait: bool = False) -> Iterator[bool]:
    """An exclusive lock on a stage; yields False when another runner holds it (``wait``: until it is free)."""
    path = Path(out) / "locks" / f"{key}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


@contextmanager
def runner_presence(out: Path) -> Iterator[None]:
    """Every runner holds a presence lock while it runs; the first to arrive clears dead temp folders.

    A killed run leaves ``.<run>.tmp`` folders that are never read. They may be removed only when no
    other runner is alive (one of them could be writing it), which the ``.runners`` count tells.
    """
    Path(out).mkdir(parents=True, exist_ok=True)
    guard = FileLock(Path(out) / ".runners.lock")
    me = Path(out) / ".runners" / f"{os.getpid()}-{time.monotonic_ns()}.lock"
    me.parent.mkdir(exist_ok=True)
    mine = FileLock(me)
    with guard:
        mine.acquire()
        alive = [p for p in me.parent.glob("*.lock") if p != me and _held(p)]
        if not alive:  # left by a killed run (a run folder, a replaced one, a stage record); never read
            for tmp in [*Path(out).glob(".*.tmp"), *Path(out).glob("stages/.*.tmp")]:
                if tmp.is_dir():
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    tmp.unlink(missing_ok=True)
    try:
        yield
    finally:
        mine.release()
        me.unlink(missing_ok=True)


def _held(path: Path) -> bool:
    """Whether another runner still holds its presence lock (a dead runner's lock is free)."""
    probe = FileLock(path)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    path.unlink(missing_ok=True)
    return False


def estimate(stages: list[Stage], spec: GridSpec, out: Path, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``examples`` and ``estimate_s`` from training-set sizes and throughput measured in ``out``."""
    overrides = overrides or {}
    speeds = [r.timings.examples_per_s for r in _finished(out) if r.kind == "train" and r.model == spec.model and r.timings.examples_per_s]
    speed = sum(speeds) / len(speeds) if speeds else None
    for stage in stages:
        if stage.kind != "train":
            continue
        inter = next((i for i in spec.intermediates if i.name == stage.intermediate), None)
        if stage.phase == "intermediate" and inter is not None:
            cfg = intermediate_config(spec, inter, stage.seed, overrides)
        else:
            cfg = target_config(spec, stage.config_task or stage.tasks[0], stage.seed, overrides)
        if cfg.train.max_steps:
            n = cfg.train.max_steps * cfg.train.batch_size * cfg.train.grad_accum
        else:
            sizes = [train_size(t) for t in stage.tasks]
            n = int(cfg.train.epochs * sum(sizes)) if all(sizes) else None
        stage.examples = n
        stage.estimate_s = n / speed if (n and speed) else None


def train_size(name: str) -> int | None:
    """A task's English training examples; a mixture's (ANLI+) is the sum of its parts'."""
    task = get_task(name)
    if task.train_size or not task.components:
        return task.train_size
    parts = [train_size(c) for c in task.components]
    return sum(parts) if all(parts) else None  # type: ignore[arg-type]


def _finished(out: Path) -> Iterator[Any]:
    for path in Path(out).glob("*/result.json"):
        try:
            yield read_result(path.parent)
        except (OSError, ValueError):
            continue


def plan_json(stages: list[Stage]) -> list[dict[str, Any]]:
    return [asdict(s) for s in stages]


def execute(spec: GridSpec, out: Path, overrides: dict[str, Any] | None = None, progress: Any = None) -> list[Stage]:
    """Run every stage not yet done, in dependency order; returns the stages with final status.

    A stage that another runner holds is waited for once nothing else can run, so two runners on one
    folder both end with every stage done, and none done twice. A finished stage whose run was damaged
    since (a file no longer matches its recorded sha256) is run again before a later stage uses it.
    """
    overrides = overrides or {}
    out = Path(out)
    stages = plan(spec, out, overrides)
    by_key = {s.key: s for s in stages}
    bar = progress.add_task(f"grid {spec.name}", total=len(stages)) if progress is not None else None
    checked: set[str] = set()
    counted = {s.key for s in stages if s.status == "done"}

    def usable(stage: Stage) -> bool:
        """Whether a done stage's run can be used by a later stage: its files match their sha256."""
        if stage.run_id not in checked:
            if finished_result(out / str(stage.run_id)) is None:
                return False
            checked.add(str(stage.run_id))
        return True

    def attempt(stage: Stage) -> None:
        deps = [by_key[d] for d in stage.deps]
        if any(d.status != "done" for d in deps):
            stage.status = "blocked"
            return
        for dep in deps:
            if not usable(dep):  # damaged since it finished: built again before it is used
                dep.status = "todo"
                attempt(dep)
                if dep.status != "done":
                    stage.status = "blocked"
                    return
        with stage_lock(out, stage.key) as mine:
            if not mine:
                stage.status = "running elsewhere"
                return
            parent = out / str(deps[0].run_id) if deps else None
            if bar is not None:  # which stage the plain log lines of a non-terminal run name
                progress.update(bar, stage=f"{stage.step} {stage.target or '+'.join(stage.tasks)} {stage.intermediate} seed {stage.seed}")
            stage.status, stage.run_id = "done", complete_stage(stage, spec, out, parent, overrides, progress)
            checked.add(str(stage.run_id))
        if bar is not None and stage.key not in counted:
            counted.add(stage.key)
            progress.advance(bar)

    with runner_presence(out):
        if bar is not None:
            progress.advance(bar, len(counted))
        while True:
            for stage in stages:
                if stage.status != "done":
                    attempt(stage)
            held = [s for s in stages if s.status == "running elsewhere"]
            if not held:
                break
            with stage_lock(out, held[0].key, wait=True):  # nothing else can run: wait for the other runner
                pass
            for stage in stages:
                if stage.status in ("running elsewhere", "blocked"):
                    stage.status = "todo"
    return stages


def complete_stage(
    stage: Stage, spec: GridSpec, out: Path, parent: Path | None, overrides: dict[str, Any], progress: Any = None,
    record: dict[str, Any] | None = None,
) -> str:
    """The stage's run id, running it unless another runner finished it meanwhile; call it holding its lock.

    ``record``: more fields for the stage's record (the executor, the log file).
    """
    done = _read_index(out, stage.key)
    if done and finished_result(out / done["run_id"]) is not None:
        return str(done["run_id"])
    started = time.perf_counter()
    result = run_stage(stage, spec, {i.name: i for i in spec.intermediates}, out, parent, overrides, progress)
    atomic_write_json(_index_path(out, stage.key), {"run_id": result.run_id, "kind": stage.kind,
                                                    "seconds": time.perf_counter() - started, "pid": os.getpid(),
                                                    **(record or {})})
    return result.run_id


def revalidate(stages: list[Stage], out: Path) -> None:
    """Mark "todo" every done stage that a pending stage uses and whose run was damaged since it finished
    (its files no longer match their sha256), and in turn the damaged stages that one uses."""
    by_key = {s.key: s for s in stages}
    pending = [s for s in stages if s.status != "done"]
    checked: set[str] = set()
    while pending:
        for key in pending.pop().deps:
            dep = by_key[key]
            if dep.status == "done" and key not in checked:
                checked.add(key)
                if finished_result(Path(out) / str(dep.run_id)) is None:
                    dep.status, dep.run_id = "todo", None
                    pending.append(dep)


def run_stage(
    stage: Stage, spec: GridSpec, inters: dict[str, Intermediate], out: Path, parent: Path | None, overrides: dict[str, Any], progress: Any
) -> RunResult:
    """One stage through the recipe's own stage functions (the same ones ``xstilts transfer`` calls)."""
    if stage.phase == "intermediate":
        cfg = intermediate_config(spec, inters[stage.intermediate], stage.seed, overrides)
        return transfer.train_intermediate(stage.tasks, cfg, out, progress)
    target = stage.target or stage.config_task or stage.tasks[0]
    cfg = target_config(spec, target, stage.seed, overrides)
    if stage.phase == "target":
        return transfer.train_target(target, cfg, out, parent, progress)
    languages = spec.languages.get(target)
    if stage.kind == "retrieval":
        return transfer.retrieve(target, cfg, parent, out, languages, stage.intermediate, progress)
    assert parent is not None, "a zero-shot stage depends on its target training"
    return transfer.zero_shot(target, cfg, parent, out, languages, stage.intermediate, progress)
