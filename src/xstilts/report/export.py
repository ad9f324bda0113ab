"""Predictions in the XTREME submission layout: ``<task>/test-<lang>.{tsv,json}``.

A submission must describe one system, so every task's predictions come from runs of one model,
one intermediate setting and one seed; anything else is refused rather than silently mixed. The
files xstilts writes already use XTREME's per-task formats (one label per line; one tag per token
with a blank line between sentences; ``{id: answer}`` JSON; one retrieved index per line;
``xx-id<TAB>en-id``), so exporting is checking and copying them under XTREME's names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xstilts.config import ConfigError
from xstilts.data.schema import DataError
from xstilts.experiment import store
from xstilts.paths import atomic_write_json, atomic_write_text, safe_child
from xstilts.report.runs import intermediate_label
from xstilts.report.xtreme import XTREME_TASKS
from xstilts.runs import NO_INTERMEDIATE, PREDICTIONS_DIR, SCORED_KINDS, verify_run
from xstilts.tasks.registry import get_task

MANIFEST = "xstilts-export.json"


@dataclass
class Export:
    out_dir: Path
    intermediate: str
    seed: int
    model: str
    runs: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[Path]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def select_runs(run_dir: Path | str, intermediate: str = NO_INTERMEDIATE, seed: int | None = None, model: str | None = None) -> tuple[pd.DataFrame, int, str, list[str]]:
    """One run per XTREME task for (model, intermediate, seed); refuses anything ambiguous or mixed."""
    runs = store.runs(run_dir)
    runs = runs[runs["kind"].isin(SCORED_KINDS) & runs["task"].isin(XTREME_TASKS)].copy()
    runs["label"] = [intermediate_label(k, i) for k, i in zip(runs["kind"], runs["intermediate"], strict=True)]
    chosen = runs[runs["label"] == intermediate]
    if chosen.empty:
        have = ", ".join(sorted(set(runs["label"]))) or "none at all"
        raise ConfigError(f"{run_dir}: no XTREME-task runs with intermediate {intermediate!r} (have: {have})")
    if model is not None:
        chosen = chosen[chosen["model"] == model]
    elif chosen["model"].nunique() > 1:
        raise ConfigError(f"{run_dir}: runs of several models ({', '.join(sorted(chosen['model'].unique()))}); pass --model to pick one")
    if chosen.empty:
        raise ConfigError(f"{run_dir}: no runs of model {model!r} with intermediate {intermediate!r}")
    model = str(chosen["model"].iloc[0])
    seeds_by_task = {t: set(g["seed"].astype(int)) for t, g in chosen.groupby("task")}
    if seed is None:
        common = set.intersection(*seeds_by_task.values())
        if not common:
            listing = "; ".join(f"{t}: {sorted(s)}" for t, s in sorted(seeds_by_task.items()))
            raise ConfigError(f"{run_dir}: no seed shared by every task ({listing}); pass --seed (tasks without it are skipped)")
        seed = min(common)
    notes = [f"{t}: no run with seed {seed}, skipped" for t in XTREME_TASKS if t in seeds_by_task and seed not in seeds_by_task[t]]
    picked = chosen[chosen["seed"] == seed].sort_values("created")
    for t, g in picked.groupby("task"):
        if len(g) > 1:
            notes.append(f"{t}: {len(g)} runs for seed {seed}; the newest, {g['run_id'].iloc[-1]}, is exported")
    picked = picked.drop_duplicates("task", keep="last")
    wrong = picked[picked["eval_split"].fillna("test") != "test"]
    if not wrong.empty:
        r = wrong.iloc[0]
        raise ConfigError(f"{r['path']}: run scored split {r['eval_split']!r}; XTREME submissions are test-split predictions")
    return picked, int(seed), model, notes


def export_xtreme(run_dir: Path | str, out_dir: Path | str, intermediate: str = NO_INTERMEDIATE, seed: int | None = None,
                  model: str | None = None) -> Export:  # fmt: skip
    """Write ``OUT_DIR/<task>/test-<lang>.{tsv,json}`` and a manifest naming the runs used."""
    picked, seed, model, notes = select_runs(run_dir, intermediate, seed, model)
    export = Export(Path(out_dir), intermediate, seed, model, notes=notes)
    for row in picked.itertuples(index=False):
        task = get_task(row.task)
        preds = store.prediction_paths(run_dir, row.run_id)
        verify_run(safe_child(run_dir, row.path, "run folder"), under=(PREDICTIONS_DIR,))  # damaged files are refused, not exported
        langs = [lang for lang in task.scored_languages if lang in preds]
        if not langs:
            raise DataError(Path(run_dir) / row.path, None, f"prediction files for {row.task} (was eval.write_predictions off?)")
        left_out = sorted(set(preds) - set(langs))
        if left_out:
            export.notes.append(f"{row.task}: {', '.join(left_out)} not among XTREME's languages, not exported")
        fmt = task.fmt
        ext = "json" if fmt.prediction_suffix == ".json" else "tsv"  # XTREME's layout: JSON answers, else TSV lines
        for lang in langs:
            target = export.out_dir / task.folder / f"test-{lang}.{ext}"
            atomic_write_text(target, fmt.export_text(preds[lang]))
            export.files.setdefault(row.task, []).append(target)
        export.runs[row.task] = row.run_id
    missing = [t for t in XTREME_TASKS if t not in export.runs]
    if missing:
        export.notes.append(f"no predictions exported for {', '.join(missing)}")
    atomic_write_json(
        export.out_dir / MANIFEST,
        {"model": model, "intermediate": intermediate, "seed": seed, "runs": export.runs, "notes": export.notes},
    )
    return export
