"""Best intermediate task per target, chosen on data the reported score does not use.

The paper picks each target's intermediate task on the same test scores it then reports, so its
best-per-target gain is optimistic by construction: with many candidates of equal true benefit, the
maximum of their noisy scores is above zero. Two honest choices are offered:

- ``dev``: pick on the English dev score of the target phase (``training.best_dev_score``), which
  no zero-shot test example enters. The pick is then fixed, and the gain and its interval are those
  of ordinary paired deltas.
- ``seeds``: cross-fitting over seeds. For each seed, pick on the other seeds' test scores and report
  the picked cell's delta on that seed; the gain is the mean over seeds. Training noise cannot favour
  the pick, but the test examples are shared by every seed, so an intermediate task that happens to
  suit this test set keeps its luck. The bootstrap therefore makes the pick again inside every
  resample, so the interval carries that selection too.

``test`` is the paper's optimistic rule, kept for comparison. All functions take arrays whose first
axes are (candidate, seed); any trailing axes (bootstrap resamples) are carried along, so the same
code gives the observed gain and its bootstrap distribution.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from xstilts.experiment import store
from xstilts.report.cells import Grid
from xstilts.report.stats import ALPHA, bootstrap_ci, bootstrap_p, seed_test

SelectionRule = Literal["dev", "seeds", "test"]
RULES: dict[str, str] = {
    "dev": "picked on the English dev score of the target phase",
    "seeds": "picked on the other seeds' test scores (leave one seed out)",
    "test": "picked on the reported test scores, as the paper did (optimistic)",
}


def fixed_pick_gain(cand: np.ndarray, base: np.ndarray, pick: int) -> np.ndarray:
    """Per-seed delta of candidate ``pick``: ``cand`` is (candidates, seeds, ...), ``base`` (seeds, ...)."""
    return cand[pick] - base


def optimistic_gain(cand: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Per-seed delta of the candidate with the best mean over all seeds, picked anew along trailing axes."""
    pick = cand.mean(axis=1).argmax(axis=0)  # (...)
    chosen = np.take_along_axis(cand, pick[None, None], axis=0)[0]  # (seeds, ...)
    return chosen - base


