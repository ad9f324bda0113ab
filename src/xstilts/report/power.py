"""Seeds and power: what effect a grid's seeds can detect, and how many seeds an effect needs.

Verdicts need the paired test over seeds to agree (``stats.seed_test``): a two-sided one-sample
t-test on per-seed deltas with three or more seeds, a sign test below that. Power is computed for
that very test, from the noncentral t distribution with the measured standard deviation of per-seed
deltas. With fewer than three seeds the sign test can never reach p < 0.05 (two seeds give p = 0.5),
so nothing is detectable and the functions say so with ``inf``/``None`` rather than a number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps

from xstilts.claims import ClaimSet
from xstilts.report.matrix import paired_deltas
from xstilts.report.stats import ALPHA
from xstilts.runs import NO_INTERMEDIATE

POWER = 0.8
MIN_T_SEEDS = 3  # below this seed_test falls back to a sign test


def t_power(effect: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided one-sample t-test on ``n`` deltas with mean ``effect`` and s.d. ``sd``."""
    if n < MIN_T_SEEDS:
        return 0.0
    if sd <= 0:
        return 1.0 if effect != 0 else alpha
    df = n - 1
    crit = sps.t.ppf(1 - alpha / 2, df)
    nc = effect * math.sqrt(n) / sd
    return float(sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc))


def min_detectable_effect(sd: float, n: int, power: float = POWER, alpha: float = ALPHA) -> float:
    """Smallest true effect (in the deltas' units) that ``n`` seeds detect with probability ``power``."""
    if n < MIN_T_SEEDS or math.isnan(sd):
        return math.inf
    if sd <= 0:
        return 0.0
    high = sd
    while t_power(high, sd, n, alpha) < power:
        high *= 2
    return float(optimize.brentq(lambda d: t_power(d, sd, n, alpha) - power, 0.0, high, xtol=1e-10 * sd))


def seeds_needed(effect: float, sd: float, power: float = POWER, alpha: float = ALPHA, most: int = 10_000) -> int | None:
    """Fewest seeds whose paired t-test detects ``effect`` with probability ``power`` (None beyond ``most``)."""
    if math.isnan(sd) or effect == 0:
        return None
    for n in range(MIN_T_SEEDS, most + 1):
        if t_power(abs(effect), sd, n, alpha) >= power:
            return n
    return None


def pooled_sd(groups: Sequence[Sequence[float]]) -> tuple[float, int]:
    """Pooled standard deviation of several groups of per-seed deltas, and its degrees of freedom.

    Each (intermediate, target) cell has its own mean, so variances are pooled around each group's
    own mean: ``sum((n_i - 1) s_i^2) / sum(n_i - 1)``.
    """
    ss, df = 0.0, 0
    for g in groups:
        a = np.asarray(g, dtype=float)
        if len(a) >= 2:
            ss += float(((a - a.mean()) ** 2).sum())
            df += len(a) - 1
    return (math.sqrt(ss / df) if df else math.nan), df


def target_deltas(runs: pd.DataFrame, baseline: str = NO_INTERMEDIATE) -> dict[str, list[list[float]]]:
    """Per target, the per-seed paired deltas of each intermediate cell against ``baseline``."""
    cells = {
        (inter, target): dict(zip(g["seed"].astype(int), g["score"].astype(float), strict=True))
        for (inter, target), g in runs.groupby(["intermediate", "target"])
    }
    out: dict[str, list[list[float]]] = {}
    for (inter, target), by_seed in sorted(cells.items()):
        base = cells.get((baseline, target))
        if inter == baseline or base is None or len(set(base)) < 2:
            continue  # a lone baseline seed pairs with every seed: its noise is shared, not measured
        deltas, pairing = paired_deltas(by_seed, base)
        if pairing == "by seed":
            out.setdefault(target, []).append(deltas)
    return out


def power_table(runs: pd.DataFrame, effects: Sequence[float] = (1.0, 2.0), power: float = POWER, alpha: float = ALPHA) -> pd.DataFrame:
    """Per target: the pooled s.d. of per-seed deltas, the effect the grid's seeds detect, and seeds per effect."""
    rows = []
    for target, groups in target_deltas(runs).items():
        sd, df = pooled_sd(groups)
        n = max(len(g) for g in groups)
        rows.append([target, n, sd, df, min_detectable_effect(sd, n, power, alpha), *(seeds_needed(e, sd, power, alpha) for e in effects)])
    return pd.DataFrame(rows, columns=["target", "seeds", "delta_sd", "df", "mde", *(f"seeds_for_{e:g}" for e in effects)])


@dataclass
class ClaimPower:
    """Whether a claim's stated size is within what the planned seeds can detect."""

    claim: str
    at_least: float | None
    sd: float | None
    mde: float
    seeds: int
    warning: str | None


def claim_power(claim_set: ClaimSet, planned_seeds: int, variance_from: Path | None, power: float = POWER) -> list[ClaimPower]:
    """Each claim's smallest detectable effect at ``planned_seeds``, from the seed spread measured in a grid.

    The spread is that of the claim's own per-seed effects in ``variance_from`` (a pilot or an earlier
    grid; pooled over a claim's parts), so a claim over several targets gets the spread of its mean.
    Claims with a stated size (``at_least``) below that effect get a warning; with fewer than 3
    planned seeds every claim does, as the seed check is then a sign test that cannot reach p < alpha.
    """
    from xstilts.report.claims import check_claims

    measured: dict[str, list[list[float]]] = {}
    sized = [c for c in claim_set.claims if c.type not in ("narrows_gap", "gap_grows_with_distance")]
    if variance_from is not None and sized:
        subset = claim_set.model_copy(update={"claims": sized, "correction": "none"})
        for r in check_claims(subset, variance_from, samples=0):
            groups = [p.seed_effects for p in r.parts] if r.parts else [r.seed_effects]
            measured[r.id] = [g for g in groups if len(g) >= 2]
    out = []
    for c in claim_set.claims:
        sd, _ = pooled_sd(measured.get(c.id, []))
        sd_known = not math.isnan(sd)
        mde = min_detectable_effect(sd, planned_seeds, power, claim_set.alpha) if sd_known else (math.inf if planned_seeds < MIN_T_SEEDS else math.nan)
        warning = None
        if planned_seeds < MIN_T_SEEDS:
            warning = f"{planned_seeds} seed(s): the seed check is a sign test that cannot reach p < {claim_set.alpha:g}; plan 3 or more"
        elif c.at_least is not None and sd_known and c.at_least < mde:
            need = seeds_needed(c.at_least, sd, power, claim_set.alpha)
            warning = (f"claims at least {c.at_least:g} points, but {planned_seeds} seeds detect {mde:.2f} at {power:.0%} power "
                       f"(seed s.d. {sd:.2f}); {need if need else 'more than 10000'} seeds would")  # fmt: skip
        out.append(ClaimPower(c.id, c.at_least, sd if sd_known else None, mde, planned_seeds, warning))
    return out
