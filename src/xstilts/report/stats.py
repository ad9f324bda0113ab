"""Significance for claims: a paired test over seeds, a bootstrap interval, and the verdict rule.

Seeds and test examples are two different sources of noise. The seed test asks whether training
noise could explain the effect; the paired bootstrap over examples asks whether the finite test set
could. A claim is *supported* only when both agree with it, *refuted* when both agree against it
(or the effect is confidently below a stated size), and *inconclusive* otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

ALPHA = 0.05


@dataclass
class SeedTest:
    """Per-seed effects tested against ``reference``: a t-test with ≥ 3 seeds, else their signs."""

    effects: list[float]
    reference: float
    method: str
    p_value: float | None
    favours: bool
    opposes: bool
    ci: tuple[float, float] | None

    @property
    def n(self) -> int:
        return len(self.effects)


def seed_test(effects: Sequence[float], reference: float = 0.0, alpha: float = ALPHA) -> SeedTest:
    d = np.asarray(effects, dtype=float) - reference
    n = len(d)
    if n == 0:
        return SeedTest([], reference, "no seeds", None, False, False, None)
    if n < 3:
        k = int((d > 0).sum())
        p = float(sps.binomtest(k, n).pvalue)
        return SeedTest(list(map(float, effects)), reference, f"signs of {n} seed delta(s) (two-sided sign test)", p, bool((d > 0).all()), bool((d < 0).all()), None)
    if float(d.std()) == 0.0:  # identical deltas: the t statistic is undefined, the direction is not
        p = 1.0 if d[0] == 0 else 0.0
        greater, less = (0.0, 1.0) if d[0] > 0 else ((1.0, 0.0) if d[0] < 0 else (1.0, 1.0))
        ci = (float(d[0]) + reference, float(d[0]) + reference)
    else:
        p = float(sps.ttest_1samp(d, 0.0).pvalue)
        greater = float(sps.ttest_1samp(d, 0.0, alternative="greater").pvalue)
        less = float(sps.ttest_1samp(d, 0.0, alternative="less").pvalue)
        half = float(sps.t.ppf(1 - alpha / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
        ci = (float(d.mean()) - half + reference, float(d.mean()) + half + reference)
    return SeedTest(list(map(float, effects)), reference, f"paired t-test over {n} seeds", p, greater < alpha, less < alpha, ci)


def bootstrap_ci(samples: np.ndarray, alpha: float = ALPHA) -> tuple[float, float]:
    lo, hi = np.percentile(samples, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def bootstrap_p(samples: np.ndarray) -> float:
    """Two-sided bootstrap p-value for "the effect is 0": twice the smaller tail beyond 0."""
    return float(min(1.0, 2 * min((samples <= 0).mean(), (samples >= 0).mean())))


@dataclass
class Decision:
    verdict: str  # supported | refuted | inconclusive
    reason: str


def decide(effect: float, seeds: SeedTest, ci: tuple[float, float] | None, at_least: float | None = None,
           seeds_vs_threshold: SeedTest | None = None) -> Decision:  # fmt: skip
    """The rule of thumb: the interval must exclude 0 in the claimed direction and the seeds must agree."""
    if ci is None:
        return Decision("inconclusive", "no interval: fewer than 3 seeds and no per-example scores")
    lo, hi = ci
    if hi < 0 and seeds.opposes:
        return Decision("refuted", "the 95% interval lies below 0 and the seeds agree")
    if at_least is not None and hi < at_least and (seeds_vs_threshold is None or seeds_vs_threshold.opposes):
        return Decision("refuted", f"the effect is confidently smaller than the claimed {at_least:g}")
    if lo > 0 and seeds.favours:
        if at_least is None or effect >= at_least:
            return Decision("supported", "the 95% interval lies above 0 and the seeds agree")
        return Decision("inconclusive", f"positive, but {effect:.2f} is below the claimed {at_least:g} without being confidently below it")
    if lo > 0:
        return Decision("inconclusive", "the interval lies above 0 but the seeds do not agree")
    if hi < 0:
        return Decision("inconclusive", "the interval lies below 0 but the seeds do not agree")
    return Decision("inconclusive", "the 95% interval includes 0")


def _family(p_values: Sequence[float | None]) -> tuple[list[int], np.ndarray]:
    """Indices and values of the p-values that belong to the family (``None`` and NaN are not tested)."""
    idx = [i for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    return idx, np.asarray([p_values[i] for i in idx], dtype=float)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values: family-wise error control under any dependence.

    Sorted ascending, the i-th (0-based) of m is scaled by (m - i); a running maximum keeps the
    adjusted values in the order of the raw ones, and nothing exceeds 1.
    """
    idx, p = _family(p_values)
    out: list[float | None] = [None] * len(p_values)
    if not idx:
        return out
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    for rank, j in enumerate(order):
        out[idx[j]] = float(adjusted[rank])
    return out


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values (q-values): false discovery rate control.

    Sorted ascending, the i-th (1-based) of m is scaled by m / i; a running minimum from the largest
    down keeps them monotone. Valid under independence or positive dependence (PRDS), which paired
    comparisons against one shared baseline satisfy in the usual one-sided sense.
    """
    idx, p = _family(p_values)
    out: list[float | None] = [None] * len(p_values)
    if not idx:
        return out
    order = np.argsort(p, kind="stable")
    m = len(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.maximum(p[order], np.minimum.accumulate(scaled[::-1])[::-1]))  # never below raw (rounding)
    for rank, j in enumerate(order):
        out[idx[j]] = float(adjusted[rank])
    return out


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}
