"""The embedded demo: the ``demo`` preset's transfers, then a per-language table with a binomial test.

The test asks whether each language's zero-shot accuracy beats chance (1 / number of labels), which
is what "transfer happened" means at this smoke scale.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from scipy.stats import binomtest

from xstilts.config import dotted_to_tree, merge, parse_overrides
from xstilts.experiment.results import RunResult
from xstilts.experiment.transfer import run_transfer
from xstilts.presets import load_preset
from xstilts.progress import make_progress
from xstilts.tasks.registry import get_task

console = Console()


def preset_user_config(preset: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    tree = dotted_to_tree(dict(preset.get("config") or {}))
    tree = merge(tree, {"model": {"name": preset.get("model", "embedded")}})
    return merge(tree, parse_overrides(overrides))


def chance_p_value(accuracy: float, n: int, chance: float) -> float:
    correct = round(accuracy * n / 100.0)
    return float(binomtest(correct, n, chance, alternative="greater").pvalue)


def demo_table(target: str, results: dict[str, RunResult]) -> Table:
    task = get_task(target)
    metric = task.metric
    chance = 1.0 / len(task.labels) if task.labels else None
    names = list(results)
    table = Table(title=f"{target}: zero-shot {metric} by language (embedded model, 4-bit; smoke scale)")
    table.add_column("language")
    for name in names:
        table.add_column(f"inter={name}", justify="right")
    if len(names) == 2:
        table.add_column("delta", justify="right")
    if chance:
        table.add_column(f"p(>{100 * chance:.0f}%)", justify="right")
    langs = list(next(iter(results.values())).metrics)
    for lang in langs:
        vals = [results[n].metrics.get(lang, {}).get(metric) for n in names]
        row = [lang] + [f"{v:.1f}" if v is not None else "-" for v in vals]
        if len(names) == 2:
            row.append(f"{vals[1] - vals[0]:+.1f}" if None not in vals else "-")
        if chance:
            last = results[names[-1]].metrics.get(lang, {})
            row.append(f"{chance_p_value(last[metric], int(last['n']), chance):.1e}" if metric in last else "-")
        table.add_row(*row)
    avg = [results[n].average.get(metric) for n in names]
    table.add_row("average", *[f"{v:.1f}" if v is not None else "-" for v in avg], *([f"{avg[1] - avg[0]:+.1f}"] if len(names) == 2 else []), *([""] if chance else []), style="bold")
    return table


def run_demo(out: Path, overrides: list[str], preset_name: str = "demo") -> dict[str, dict[str, RunResult]]:
    preset = load_preset(preset_name)
    user = preset_user_config(preset, overrides)
    start = time.perf_counter()
    from xstilts.models.encoder import resolve_model_path

    with console.status("preparing the embedded model (first run converts it once)"):
        resolve_model_path(user["model"]["name"])
    all_results: dict[str, dict[str, RunResult]] = {}
    seeds = preset.get("seeds") or [1]
    with make_progress() as progress:
        for target in preset["targets"]:
            all_results[target] = {}
            for inter in preset["intermediates"]:
                seed_user = merge(user, {"seed": seeds[0]})
                all_results[target][inter] = run_transfer(target, inter, seed_user, out, progress=progress)
    for target, results in all_results.items():
        console.print(demo_table(target, results))
    console.print(f"demo finished in {time.perf_counter() - start:.0f} s; runs in {out}")
    return all_results
