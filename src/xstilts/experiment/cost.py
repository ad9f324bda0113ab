"""What a grid will cost before it runs: GPU-hours per stage, wall time on N GPUs, disk for checkpoints.

A stage's time comes from the best figure at hand, in this order:

1. ``measured``: throughput of finished runs of the same model and task in the run folder
   (``timings.examples_per_s`` for training, ``timings.seconds`` for evaluations);
2. ``measured (model)``: the same model's mean training throughput over all its finished runs;
3. ``default``: the model's size on a reference GPU, :data:`REFERENCE` (an A100 in bf16 at 30% of its
   peak): training costs 6 FLOPs per non-embedding parameter per token, scoring 2, at ``max_length``
   tokens an example.

A stage without a declared GPU count is planned on one GPU. The wall time is a list schedule of the
DAG: whenever GPUs free up, the first ready stages in plan order that fit start, at most ``jobs`` at
once (one at a time under ``local``), which is what the executors do.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xstilts.config import ConfigError, RunConfig
from xstilts.experiment.grid import GridSpec, Stage, intermediate_config, target_config
from xstilts.experiment.resources import Resources, stage_resources
from xstilts.runs import RESULT_FILE, WEIGHTS_FILE, RunResult, read_result
from xstilts.tasks.registry import get_task

#: the GPU that default throughputs assume
REFERENCE = {"gpu": "A100 (bf16)", "peak_flops": 312e12, "utilisation": 0.30}
#: examples scored per language when a preset does not cap them (XTREME's test sets hold 1k to 10k)
DEFAULT_EVAL_EXAMPLES = 2000
#: bytes a checkpoint keeps per parameter (fp32 safetensors), and a resumable one adds Adam's two moments
BYTES_PER_PARAM = 4
RESUME_FACTOR = 3

#: (all parameters, non-embedding parameters) of models whose config may not be at hand offline
KNOWN_MODELS: dict[str, tuple[int, int]] = {
    "tiny-random": (8_030_000, 17_000),
    "embedded": (117_650_000, 21_300_000),
    "intfloat/multilingual-e5-small": (117_650_000, 21_300_000),
    "xlm-roberta-base": (278_000_000, 85_500_000),
    "FacebookAI/xlm-roberta-base": (278_000_000, 85_500_000),
    "xlm-roberta-large": (560_000_000, 303_000_000),
    "FacebookAI/xlm-roberta-large": (560_000_000, 303_000_000),
    "intfloat/multilingual-e5-large": (560_000_000, 303_000_000),
    "bert-base-multilingual-cased": (178_000_000, 85_500_000),
    "google-bert/bert-base-multilingual-cased": (178_000_000, 85_500_000),
}


@dataclass
class StageCost:
    key: str
    step: str
    seconds: float
    gpus: int
    gpu_hours: float
    #: ``done`` (its recorded time), ``measured``, ``measured (model)`` or ``default``
    source: str
    checkpoint_bytes: int = 0


@dataclass
class CostPlan:
    executor: str
    gpus: int
    jobs: int | None
    model: str
    model_params: int
    params_source: str
    stages: list[StageCost]
    gpu_hours_left: float = 0.0
    gpu_hours_done: float = 0.0
    wall_hours: float = 0.0
    critical_path_hours: float = 0.0
    checkpoints: int = 0
    checkpoint_bytes: int = 0
    disk_kept_bytes: int = 0
    disk_to_write_bytes: int = 0
    disk_resume_peak_bytes: int = 0
    reference: dict[str, Any] = field(default_factory=lambda: dict(REFERENCE))

    def by_step(self) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for c in self.stages:
            row = rows.setdefault(c.step, {"stages": 0, "left": 0, "gpu_hours_left": 0.0, "sources": set()})
            row["stages"] += 1
            if c.source != "done":
                row["left"] += 1
                row["gpu_hours_left"] += c.gpu_hours
                row["sources"].add(c.source)
        return {k: {**v, "sources": sorted(v["sources"])} for k, v in rows.items()}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("stages")
        return {**data, "by_step": self.by_step()}


def model_size(name: str) -> tuple[int, int, str]:
    """(all parameters, non-embedding parameters, where the figure came from) for a model name or folder."""
    config = _local_config(name)
    if config:
        try:
            h, layers, inner = config["hidden_size"], config["num_hidden_layers"], config.get("intermediate_size", 4 * config["hidden_size"])
            body = layers * (4 * h * h + 2 * h * inner + 9 * h + inner)
            embed = (config["vocab_size"] + config.get("max_position_embeddings", 512) + config.get("type_vocab_size", 1)) * h
            return body + embed, body, "config.json"
        except (KeyError, TypeError):
            pass
    if name in KNOWN_MODELS:
        total, body = KNOWN_MODELS[name]
        return total, body, "known size"
    total, body = KNOWN_MODELS["xlm-roberta-base"]
    return total, body, "assumed base-sized"


def _local_config(name: str) -> dict[str, Any] | None:
    """A model's ``config.json`` when it is a local folder or already in the Hugging Face cache (no download)."""
    path: Path | None = Path(name) / "config.json"
    if not path.is_file():
        try:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(name, "config.json")
            path = Path(found) if isinstance(found, str) else None
        except Exception:
            path = None
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _finished(out: Path) -> Iterator[tuple[Path, RunResult]]:
    for path in Path(out).glob(f"*/{RESULT_FILE}"):
        try:
            yield path.parent, read_result(path.parent)
        except (OSError, ValueError):
            continue


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def stage_config(stage: Stage, spec: GridSpec, overrides: dict[str, Any]) -> RunConfig:
    inter = next((i for i in spec.intermediates if i.name == stage.intermediate), None)
    if stage.phase == "intermediate" and inter is not None:
        return intermediate_config(spec, inter, stage.seed, overrides)
    return target_config(spec, stage.target or stage.config_task or stage.tasks[0], stage.seed, overrides)


