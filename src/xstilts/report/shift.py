"""Robustness under domain shift: does intermediate-task training change the in- vs out-of-domain gap?

A run's test examples are split by domain. The *gap* is the in-domain score minus the score pooled
over every out-of-domain example; pooled, not averaged over domains, because for F1 rules the two
differ and the pooled score is what the metric itself reports on the combined set. Whether an
intermediate task narrows the gap is a paired question (both runs answer the same examples), so the
interval comes from the paired bootstrap of :mod:`xstilts.report.bootstrap`, stratified by domain so
each resample keeps every domain's size, as the test set fixes them. Seed noise is tested separately
with :func:`xstilts.report.stats.seed_test`, as for every other claim.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from xstilts.formats.base import Units
from xstilts.report.bootstrap import resample_counts, stable_seed
from xstilts.report.stats import ALPHA, SeedTest, bootstrap_ci, bootstrap_p, seed_test

#: languages up to this many get an exact permutation test (8! = 40,320 orderings)
EXACT_PERMUTATIONS = 8


def _take(units: Units, positions: Sequence[int]) -> Units:
    idx = np.asarray(positions, dtype=int)
    return Units(tuple(units.ids[i] for i in idx), units.stats[idx], units.rule)


def subset(units: Units, ids: Collection[str]) -> Units:
    """The units of ``ids``, in the order of ``units.ids`` (an id the units lack is an error, not a skip)."""
    wanted = set(ids)
    missing = wanted - set(units.ids)
    if missing:
        raise ValueError(f"{len(missing)} id(s) not among the units, e.g. {min(missing)!r}")
    return _take(units, [i for i, uid in enumerate(units.ids) if uid in wanted])


def _domains(ids: Sequence[str], domain_of: Mapping[str, str]) -> dict[str, list[int]]:
    """Domain -> positions of its ids (domains and, within each, ids sorted: independent of file order)."""
    missing = [uid for uid in ids if uid not in domain_of]
    if missing:
        raise ValueError(f"{len(missing)} unit id(s) have no domain, e.g. {missing[0]!r}")
    if len(set(ids)) != len(ids):
        raise ValueError("unit ids repeat: a domain split needs one unit per id")
    by_domain: dict[str, list[int]] = {}
    for pos in sorted(range(len(ids)), key=lambda i: ids[i]):
        by_domain.setdefault(domain_of[ids[pos]], []).append(pos)
    return dict(sorted(by_domain.items()))


def _split(by_domain: Mapping[str, list[int]], in_domains: Collection[str]) -> tuple[list[str], list[str]]:
    """In- and out-of-domain labels present; an empty side is an error naming it."""
    inside = [d for d in by_domain if d in in_domains]
    outside = [d for d in by_domain if d not in in_domains]
    if not inside:
        raise ValueError(f"no unit is in-domain: none of the units has a domain among {sorted(in_domains)}")
    if not outside:
        raise ValueError(f"no unit is out-of-domain: every unit's domain is among {sorted(in_domains)}")
    return inside, outside


def _in_set(in_domains: Collection[str] | str) -> frozenset[str]:
    """A bare string names one domain (not a collection of characters)."""
    return frozenset([in_domains]) if isinstance(in_domains, str) else frozenset(in_domains)


@dataclass(frozen=True)
class DomainGap:
    """One run's in-domain score, pooled out-of-domain score and per-domain scores (0-100 points)."""

    in_domain: float
    out_of_domain: float
    per_domain: dict[str, float]  # every domain, in-domain ones included
    worst_domain: str
    worst_score: float
    n_in: int
    n_out: int
    in_domains: tuple[str, ...] = ()

    @property
    def gap(self) -> float:
        """Points lost out of domain (positive: the run does worse on shifted data)."""
        return self.in_domain - self.out_of_domain

    @property
    def relative_drop(self) -> float | None:
        """The gap as a share of the in-domain score: comparable across runs of different strength."""
        if self.in_domain == 0 or math.isnan(self.in_domain):
            return None
        return self.gap / self.in_domain


