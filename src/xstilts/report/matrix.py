"""The transfer matrix (intermediate x target), deltas against the ``none`` baseline, best-per-target.

Deltas are paired by seed: the seed that trained the target model with an intermediate task is
compared with the same seed without one, so seed-to-seed noise shared by both cancels. A baseline
with a single seed (retrieval on the plain encoder is deterministic) is the fixed reference for
every seed. With several baseline seeds but none in common the delta is a plain difference of means,
marked ``unpaired``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from xstilts.report.runs import EVALUATE_LABEL
from xstilts.report.xtreme import XtremeScore, xtreme_score
from xstilts.runs import NO_INTERMEDIATE

MATRIX_COLS = ["intermediate", "target", "mean", "std", "n", "seeds", "delta_mean", "delta_std", "n_pairs", "pairing"]


def pair_seeds(inter: Sequence[int], base: Sequence[int]) -> list[tuple[int, int]]:
    """(intermediate seed, baseline seed) pairs: a lone baseline seed pairs with all, else equal seeds."""
    base_set = sorted(set(base))
    if len(base_set) == 1:
        return [(s, base_set[0]) for s in sorted(set(inter))]
    return [(s, s) for s in sorted(set(inter) & set(base_set))]


def pairing_label(pairs: list[tuple[int, int]], inter: Sequence[int], base: Sequence[int]) -> str:
    if not pairs:
        return "unpaired"
    if len(set(base)) == 1 and len(set(inter)) > 1:
        return "one baseline seed"
    return "by seed"


def _std(values: Sequence[float]) -> float:
    if len(values) < 2:
        return math.nan
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def paired_deltas(inter: dict[int, float], base: dict[int, float]) -> tuple[list[float], str]:
    """Per-seed deltas and how they were paired; ``unpaired`` gives the single difference of means."""
    pairs = pair_seeds(list(inter), list(base))
    label = pairing_label(pairs, list(inter), list(base))
    if pairs:
        return [inter[a] - base[b] for a, b in pairs], label
    return [sum(inter.values()) / len(inter) - sum(base.values()) / len(base)], label


def transfer_matrix(runs: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (intermediate, target) with mean ± std over seeds and the paired delta."""
    cells = {
        (inter, target): dict(zip(group["seed"].astype(int), group["score"].astype(float), strict=True))
        for (inter, target), group in runs.groupby(["intermediate", "target"])
    }
    rows = []
    for (inter, target), by_seed in sorted(cells.items()):
        values = list(by_seed.values())
        base = cells.get((NO_INTERMEDIATE, target))
        delta_mean = delta_std = math.nan
        n_pairs, pairing = 0, ""
        if base is not None and inter != NO_INTERMEDIATE:
            deltas, pairing = paired_deltas(by_seed, base)
            n_pairs = len(deltas) if pairing != "unpaired" else 0
            delta_mean, delta_std = sum(deltas) / len(deltas), _std(deltas)
        rows.append([inter, target, sum(values) / len(values), _std(values), len(values), ",".join(map(str, sorted(by_seed))),
                     delta_mean, delta_std, n_pairs, pairing])  # fmt: skip
    return pd.DataFrame(rows, columns=MATRIX_COLS)


def language_deltas(languages: pd.DataFrame) -> pd.DataFrame:
    """Per (intermediate, target, language): mean score over seeds and the mean paired delta vs ``none``."""
    rows = []
    for (target, lang), group in languages.groupby(["target", "language"]):
        by_inter = {
            inter: dict(zip(g["seed"].astype(int), g["score"].astype(float), strict=True)) for inter, g in group.groupby("intermediate")
        }
        base = by_inter.get(NO_INTERMEDIATE)
        for inter, by_seed in sorted(by_inter.items()):
            mean = sum(by_seed.values()) / len(by_seed)
            delta = math.nan
            if base is not None and inter != NO_INTERMEDIATE:
                deltas, _ = paired_deltas(by_seed, base)
                delta = sum(deltas) / len(deltas)
            rows.append([inter, target, lang, mean, len(by_seed), delta])
    return pd.DataFrame(rows, columns=["intermediate", "target", "language", "mean", "n", "delta_mean"])


def candidates(matrix: pd.DataFrame) -> pd.DataFrame:
    """Rows of real intermediate tasks (neither the baseline nor plain evaluations)."""
    return matrix[~matrix["intermediate"].isin([NO_INTERMEDIATE, EVALUATE_LABEL])]


@dataclass
class BestPerTarget:
    table: pd.DataFrame  # target, intermediate, score, baseline, delta
    best: XtremeScore
    baseline: XtremeScore


def best_per_target(matrix: pd.DataFrame) -> BestPerTarget:
    """The intermediate with the highest mean task score per target, as the paper picked them.

    The pick is made on the same numbers it is then scored on, so the gain is optimistic by
    construction; the report says so beside it.
    """
    cand = candidates(matrix)
    base = matrix[matrix["intermediate"] == NO_INTERMEDIATE].set_index("target")["mean"]
    rows = []
    for target, group in cand.groupby("target"):
        top = group.loc[group["mean"].idxmax()]
        baseline = float(base[target]) if target in base.index else math.nan
        rows.append([target, top["intermediate"], float(top["mean"]), baseline, float(top["mean"]) - baseline])
    table = pd.DataFrame(rows, columns=["target", "intermediate", "score", "baseline", "delta"])
    best = xtreme_score(dict(zip(table["target"], table["score"], strict=True)))
    return BestPerTarget(table, best, xtreme_score(base.to_dict()))


def xtreme_by_intermediate(matrix: pd.DataFrame) -> dict[str, XtremeScore]:
    """Each intermediate's XTREME score (or partial/XTREME-style mean) from its mean task scores."""
    return {
        inter: xtreme_score(dict(zip(group["target"], group["mean"], strict=True))) for inter, group in matrix.groupby("intermediate")
    }
