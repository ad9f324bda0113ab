"""The embedded demo: the ``demo`` preset's grid, then a per-language table per target.

For classification targets a one-sided binomial test asks whether each language's zero-shot accuracy
beats chance (1 / number of labels), which is what "transfer happened" means at this smoke scale.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from scipy.stats import binomtest

from xstilts.config import parse_overrides
from xstilts.experiment.grid import Stage, execute, load_spec
from xstilts.presets import preset_path
from xstilts.progress import make_progress
from xstilts.runs import SCORED_KINDS, RunResult, read_result
from xstilts.tasks.registry import get_task

console = Console()


def chance_p_value(accuracy: float, n: int, chance: float) -> float:
    correct = round(accuracy * n / 100.0)
    return float(binomtest(correct, n, chance, alternative="greater").pvalue)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def demo_table(target: str, results: dict[str, list[RunResult]]) -> Table:
    """Languages x intermediates (mean over seeds), the delta, and the worst-seed binomial p-value."""
    task = get_task(target)
    metric = task.metric
    chance = task.fmt.chance(task)
    names = list(results)
    title = f"{target}: zero-shot {metric} by language (embedded model, 4-bit; smoke scale, not the original model's numbers)"
    table = Table(title=title)
    table.add_column("language")
    for name in names:
        table.add_column(f"inter={name}", justify="right")
    if len(names) == 2:
        table.add_column("delta", justify="right")
    if chance:
        table.add_column(f"p vs {100 * chance:.0f}% ({names[-1]})", justify="right")
    langs = list(results[names[0]][0].metrics)
    for lang in langs:
        vals = [_mean([r.metrics[lang][metric] for r in results[n] if metric in r.metrics.get(lang, {})]) for n in names]
        row = [lang] + [f"{v:.1f}" if v is not None else "-" for v in vals]
        if len(names) == 2:
            row.append(f"{vals[1] - vals[0]:+.1f}" if None not in vals else "-")
        if chance:
            ps = [chance_p_value(r.metrics[lang][metric], int(r.metrics[lang]["n"]), chance) for r in results[names[-1]] if metric in r.metrics.get(lang, {})]
            row.append(f"{max(ps):.1e}" if ps else "-")
        table.add_row(*row)
    avg = [_mean([r.average[metric] for r in results[n] if metric in r.average]) for n in names]
    extra = [f"{avg[1] - avg[0]:+.1f}"] if len(names) == 2 and None not in avg else ([""] if len(names) == 2 else [])
    table.add_row("average", *[f"{v:.1f}" if v is not None else "-" for v in avg], *extra, *([""] if chance else []), style="bold")
    return table


@dataclass
class DemoRun:
    """The demo's results by target and intermediate, and its grid's stages."""

    results: dict[str, dict[str, list[RunResult]]]
    stages: list[Stage]

    @property
    def pending(self) -> list[Stage]:
        """Stages left undone (blocked, or held by another runner): the demo is not finished."""
        return [s for s in self.stages if s.status != "done"]


def run_demo(out: Path, overrides: list[str], preset_name: str = "demo") -> DemoRun:
    spec = load_spec(preset_path(preset_name))
    user = parse_overrides(overrides)
    start = time.perf_counter()
    from xstilts.models.encoder import resolve_model_path

    with console.status("preparing the embedded model (the first run converts it once)"):
        resolve_model_path(user.get("model", {}).get("name", spec.model))
    with make_progress() as progress:
        stages = execute(spec, out, user, progress)
    results: dict[str, dict[str, list[RunResult]]] = {}
    for stage in stages:
        if stage.kind in SCORED_KINDS and stage.run_id:
            res = read_result(Path(out) / stage.run_id)
            results.setdefault(stage.target, {}).setdefault(stage.intermediate, []).append(res)
    for target, by_inter in results.items():
        console.print(demo_table(target, by_inter))
    demo = DemoRun(results, stages)
    if not demo.pending:
        console.print(f"demo finished in {time.perf_counter() - start:.0f} s; runs in {out}; next: xstilts report {out}")
    return demo
