"""Domain-shift statistics on synthetic units with known answers: gaps, the paired stratified bootstrap
(including its coverage over simulated test sets) and the distance trend."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from xstilts.formats.base import Units
from xstilts.report.shift import (
    GapChange,
    distance_trend,
    domain_gap,
    gap_change,
    gap_change_over_seeds,
    subset,
)


def acc_units(domains: dict[str, list[int]], prefix: str = "") -> tuple[Units, dict[str, str]]:
    """Accuracy units (100 per correct example) and their id -> domain map."""
    ids, stats, domain_of = [], [], {}
    for dom, outcomes in domains.items():
        for i, ok in enumerate(outcomes):
            uid = f"{prefix}{dom}-{i}"
            ids.append(uid)
            stats.append([100.0 * ok])
            domain_of[uid] = dom
    return Units(tuple(ids), np.array(stats, dtype=float).reshape(-1, 1), "mean"), domain_of


def test_accuracy_gap_by_hand() -> None:
    units, domain_of = acc_units({"in": [1, 1, 1, 0], "a": [1, 0], "b": [0, 0]})
    gap = domain_gap(units, domain_of, {"in"})
    assert gap.in_domain == pytest.approx(75.0)
    assert gap.out_of_domain == pytest.approx(25.0)
    assert gap.per_domain == pytest.approx({"in": 75.0, "a": 50.0, "b": 0.0})
    assert gap.gap == pytest.approx(50.0)
    assert gap.relative_drop == pytest.approx(2 / 3)
    assert (gap.worst_domain, gap.worst_score) == ("b", 0.0)
    assert (gap.n_in, gap.n_out) == (4, 4)
    assert domain_gap(units, domain_of, "in") == gap  # a bare string names one domain


def test_f1_gap_pools_counts_not_domain_scores() -> None:
    # tp / predicted / gold per unit
    ids = ("i0", "i1", "a0", "b0", "b1")
    stats = np.array([[2, 2, 2], [1, 2, 1], [1, 1, 1], [0, 3, 3], [1, 1, 2]], dtype=float)
    domain_of = {"i0": "in", "i1": "in", "a0": "a", "b0": "b", "b1": "b"}
    gap = domain_gap(Units(ids, stats, "f1"), domain_of, {"in"})
    assert gap.in_domain == pytest.approx(200 * 3 / (4 + 3))
    assert gap.per_domain["a"] == pytest.approx(100.0)
    assert gap.per_domain["b"] == pytest.approx(200 * 1 / (4 + 5))
    pooled = 200 * (1 + 0 + 1) / ((1 + 3 + 1) + (1 + 3 + 2))  # 400 / 11
    assert gap.out_of_domain == pytest.approx(pooled)
    assert gap.out_of_domain != pytest.approx((gap.per_domain["a"] + gap.per_domain["b"]) / 2)
    assert gap.worst_domain == "b"


def test_relative_drop_undefined_at_zero() -> None:
    units, domain_of = acc_units({"in": [0, 0], "a": [1, 0]})
    gap = domain_gap(units, domain_of, {"in"})
    assert gap.relative_drop is None
    assert gap.gap == pytest.approx(-50.0)


def test_subset_keeps_unit_order() -> None:
    units, _ = acc_units({"in": [1, 0, 1], "a": [0]})
    part = subset(units, ["a-0", "in-0", "in-2"])
    assert part.ids == ("in-0", "in-2", "a-0")
    assert part.stats[:, 0].tolist() == [100.0, 100.0, 0.0]
    with pytest.raises(ValueError, match="not among the units"):
        subset(units, ["zz"])


def test_errors() -> None:
    units, domain_of = acc_units({"in": [1, 0], "a": [1, 0]})
    partial = {k: v for k, v in domain_of.items() if k != "a-1"}
    with pytest.raises(ValueError, match=r"no domain.*'a-1'"):
        domain_gap(units, partial, {"in"})
    with pytest.raises(ValueError, match="no unit is in-domain"):
        domain_gap(units, domain_of, {"news"})
    with pytest.raises(ValueError, match="no unit is out-of-domain"):
        domain_gap(units, domain_of, {"in", "a"})
    other, _ = acc_units({"in": [1, 0], "a": [1, 1, 0]})
    with pytest.raises(ValueError, match=r"different unit ids.*'a-2'"):
        gap_change(other, units, {**domain_of, "a-2": "a"}, {"in"})


def correlated_runs(
    rng: np.random.Generator, sizes: dict[str, int], base_p: dict[str, float], other_p: dict[str, float], r: float
) -> tuple[Units, Units, dict[str, str]]:
    """Bernoulli outcomes per example for two runs, correlated through a Gaussian copula."""
    ids, base, other, domain_of = [], [], [], {}
    for dom, n in sizes.items():
        e = rng.standard_normal((2, n))
        u = sps.norm.cdf(np.stack([e[0], r * e[0] + math.sqrt(1 - r * r) * e[1]], axis=1))
        base.append(100.0 * (u[:, 0] < base_p[dom]))
        other.append(100.0 * (u[:, 1] < other_p[dom]))
        for i in range(n):
            ids.append(f"{dom}-{i}")
            domain_of[f"{dom}-{i}"] = dom

    def make(values: list[np.ndarray]) -> Units:
        return Units(tuple(ids), np.concatenate(values)[:, None], "mean")
    return make(other), make(base), domain_of


SIZES = {"in": 300, "a": 200, "b": 200}
BASE_P = {"in": 0.8, "a": 0.65, "b": 0.55}  # out-of-domain pooled 0.6: gap 20 points
OTHER_P = {"in": 0.8, "a": 0.75, "b": 0.65}  # pooled 0.7: gap 10 points; true change -10


def test_deterministic_and_effect_is_gap_difference() -> None:
    other, base, domain_of = correlated_runs(np.random.default_rng(1), SIZES, BASE_P, OTHER_P, 0.5)
    first = gap_change(other, base, domain_of, {"in"}, samples=300, seed=4)
    again = gap_change(other, base, domain_of, {"in"}, samples=300, seed=4)
    assert first.ci == again.ci and first.p == again.p
    assert first.effect == first.other.gap - first.base.gap
    assert first.ci[0] <= first.effect <= first.ci[1]
    assert gap_change(other, base, domain_of, {"in"}, samples=300, seed=5).ci != first.ci
    # the order units come in changes nothing: runs are aligned by id, resamples drawn in id order
    order = np.random.default_rng(2).permutation(len(other.ids))
    shuffled = Units(tuple(other.ids[i] for i in order), other.stats[order], "mean")
    again = gap_change(shuffled, base, domain_of, {"in"}, samples=300, seed=4)
    assert again.ci == first.ci and again.effect == first.effect


def test_resamples_are_stratified_by_domain() -> None:
    # constant within each domain: with every domain's size kept, every resample's gap is exact
    base, domain_of = acc_units({"in": [1] * 7, "a": [1] * 5, "b": [0] * 9})
    other, _ = acc_units({"in": [1] * 7, "a": [1] * 5, "b": [1] * 9})
    change = gap_change(other, base, domain_of, {"in"}, samples=200)
    assert change.base.gap == pytest.approx(100 - 500 / 14)
    assert change.effect == pytest.approx(-(100 - 500 / 14))
    assert change.ci == pytest.approx((change.effect, change.effect))


def test_null_and_clear_effect() -> None:
    other, base, domain_of = correlated_runs(np.random.default_rng(3), SIZES, BASE_P, OTHER_P, 0.5)
    null = gap_change(base, base, domain_of, {"in"}, samples=300)
    assert null.effect == 0.0
    assert null.ci[0] <= 0.0 <= null.ci[1]
    assert null.p == 1.0
    clear_p = {"in": 0.8, "a": 0.95, "b": 0.9}
    other, base, domain_of = correlated_runs(np.random.default_rng(3), SIZES, BASE_P, clear_p, 0.5)
    clear = gap_change(other, base, domain_of, {"in"}, samples=1000)
    assert clear.effect < -20 and clear.ci[1] < 0
    assert clear.p < 0.01


def test_f1_runs_bootstrap() -> None:
    rng = np.random.default_rng(6)
    ids = tuple(f"s{i}" for i in range(60))
    domain_of = {uid: ("in" if i < 20 else "a" if i < 40 else "b") for i, uid in enumerate(ids)}
    gold = rng.integers(1, 4, size=60)
    base = Units(ids, np.stack([np.minimum(gold, rng.integers(0, 4, 60)), gold, gold], axis=1).astype(float), "f1")
    change = gap_change(base, base, domain_of, {"in"}, samples=200)
    assert change.effect == 0.0 and change.ci == (0.0, 0.0)


def test_paired_bootstrap_ci_coverage() -> None:
    """The 95% interval covers the known change in gap in about 95% of simulated test sets."""
    rng = np.random.default_rng(20240601)
    truth = ((OTHER_P["in"] - 0.7) - (BASE_P["in"] - 0.6)) * 100  # -10 points
    sims, covered = 400, 0
    for sim in range(sims):
        other, base, domain_of = correlated_runs(rng, SIZES, BASE_P, OTHER_P, 0.5)
        lo, hi = gap_change(other, base, domain_of, {"in"}, samples=500, seed=sim).ci
        covered += lo <= truth <= hi
    coverage = covered / sims
    print(f"coverage {coverage:.3f} over {sims} simulations")
    assert 0.92 <= coverage <= 0.98


def test_over_seeds() -> None:
    units, domain_of = acc_units({"in": [1, 1, 0, 1], "a": [1, 0, 0, 1]})
    better, _ = acc_units({"in": [1, 1, 0, 1], "a": [1, 1, 0, 1]})
    change = gap_change(better, units, domain_of, {"in"}, samples=50)
    test = gap_change_over_seeds([change, -30.0, -20.0])
    assert isinstance(change, GapChange)
    assert test.effects == [change.effect, -30.0, -20.0]
    assert test.n == 3 and test.opposes and not test.favours


def test_distance_trend_increasing() -> None:
    distance = {"de": 0.1, "fr": 0.2, "ru": 0.4, "hi": 0.6, "zh": 0.8, "ja": 0.9}
    trend = distance_trend({k: 2 * v + 1 for k, v in distance.items()}, {**distance, "xx": 0.5})
    assert trend.languages == ("de", "fr", "hi", "ja", "ru", "zh") and trend.n == 6
    assert trend.slope == pytest.approx(2.0)
    assert trend.rho == pytest.approx(1.0)
    assert trend.p == pytest.approx(2 / 720)  # the identity and its reverse are as extreme
    many = {f"l{i:02d}": float(i) for i in range(12)}
    big = distance_trend({k: v**2 for k, v in many.items()}, many)
    assert big.rho == pytest.approx(1.0) and big.p < 0.001 and "random" in big.method
    assert distance_trend({k: v**2 for k, v in many.items()}, many) == big


def test_distance_trend_without_relation() -> None:
    distance = {"de": 1.0, "fr": 2.0, "ru": 3.0, "hi": 4.0, "zh": 5.0, "ja": 6.0}
    shuffled = {"de": 3.0, "fr": 6.0, "ru": 1.0, "hi": 5.0, "zh": 4.0, "ja": 2.0}
    trend = distance_trend(shuffled, distance)
    assert abs(trend.rho) < 0.3 and trend.p > 0.3
    flat = distance_trend(dict.fromkeys(distance, 5.0), distance)
    assert flat.slope == 0.0 and math.isnan(flat.rho) and flat.p == 1.0


def test_distance_trend_needs_three_languages() -> None:
    with pytest.raises(ValueError, match="at least 3 languages"):
        distance_trend({"de": 1.0, "fr": 2.0, "ru": 3.0}, {"de": 0.1, "fr": 0.2, "hi": 0.3})
    with pytest.raises(ValueError, match="at least 3 languages"):
        distance_trend({"de": 1.0, "fr": math.nan, "ru": 3.0}, {"de": 0.1, "fr": 0.2, "ru": 0.3})