def held_out_seed_gain(cand: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Per-seed delta of the candidate picked on the *other* seeds (cross-fitting); needs ≥ 2 seeds."""
    n_seeds = cand.shape[1]
    if n_seeds < 2:
        raise ValueError("held-out seed selection needs at least 2 seeds")
    total = cand.sum(axis=1)  # (candidates, ...)
    out = []
    for s in range(n_seeds):
        pick = ((total - cand[:, s]) / (n_seeds - 1)).argmax(axis=0)  # (...)
        out.append(np.take_along_axis(cand[:, s], pick[None], axis=0)[0] - base[s])
    return np.stack(out)


@dataclass
class SelectedGain:
    """The best-per-target gain under one selection rule, with its intervals over seeds and examples."""

    rule: str
    targets: list[str]
    #: target -> picked intermediate task (per seed for ``seeds``: "a/b/a" in seed order)
    picks: dict[str, str]
    gain: float | None = None
    per_seed: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    ci: tuple[float, float] | None = None
    ci_method: str | None = None
    p_seeds: float | None = None
    p_method: str = ""
    p_bootstrap: float | None = None
    favours: bool = False
    opposes: bool = False
    notes: list[str] = field(default_factory=list)


def dev_scores(grid: Grid) -> dict[str, float]:
    """Run id -> the English dev score of the target phase that trained the evaluated model.

    A transfer run's ``parent`` names its training run; that run's ``training.best_dev_score`` is
    the dev score the checkpoint was selected on. Runs without one (retrieval, plain evaluations,
    unreadable parents) are absent.
    """
    index = store.runs(grid.run_dir)
    paths = dict(zip(index["run_id"], index["path"], strict=True))
    out: dict[str, float] = {}
    for rid in grid.runs["run_id"]:
        try:
            result = json.loads((grid.run_dir / str(grid.runs.at[rid, "path"]) / "result.json").read_text(encoding="utf-8"))
            parent = (result.get("parent") or {}).get("run_id")
            if parent not in paths:
                continue
            trained = json.loads((grid.run_dir / str(paths[parent]) / "result.json").read_text(encoding="utf-8"))
            score = (trained.get("training") or {}).get("best_dev_score")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(score, (int, float)) and not math.isnan(score):
            out[rid] = float(score)
    return out


def _seed_arrays(grid: Grid, target: str, inters: Sequence[str], baseline: str, seeds: Sequence[int],
                 values: Mapping[str, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(candidates, seeds[, resamples]) scores and (seeds[, resamples]) baseline scores of one target."""

    def get(rid: str) -> np.ndarray:
        return np.asarray(values[rid] if values is not None else grid.score(rid), dtype=float)

    cand = np.stack([np.stack([get(grid.cells[(i, target)][s]) for s in seeds]) for i in inters])
    base = np.stack([get(grid.cells[(baseline, target)][s]) for s in seeds])
    return cand, base


def selected_gain(grid: Grid, targets: Sequence[str], rule: SelectionRule, baseline: str, alpha: float = ALPHA) -> SelectedGain:
    """Mean over ``targets`` of the picked intermediate task's paired delta, with seed test and bootstrap CI.

    Only seeds that every candidate and the baseline share enter, so every comparison is paired.
    """
    result = SelectedGain(rule, [], {})
    usable: dict[str, tuple[list[str], list[int]]] = {}
    for t in targets:
        inters = [i for i in grid.intermediates if (i, t) in grid.cells]
        if not inters or (baseline, t) not in grid.cells:
            result.notes.append(f"{t}: no intermediate run and {baseline} run to compare")
            continue
        shared = set(grid.cells[(baseline, t)])
        for i in inters:
            shared &= set(grid.cells[(i, t)])
        if not shared:
            result.notes.append(f"{t}: no seed shared by every intermediate task and {baseline}")
            continue
        usable[t] = (inters, sorted(shared))
    seed_sets = {tuple(s) for _, s in usable.values()}
    if not usable:
        return result
    seeds = sorted(set.intersection(*(set(s) for s in seed_sets)))
    if not seeds:
        result.notes.append("the targets share no seed: no per-seed gain")
        return result
    if rule == "seeds" and len(seeds) < 2:
        result.notes.append(f"{len(seeds)} shared seed: selection on held-out seeds needs 2 or more")
        return result
    picks: dict[str, int | None] = {}
    if rule == "dev":
        dev = dev_scores(grid)
        for t, (inters, _) in list(usable.items()):
            means = [np.mean([dev[grid.cells[(i, t)][s]] for s in seeds]) if all(grid.cells[(i, t)][s] in dev for s in seeds) else math.nan
                     for i in inters]  # fmt: skip
            if any(math.isnan(m) for m in means):
                result.notes.append(f"{t}: a candidate has no English dev score; left out")
                del usable[t]
                continue
            picks[t] = int(np.argmax(means))
            result.picks[t] = inters[picks[t]]
    if not usable:
        return result
    result.targets, result.seeds = sorted(usable), seeds

    def gain(values: Mapping[str, np.ndarray] | None) -> np.ndarray:
        per_target = []
        for t in result.targets:
            cand, base = _seed_arrays(grid, t, usable[t][0], baseline, seeds, values)
            if rule == "dev":
                per_target.append(fixed_pick_gain(cand, base, picks[t]))  # type: ignore[arg-type]
            elif rule == "seeds":
                per_target.append(held_out_seed_gain(cand, base))
            else:
                per_target.append(optimistic_gain(cand, base))
        return np.mean(np.stack(per_target), axis=0)  # (seeds[, resamples])

    per_seed = gain(None)
    result.per_seed = [float(v) for v in per_seed]
    result.gain = float(per_seed.mean())
    if rule != "dev":
        for t in result.targets:
            cand, _ = _seed_arrays(grid, t, usable[t][0], baseline, seeds, None)
            if rule == "seeds":
                total = cand.sum(axis=1)
                chosen = [usable[t][0][int(((total - cand[:, s]) / (len(seeds) - 1)).argmax())] for s in range(len(seeds))]
                result.picks[t] = "/".join(chosen)
            else:
                result.picks[t] = usable[t][0][int(cand.mean(axis=1).argmax())]
    st = seed_test(result.per_seed, 0.0, alpha)
    result.p_seeds, result.p_method, result.favours, result.opposes = st.p_value, st.method, st.favours, st.opposes
    result.ci, result.ci_method = st.ci, (st.method if st.ci else None)
    used = {grid.cells[(i, t)][s] for t in result.targets for i in [*usable[t][0], baseline] for s in seeds}
    grid.prepare_bootstrap(used)
    lacking = sorted(used & set(grid.no_boot))
    if not lacking and grid.samples > 0:
        samples = gain(grid.boot).mean(axis=0)
        result.ci = bootstrap_ci(samples, alpha)
        result.ci_method = f"paired bootstrap over test examples ({grid.samples} resamples" + (", pick redone in each)" if rule != "dev" else ")")
        result.p_bootstrap = bootstrap_p(samples)
    elif lacking:
        result.notes.append(f"no per-example scores for {len(lacking)} run(s): interval over seeds only")
    return result


def selection_table(gains: Sequence[SelectedGain]) -> pd.DataFrame:
    """One row per rule: the gain, its interval, and the picks, for the report and its CSV."""
    rows = []
    for g in gains:
        rows.append({"selection": g.rule, "how": RULES[g.rule], "targets": ", ".join(g.targets), "gain": g.gain,
                     "ci_low": g.ci[0] if g.ci else None, "ci_high": g.ci[1] if g.ci else None,
                     "p_seeds": g.p_seeds, "p_bootstrap": g.p_bootstrap, "seeds": len(g.seeds),
                     "picks": "; ".join(f"{t}: {i}" for t, i in sorted(g.picks.items()))})  # fmt: skip
    return pd.DataFrame(rows)


def selection_gains(run_dir: Path | str, model: str | None, samples: int, seed: int = 0, alpha: float = ALPHA,
                    baseline: str = "none") -> list[SelectedGain]:  # fmt: skip
    """The three rules side by side over every target of a grid."""
    from xstilts.report.runs import score_table

    grid = Grid(score_table(run_dir, model), Path(run_dir), samples, seed, alpha)
    return [selected_gain(grid, grid.targets, rule, baseline, alpha) for rule in ("test", "dev", "seeds")]  # type: ignore[arg-type]