def cost_plan(
    stages: list[Stage], spec: GridSpec, out: Path, overrides: dict[str, Any] | None = None, *, gpus: int = 1,
    executor: str = "local", jobs: int | None = None, resources: dict[str, Resources] | None = None,
) -> CostPlan:  # fmt: skip
    """The cost of ``stages`` (as :func:`xstilts.experiment.grid.plan` and ``estimate`` left them)."""
    overrides = overrides or {}
    total, body, params_source = model_size(spec.model)
    flops = REFERENCE["peak_flops"] * REFERENCE["utilisation"]
    runs = [(path, r) for path, r in _finished(out) if r.model == spec.model]
    speed_by_task: dict[str, list[float]] = {}
    eval_seconds: dict[tuple[str, str], list[float]] = {}
    sizes: list[int] = []
    for path, r in runs:
        if r.kind == "train" and r.timings.examples_per_s:
            speed_by_task.setdefault(r.task, []).append(r.timings.examples_per_s)
            weights = path / "encoder" / WEIGHTS_FILE
            if weights.is_file():
                sizes.append(weights.stat().st_size)
        elif r.kind != "train" and r.timings.seconds:
            eval_seconds.setdefault((r.kind, r.task), []).append(r.timings.seconds)
    model_speed = _mean([s for v in speed_by_task.values() for s in v])
    ckpt = int(_mean([float(s) for s in sizes]) or total * BYTES_PER_PARAM)
    recorded = _recorded_seconds(out)
    layers = [spec.resources, resources or {}]
    base = spec.slurm.defaults() if executor == "slurm" else None

    costs: list[StageCost] = []
    for stage in stages:
        need = stage_resources(stage, layers, base).gpus
        n_gpus = 1 if need is None else need
        keeps = ckpt if stage.kind == "train" else 0
        if stage.status == "done":
            seconds = recorded.get(stage.key, 0.0)
            costs.append(StageCost(stage.key, stage.step, seconds, n_gpus, seconds * n_gpus / 3600, "done", keeps))
            continue
        cfg = stage_config(stage, spec, overrides)
        if stage.kind == "train":
            examples = stage.examples or 0
            task = "+".join(stage.tasks)
            if not examples:  # a task without a known training-set size, and no max_steps
                seconds, source = 0.0, "unknown size"
            elif speed_by_task.get(task):
                seconds, source = examples / _mean(speed_by_task[task]), "measured"  # type: ignore[operator]
            elif model_speed:
                seconds, source = examples / model_speed, "measured (model)"
            else:
                seconds, source = examples * 6 * body * cfg.train.max_length / flops, "default"
        else:
            task = str(stage.target)
            measured = eval_seconds.get((stage.kind, task))
            if measured:
                seconds, source = _mean(measured) or 0.0, "measured"
            else:
                langs = spec.languages.get(task) or get_task(task).scored_languages
                length = cfg.retrieval.max_length if stage.kind == "retrieval" else (cfg.eval.max_length or cfg.train.max_length)
                examples = len(langs) * (cfg.eval.max_examples or DEFAULT_EVAL_EXAMPLES) * (2 if stage.kind == "retrieval" else 1)
                seconds, source = examples * 2 * body * length / flops, "default"
        costs.append(StageCost(stage.key, stage.step, seconds, n_gpus, seconds * n_gpus / 3600, source, keeps))

    concurrency = 1 if executor == "local" else jobs
    by_key = {c.key: c for c in costs}
    dag = [(s.key, [d for d in s.deps], 0.0 if s.status == "done" else by_key[s.key].seconds, by_key[s.key].gpus) for s in stages]
    wall = list_schedule(dag, gpus, concurrency)
    critical = list_schedule(dag, sum(g for *_, g in dag) or 1, None)
    trains = [s for s in stages if s.kind == "train"]
    left = [c for c in costs if c.source != "done"]
    in_flight = min(concurrency or gpus, gpus, len([s for s in trains if s.status != "done"]))
    return CostPlan(
        executor=executor, gpus=gpus, jobs=jobs, model=spec.model, model_params=total, params_source=params_source,
        stages=costs, gpu_hours_left=sum(c.gpu_hours for c in left),
        gpu_hours_done=sum(c.gpu_hours for c in costs if c.source == "done"),
        wall_hours=wall / 3600, critical_path_hours=critical / 3600, checkpoints=len(trains), checkpoint_bytes=ckpt,
        disk_kept_bytes=ckpt * len(trains), disk_to_write_bytes=ckpt * sum(s.status != "done" for s in trains),
        disk_resume_peak_bytes=RESUME_FACTOR * ckpt * in_flight,
    )  # fmt: skip


