"""The report's content, computed once: score table, matrix, deltas, XTREME scores and display tables.

Display tables are plain string DataFrames so every renderer (rich, Markdown, HTML, LaTeX) shows the
same cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xstilts.report.cells import Grid, cell_tests
from xstilts.report.matrix import (
    BestPerTarget,
    best_per_target,
    language_deltas,
    xtreme_by_intermediate,
)
from xstilts.report.power import power_table
from xstilts.report.robustness import Robustness, perturbation_curves
from xstilts.report.runs import ScoreTable, score_table
from xstilts.report.selection import RULES, SelectedGain, SelectionRule, selected_gain
from xstilts.report.stats import ALPHA
from xstilts.report.xtreme import GROUPS, XTREME_TASKS, XtremeScore
from xstilts.runs import NO_INTERMEDIATE


@dataclass
class Report:
    run_dir: Path
    scores: ScoreTable
    matrix: pd.DataFrame
    lang_deltas: pd.DataFrame
    best: BestPerTarget
    xtreme: dict[str, XtremeScore]
    #: robustness under domain shift (every evaluation whose trained model recorded its training domains)
    shift: Robustness
    #: score against noise rate for every evaluation that was also scored under perturbation
    curves: pd.DataFrame
    #: best-per-target gain under each selection rule (test = the paper's, dev, held-out seeds)
    selection: list[SelectedGain]
    #: each matrix cell's delta tested, with Holm and BH adjustments over the matrix
    tests: pd.DataFrame
    #: per target: seed s.d. of deltas, the effect the seeds can detect, seeds needed per effect
    power: pd.DataFrame


def build_report(run_dir: Path | str, model: str | None = None, samples: int = 1000) -> Report:
    scores = score_table(run_dir, model)
    grid = Grid(scores, Path(run_dir), samples, 0, ALPHA)  # one holder of the matrix, bootstrap and domain gaps
    matrix = grid.matrix
    selection = [selected_gain(grid, grid.targets, rule, NO_INTERMEDIATE) for rule in RULE_ORDER] if grid.intermediates else []
    return Report(Path(run_dir), scores, matrix, language_deltas(scores.languages), best_per_target(matrix),
                  xtreme_by_intermediate(matrix), grid.robustness(),
                  perturbation_curves(run_dir, scores.model), selection, cell_tests(grid), power_table(scores.runs))  # fmt: skip


RULE_ORDER: tuple[SelectionRule, ...] = ("test", "dev", "seeds")


def selection_cells(gains: list[SelectedGain]) -> pd.DataFrame:
    """The best-per-target gain under each selection rule, with its interval and picks."""
    return pd.DataFrame(
        {
            "selection": [g.rule + (" (optimistic)" if g.rule == "test" else "") for g in gains],
            "gain": [fmt(g.gain, sign=True) for g in gains],
            "95% CI": [f"[{g.ci[0]:+.2f}, {g.ci[1]:+.2f}]" if g.ci else "–" for g in gains],
            "p seeds": [fmt_p(g.p_seeds) for g in gains],
            "p boot": [fmt_p(g.p_bootstrap) for g in gains],
            "picks": ["; ".join(f"{t}: {i}" for t, i in sorted(g.picks.items())) or "–" for g in gains],
        }
    )


def selection_notes(gains: list[SelectedGain]) -> list[str]:
    lines = [f"{rule}: {RULES[rule]}" for rule in RULE_ORDER]
    lines.append("Picking on the reported scores inflates the gain; dev and held-out-seed picks do not use the reported "
                 "test scores of the seed they report (held-out seeds still share the test examples, so their "
                 "bootstrap redoes the pick in every resample).")  # fmt: skip
    for g in gains:
        lines += [f"{g.rule}: {note}" for note in g.notes]
    return lines


def test_cells(tests: pd.DataFrame) -> pd.DataFrame:
    """Matrix cells with raw and adjusted p-values (Holm: family-wise; BH: false discovery rate)."""
    frame = tests.copy()
    out = pd.DataFrame({"intermediate": frame["intermediate"], "target": frame["target"]})
    out["delta"] = [fmt(v, sign=True) for v in frame["delta"]]
    out["seeds"] = frame["seeds"].astype(str)
    for col, name in (("p_seeds", "p seeds"), ("p_bootstrap", "p boot"), ("p", "p"), ("p_holm", "p Holm"), ("p_bh", "p BH")):
        out[name] = [fmt_p(v) for v in frame[col]]
    return out


def power_cells(power: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"target": power["target"], "seeds": power["seeds"].astype(str)})
    out["s.d. of seed deltas"] = [fmt(v) for v in power["delta_sd"]]
    out["detectable at 80% power"] = ["–" if math.isinf(v) else fmt(v) for v in power["mde"]]
    for col in power.columns:
        if col.startswith("seeds_for_"):
            out[f"seeds for {col.removeprefix('seeds_for_')} pt"] = ["> 10000" if v is None or pd.isna(v) else str(int(v)) for v in power[col]]
    return out


GROUP_SHORT = {"classification": "classif.", "structured prediction": "struct.", "question answering": "QA", "retrieval": "retrieval"}


def fmt(value: float | None, sign: bool = False, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def fmt_p(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _pm(mean: float, std: float, n: int, sign: bool = False) -> str:
    if math.isnan(mean):
        return "–"
    return fmt(mean, sign) + ("" if math.isnan(std) else f" ± {std:.2f}") + f" ({n})"


def _target_order(targets: list[str]) -> list[str]:
    xt = [t for t in XTREME_TASKS if t in targets]
    return xt + sorted(t for t in targets if t not in XTREME_TASKS)


def _inter_order(inters: list[str]) -> list[str]:
    return ([NO_INTERMEDIATE] if NO_INTERMEDIATE in inters else []) + sorted(i for i in inters if i != NO_INTERMEDIATE)


def _wide(matrix: pd.DataFrame, cell: pd.Series) -> pd.DataFrame:
    frame = matrix.assign(cell=cell).pivot(index="intermediate", columns="target", values="cell")
    frame = frame.reindex(index=_inter_order(list(frame.index)), columns=_target_order(list(frame.columns)))
    return frame.fillna("").rename_axis(index="intermediate", columns=None).reset_index()


def score_cells(matrix: pd.DataFrame) -> pd.DataFrame:
    """Intermediate x target: task score mean ± std over seeds (number of seeds)."""
    return _wide(matrix, pd.Series([_pm(r.mean, r.std, r.n) for r in matrix.itertuples()], index=matrix.index, dtype=object))


def delta_cells(matrix: pd.DataFrame) -> pd.DataFrame:
    """Intermediate x target: paired delta vs ``none``, mean ± std over seed pairs (pairs)."""
    rows = matrix[matrix["intermediate"] != NO_INTERMEDIATE]
    cells = []
    for r in rows.itertuples():
        if math.isnan(r.delta_mean):
            cells.append("")
        elif r.pairing == "unpaired":
            cells.append(fmt(r.delta_mean, sign=True) + " (unpaired)")
        else:
            cells.append(_pm(r.delta_mean, r.delta_std, r.n_pairs, sign=True))
    return _wide(rows, pd.Series(cells, index=rows.index, dtype=object))


def xtreme_cells(scores: dict[str, XtremeScore]) -> pd.DataFrame:
    """One row per intermediate: the XTREME score (or partial mean, labelled), group means, other tasks."""
    rows = []
    for inter in _inter_order(list(scores)):
        s = scores[inter]
        which = "9/9" if s.complete else (f"{len(s.tasks)}/9 partial" if s.tasks else "0/9")
        row = {"intermediate": inter, "XTREME": fmt(s.score) if s.tasks else "–", "tasks": which}
        row.update({GROUP_SHORT[name]: fmt(v) for name, v in s.groups.items()})
        row["other"] = f"{fmt(s.other_mean)} ({len(s.other_tasks)})" if s.other_tasks else ""
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["intermediate", "XTREME", "tasks", *GROUP_SHORT.values(), "other"])
    if not any(s.tasks for s in scores.values()):  # no XTREME task at all: only the XTREME-style mean means anything
        frame = frame[["intermediate", "other"]]
    elif not any(s.other_tasks for s in scores.values()):
        frame = frame.drop(columns="other")
    return frame


def xtreme_notes(scores: dict[str, XtremeScore]) -> list[str]:
    """Which tasks each partial mean lacks (one line per distinct set), and what "other tasks" are."""
    missing: dict[tuple[str, ...], list[str]] = {}
    for inter in _inter_order(list(scores)):
        if scores[inter].tasks and not scores[inter].complete:
            missing.setdefault(tuple(scores[inter].missing), []).append(inter)
    lines = [f"partial (not the XTREME score) for {', '.join(inters)}: missing {', '.join(m)}" for m, inters in missing.items()]
    others = sorted({t for s in scores.values() for t in s.other_tasks})
    if others:
        lines.append(f"other: an XTREME-style mean over {', '.join(others)} (number of tasks); not the XTREME score")
    lines.append("groups: " + "; ".join(f"{short} = {', '.join(GROUPS[name])}" for name, short in GROUP_SHORT.items()))
    return lines


def best_cells(best: BestPerTarget) -> pd.DataFrame:
    table = best.table.set_index("target").reindex(_target_order(list(best.table["target"]))).reset_index()
    return pd.DataFrame(
        {
            "target": table["target"],
            "best intermediate": table["intermediate"],
            "score": [fmt(v) for v in table["score"]],
            "none": [fmt(v) for v in table["baseline"]],
            "delta": [fmt(v, sign=True) for v in table["delta"]],
        }
    )


def best_summary(best: BestPerTarget) -> list[str]:
    """Sentences for the best-per-target result, with the selection caveat."""
    if best.table.empty:
        return []
    lines = []
    for name, s in (("best intermediate per target", best.best), ("none (no intermediate task)", best.baseline)):
        if s.tasks:
            lines.append(f"{name}: {fmt(s.score)} — {s.label}")
        if s.other_tasks:
            lines.append(f"{name}: {fmt(s.other_mean)} — {s.other_label}")
    if best.best.tasks and best.baseline.tasks and best.best.score is not None and best.baseline.score is not None:
        same = set(best.best.tasks) == set(best.baseline.tasks)
        gain = best.best.score - best.baseline.score
        lines.append(f"gain: {fmt(gain, sign=True)} points" + ("" if same else " (the two cover different tasks: not comparable)"))
    if best.best.other_tasks and best.baseline.other_mean is not None and best.best.other_mean is not None:
        lines.append(f"gain (XTREME-style, not XTREME): {fmt(best.best.other_mean - best.baseline.other_mean, sign=True)} points")
    lines.append("The best intermediate is picked on the same scores it is judged on, as in the paper: the gain is optimistic; "
                 "the selection-corrected gains are in the next table.")
    return lines