def domain_gap(units: Units, domain_of: Mapping[str, str], in_domains: Collection[str] | str) -> DomainGap:
    """The gap of one run; ``domain_of`` maps unit id -> domain, ``in_domains`` are the training domains."""
    inside_set = _in_set(in_domains)
    by_domain = _domains(units.ids, domain_of)
    inside, outside = _split(by_domain, inside_set)
    per_domain = {d: _take(units, pos).score() for d, pos in by_domain.items()}
    in_pos = [p for d in inside for p in by_domain[d]]
    out_pos = [p for d in outside for p in by_domain[d]]
    finite = [d for d in outside if not math.isnan(per_domain[d])] or outside
    worst = min(finite, key=lambda d: (per_domain[d], d))
    return DomainGap(
        in_domain=_take(units, in_pos).score(), out_of_domain=_take(units, out_pos).score(), per_domain=per_domain,
        worst_domain=worst, worst_score=per_domain[worst], n_in=len(in_pos), n_out=len(out_pos),
        in_domains=tuple(inside),
    )  # fmt: skip


@dataclass(frozen=True)
class GapChange:
    """How far the other run's gap differs from the base run's, with a paired, stratified bootstrap."""

    base: DomainGap
    other: DomainGap
    ci: tuple[float, float]  # percentile interval at level 1 - alpha (95% by default)
    p: float  # two-sided bootstrap p for "the gap is unchanged"
    samples: int

    @property
    def effect(self) -> float:
        """other.gap - base.gap: negative means the intermediate task narrows the gap."""
        return self.other.gap - self.base.gap


def gap_change(
    other: Units, base: Units, domain_of: Mapping[str, str], in_domains: Collection[str] | str,
    samples: int = 1000, seed: int = 0, alpha: float = ALPHA, chunk: int = 200,
) -> GapChange:  # fmt: skip
    """Paired, stratified bootstrap of the change in gap between two runs on the same test examples.

    Each domain is resampled on its own with the same counts for both runs, so the interval reflects
    only the finite test set, and every resample keeps each domain's size as the test set fixes it.
    """
    diffs = paired_gap_diffs([(other, base)], domain_of, in_domains, samples, seed, chunk)
    inside_set = _in_set(in_domains)
    return GapChange(
        base=domain_gap(base, domain_of, inside_set), other=domain_gap(other, domain_of, inside_set),
        ci=bootstrap_ci(diffs, alpha), p=bootstrap_p(diffs), samples=samples,
    )  # fmt: skip


def paired_gap_diffs(
    pairs: Sequence[tuple[Units, Units]], domain_of: Mapping[str, str], in_domains: Collection[str] | str,
    samples: int = 1000, seed: int = 0, chunk: int = 200,
) -> np.ndarray:  # fmt: skip
    """Per resample, the mean over (other, base) pairs (one per seed) of other's gap minus base's.

    Every run answers the same examples, so one stream of stratified resamples serves all of them: the
    interval of the seed-mean change then reflects the test set alone, as for a single pair.
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    if not pairs:
        raise ValueError("no (other, base) pair of runs to compare")
    base0 = pairs[0][1]
    for other, base in pairs:
        for run in (other, base):
            if set(run.ids) != set(base0.ids) or len(run.ids) != len(base0.ids):
                only = sorted(set(run.ids) ^ set(base0.ids))
                hint = f", e.g. {only[0]!r}" if only else " (an id repeats)"
                raise ValueError(f"the runs hold different unit ids{hint}: a paired comparison needs the same examples")
            if run.rule != base0.rule:
                raise ValueError(f"the runs aggregate differently ({run.rule!r} vs {base0.rule!r})")
    inside_set = _in_set(in_domains)
    by_domain = _domains(base0.ids, domain_of)
    inside, outside = _split(by_domain, inside_set)
    ids_of = {d: [base0.ids[p] for p in pos] for d, pos in by_domain.items()}

    def pools(units: Units) -> tuple[Units, Units]:
        where = {uid: i for i, uid in enumerate(units.ids)}
        return (_take(units, [where[uid] for d in inside for uid in ids_of[d]]),
                _take(units, [where[uid] for d in outside for uid in ids_of[d]]))  # fmt: skip

    pooled = [(pools(other), pools(base)) for other, base in pairs]
    listing = "\x1e".join(f"{d}\x1d{uid}" for d, ids in ids_of.items() for uid in ids)
    digest = hashlib.sha256(listing.encode()).hexdigest()
    rng = np.random.default_rng([seed, stable_seed("domain-gap", ",".join(inside), digest)])
    diffs = np.empty(samples)
    for start in range(0, samples, chunk):
        rows = min(chunk, samples - start)
        counts = {d: resample_counts(rng, len(pos), rows) for d, pos in by_domain.items()}
        c_in = np.hstack([counts[d] for d in inside])
        c_out = np.hstack([counts[d] for d in outside])
        gaps = [[u_in.resampled(c_in) - u_out.resampled(c_out) for u_in, u_out in pair] for pair in pooled]
        diffs[start : start + rows] = np.mean([other - base for other, base in gaps], axis=0)
    return diffs


def gap_change_over_seeds(
    changes: Sequence[GapChange | float], reference: float = 0.0, alpha: float = ALPHA
) -> SeedTest:
    """Whether the change in gap survives training noise: :func:`seed_test` on one effect per seed pair.

    ``favours`` means the gap widens consistently, ``opposes`` that it narrows.
    """
    effects = [c.effect if isinstance(c, GapChange) else float(c) for c in changes]
    return seed_test(effects, reference, alpha)


@dataclass(frozen=True)
class Trend:
    """Does the gap grow with distance from English? Slope in points per unit distance, Spearman's rho."""

    languages: tuple[str, ...]
    slope: float  # least squares of gap on distance; NaN when every distance is the same
    rho: float  # NaN when gaps or distances are all equal
    p: float  # two-sided permutation p for "no monotone relation"
    method: str

    @property
    def n(self) -> int:
        return len(self.languages)