def _recorded_seconds(out: Path) -> dict[str, float]:
    """The time each finished stage took, as its record in ``stages/`` says."""
    seconds: dict[str, float] = {}
    for path in (Path(out) / "stages").glob("*.json"):
        try:
            seconds[path.stem] = float(json.loads(path.read_text(encoding="utf-8"))["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return seconds


def list_schedule(dag: list[tuple[str, list[str], float, int]], gpus: int, jobs: int | None = None) -> float:
    """The wall time of a DAG of ``(key, parents, seconds, gpus)`` in priority order on ``gpus`` GPUs.

    Whenever a stage ends, every ready stage that fits starts, first in list order first, at most
    ``jobs`` at once. A stage asking for no GPU is limited by ``jobs`` only.

    Example:
        >>> list_schedule([("a", [], 2.0, 1), ("b", ["a"], 1.0, 1), ("c", [], 2.0, 1)], gpus=2)
        3.0
    """
    order = {key: i for i, (key, *_) in enumerate(dag)}
    spec = {key: (parents, seconds, need) for key, parents, seconds, need in dag}
    for key, (_, _, need) in spec.items():
        if need > gpus:
            raise ConfigError(f"stage {key} asks for {need} GPUs; the plan has {gpus} (--gpus)")
    waiting = {key: {p for p in parents if p in spec} for key, (parents, _, _) in spec.items()}
    ready = sorted((k for k, deps in waiting.items() if not deps), key=order.__getitem__)
    running: list[tuple[float, int, str]] = []
    free, now, done = gpus, 0.0, 0
    children: dict[str, list[str]] = {}
    for key, deps in waiting.items():
        for parent in deps:
            children.setdefault(parent, []).append(key)
    while done < len(spec):
        started = []
        for key in ready:
            need = spec[key][2]
            if need <= free and (jobs is None or len(running) < jobs):
                free -= need
                heapq.heappush(running, (now + spec[key][1], order[key], key))
                started.append(key)
        ready = [k for k in ready if k not in started]
        if not running:
            raise ConfigError("the plan's stages cannot all run: a cycle, or a stage that never fits")
        now, _, key = heapq.heappop(running)
        finished = [key]
        while running and running[0][0] <= now:
            finished.append(heapq.heappop(running)[2])
        for key in finished:
            done += 1
            free += spec[key][2]
            for child in children.get(key, []):
                waiting[child].discard(key)
                if not waiting[child]:
                    ready.append(child)
        ready.sort(key=order.__getitem__)
    return now


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def hours(h: float) -> str:
    return f"{h * 60:.1f} min" if h < 1 else (f"{h:.1f} h" if h < 48 else f"{h:.0f} h ({h / 24:.1f} days)")


def describe(cost: CostPlan) -> list[str]:
    """The cost plan as the lines ``xstilts run --dry-run`` prints under the plan."""
    cap = "one stage at a time" if cost.executor == "local" else (f"at most {cost.jobs} stages at once" if cost.jobs else "no cap on stages at once")
    lines = [f"cost plan: --executor {cost.executor}, {cost.gpus} GPU{'s' if cost.gpus != 1 else ''}, {cap}; "
             f"{cost.model} ({cost.model_params / 1e6:.0f}M parameters, {cost.params_source})"]  # fmt: skip
    for step, row in cost.by_step().items():
        if row["left"]:
            each = row["gpu_hours_left"] / row["left"]
            lines.append(f"  {step:12s} {row['left']:4d} stages left  {row['gpu_hours_left']:9.2f} GPU-h  "
                         f"({hours(each)} each; {', '.join(row['sources'])})")  # fmt: skip
    if any(c.source == "default" for c in cost.stages):
        ref = cost.reference
        lines.append(f"  default throughput: {ref['gpu']} at {ref['utilisation']:.0%} of {ref['peak_flops'] / 1e12:.0f} TFLOPS "
                     f"(6 FLOPs a parameter a token to train, 2 to score); finished runs in --out replace it")  # fmt: skip
    lines.append(f"  total: {cost.gpu_hours_left:.2f} GPU-h left" + (f" ({cost.gpu_hours_done:.2f} done)" if cost.gpu_hours_done else "")
                 + f"; wall time ≈ {hours(cost.wall_hours)} on {cost.gpus} GPU{'s' if cost.gpus != 1 else ''} "
                 f"(critical path {hours(cost.critical_path_hours)})")  # fmt: skip
    lines.append(f"  disk: {cost.checkpoints} checkpoints × {human_bytes(cost.checkpoint_bytes)} = {human_bytes(cost.disk_kept_bytes)} kept "
                 f"({human_bytes(cost.disk_to_write_bytes)} still to write), + up to {human_bytes(cost.disk_resume_peak_bytes)} "
                 f"of resumable checkpoints (weights and optimiser state) while phases run")  # fmt: skip
    return lines


def stage_gpu_hours(cost: CostPlan) -> dict[str, dict[str, Any]]:
    """Per stage key: its cost fields, for the plan's JSON."""
    return {c.key: {"gpus": c.gpus, "seconds_est": round(c.seconds, 3), "gpu_hours": round(c.gpu_hours, 6), "cost_source": c.source}
            for c in cost.stages}  # fmt: skip
