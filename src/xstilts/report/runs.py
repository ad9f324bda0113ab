"""From the run index to one task score per run: the table every report and claim starts from.

Only evaluation results count (kinds ``transfer``, ``retrieval``, ``evaluate``); training phases are
not scores. A retrieval run without an intermediate scored the plain encoder, so it is the ``none``
baseline; a plain ``evaluate`` run without one is labelled ``(evaluate)`` and never used as baseline.
When one (model, intermediate, target, seed) has several runs (a rerun with other settings) the
newest is kept and the others are listed in the notes, so no cell silently averages two setups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xstilts.experiment import store
from xstilts.report.xtreme import language_score, task_score
from xstilts.runs import NO_INTERMEDIATE, SCORED_KINDS
from xstilts.tasks.registry import get_task

EVALUATE_LABEL = "(evaluate)"


@dataclass
class ScoreTable:
    """``runs``: one row per kept run; ``languages``: one row per (run, scored language)."""

    runs: pd.DataFrame
    languages: pd.DataFrame
    model: str | None
    notes: list[str] = field(default_factory=list)


def intermediate_label(kind: str, intermediate: str | None) -> str:
    if intermediate:
        return intermediate
    return NO_INTERMEDIATE if kind == "retrieval" else EVALUATE_LABEL


RUN_COLS = ["run_id", "kind", "model", "intermediate", "target", "seed", "score", "languages", "missing", "created", "path"]
LANG_COLS = ["run_id", "model", "intermediate", "target", "seed", "language", "score"]


def score_table(run_dir: Path | str, model: str | None = None) -> ScoreTable:
    """Task and language scores of every evaluation run in ``run_dir`` for one model (default: the most used)."""
    meta = store.runs(run_dir)
    meta = meta[meta["kind"].isin(SCORED_KINDS)]
    notes = [f"unreadable run {path}: {err}" for path, err in store.problems(run_dir).items()]
    if meta.empty:
        return ScoreTable(pd.DataFrame(columns=RUN_COLS), pd.DataFrame(columns=LANG_COLS), model, notes)
    if model is None:
        model = str(meta["model"].value_counts().idxmax())
    others = sorted(set(meta["model"].dropna()) - {model})
    if others:
        notes.append(f"model {model} reported; runs of {', '.join(others)} left out (choose with --model)")
    meta = meta[meta["model"] == model]
    metrics = store.query(run_dir)
    by_run: dict[str, dict[str, dict[str, float]]] = {}
    for rid, lang, key, value in metrics[["run_id", "language", "metric", "value"]].itertuples(index=False):
        if lang != store.AVERAGE and value is not None and not pd.isna(value):
            by_run.setdefault(rid, {}).setdefault(lang, {})[key] = float(value)
    run_rows, lang_rows = [], []
    for row in meta.itertuples(index=False):
        try:
            task = get_task(row.task)
        except KeyError:
            notes.append(f"run {row.run_id}: unknown task {row.task!r}, left out")
            continue
        m = by_run.get(row.run_id, {})
        ts = task_score(task, m)
        if ts.score is None:
            notes.append(f"run {row.run_id}: no scored language of {row.task} in its metrics, left out")
            continue
        label = intermediate_label(row.kind, row.intermediate)
        run_rows.append([row.run_id, row.kind, model, label, row.task, int(row.seed), ts.score, len(ts.languages), ",".join(ts.missing), row.created, row.path])
        for lang in ts.languages:
            lang_rows.append([row.run_id, model, label, row.task, int(row.seed), lang, language_score(task, m[lang])])
    runs = pd.DataFrame(run_rows, columns=RUN_COLS).sort_values(["target", "intermediate", "seed", "created"])
    dup = runs.duplicated(["intermediate", "target", "seed"], keep="last")
    for r in runs[dup].itertuples(index=False):
        notes.append(f"run {r.run_id} ({r.intermediate} -> {r.target}, seed {r.seed}) superseded by a newer run of the same cell")
    runs = runs[~dup].reset_index(drop=True)
    langs = pd.DataFrame(lang_rows, columns=LANG_COLS)
    langs = langs[langs["run_id"].isin(runs["run_id"])].reset_index(drop=True)
    partial = runs[runs["missing"] != ""].groupby(["target", "missing"]).size()
    for (target, missing), n in partial.items():
        notes.append(f"{target}: {n} run(s) lack languages {missing}; their task scores are over fewer languages")
    return ScoreTable(runs, langs, model, notes)