def _ranks_rho(rank_d: np.ndarray, rank_g: np.ndarray) -> np.ndarray:
    """Spearman's rho of one distance ranking against each row of gap rankings (Pearson on ranks)."""
    d = rank_d - rank_d.mean()
    g = rank_g - rank_g.mean(axis=-1, keepdims=True)
    return (g @ d) / (np.linalg.norm(d) * np.linalg.norm(g, axis=-1))


def distance_trend(
    gaps: Mapping[str, float], distance: Mapping[str, float], permutations: int = 10_000, seed: int = 0
) -> Trend:
    """Slope, Spearman's rho and a permutation p over the languages with both a finite gap and a distance.

    Few languages make asymptotic p-values meaningless, so up to :data:`EXACT_PERMUTATIONS` languages
    every ordering is enumerated; beyond that ``permutations`` seeded random orderings are drawn.
    """
    langs = tuple(sorted(lang for lang in set(gaps) & set(distance)
                         if math.isfinite(gaps[lang]) and math.isfinite(distance[lang])))  # fmt: skip
    if len(langs) < 3:
        raise ValueError(f"a trend needs at least 3 languages with a gap and a distance, got {len(langs)}: {list(langs)}")
    g = np.array([gaps[lang] for lang in langs], dtype=float)
    d = np.array([distance[lang] for lang in langs], dtype=float)
    sxx = float(((d - d.mean()) ** 2).sum())
    slope = float(((d - d.mean()) * (g - g.mean())).sum() / sxx) if sxx > 0 else math.nan
    rank_d, rank_g = sps.rankdata(d), sps.rankdata(g)
    n = len(langs)
    if np.ptp(rank_d) == 0 or np.ptp(rank_g) == 0:
        return Trend(langs, slope, math.nan, 1.0, "no ordering to test: gaps or distances are all equal")
    rho = float(_ranks_rho(rank_d, rank_g[None, :])[0])
    if n <= EXACT_PERMUTATIONS:
        orders = np.array(list(itertools.permutations(range(n))))
        extreme = np.abs(_ranks_rho(rank_d, rank_g[orders])) >= abs(rho) - 1e-12
        return Trend(langs, slope, rho, float(extreme.mean()), f"exact permutation test over {len(orders)} orderings")
    rng = np.random.default_rng([seed, stable_seed("distance-trend", *langs)])
    shuffled = rng.permuted(np.tile(rank_g, (permutations, 1)), axis=1)
    extreme = np.abs(_ranks_rho(rank_d, shuffled)) >= abs(rho) - 1e-12
    p = float((1 + extreme.sum()) / (1 + permutations))
    return Trend(langs, slope, rho, p, f"{permutations} random permutations")
