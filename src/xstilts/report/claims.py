"""Claim verdicts: each claim of a claim file checked against a grid of runs.

Every claim is reduced to an *effect*: a function of paired deltas ``score(I, t) - score(none, t)``
over (intermediate, target) cells. The same function is evaluated three ways: on the seed-averaged
deltas (the reported effect), per seed (the paired test over seeds), and per bootstrap resample of
the test examples (the 95% interval). ``stats.decide`` turns these into a verdict. Runs whose
per-example scores cannot be rebuilt leave the claim with seeds only, and the verdict says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.claims import Claim, ClaimSet
from xstilts.paths import atomic_write_json, atomic_write_text
from xstilts.report.cells import Cell, Grid
from xstilts.report.matrix import pair_seeds
from xstilts.report.render import REPORT_DIR, markdown_table, md_escape
from xstilts.report.runs import score_table
from xstilts.report.stats import benjamini_hochberg, bootstrap_ci, bootstrap_p, decide, holm, seed_test
from xstilts.report.xtreme import GROUPS, XTREME_TASKS

TARGET_SETS = {
    "xtreme": XTREME_TASKS,
    "classification": GROUPS["classification"],
    "structured": GROUPS["structured prediction"],
    "qa": GROUPS["question answering"],
    "retrieval": GROUPS["retrieval"],
}
Effect = Callable[[dict[Cell, Any]], Any]


@dataclass
class ClaimResult:
    id: str
    text: str
    type: str
    verdict: str
    reason: str
    effect: float | None = None
    ci: tuple[float, float] | None = None
    ci_method: str | None = None
    p_value: float | None = None
    p_method: str = ""
    p_bootstrap: float | None = None
    n_seeds: int = 0
    seed_effects: list[float] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parts: list[ClaimResult] = field(default_factory=list)
    #: how a best-per-target claim chose its intermediate tasks (dev, seeds or test)
    selection: str | None = None
    #: max of the seed and bootstrap p-values: both tests must reject for a verdict (intersection-union)
    p_claim: float | None = None
    #: ``p_claim`` adjusted over the claim file's family (Holm and Benjamini-Hochberg)
    p_holm: float | None = None
    p_bh: float | None = None


def resolve_targets(spec: str | list[str], grid: Grid) -> tuple[list[str], list[str]]:
    """(present targets, named but absent targets)."""
    names = [spec] if isinstance(spec, str) else list(spec)
    wanted: list[str] = []
    for name in names:
        if name == "all":
            wanted += grid.targets
        else:
            wanted += list(TARGET_SETS.get(name, (name,)))
    wanted = list(dict.fromkeys(wanted))
    return [t for t in wanted if t in grid.targets], [t for t in wanted if t not in grid.targets]


def resolve_intermediates(spec: str | list[str] | None, grid: Grid) -> tuple[list[str], list[str]]:
    names = [spec] if isinstance(spec, str) else list(spec or ["all"])
    wanted: list[str] = []
    for name in names:
        if name == "all":
            wanted += grid.intermediates
        elif name == "single":  # single intermediate tasks: not mixtures
            wanted += [i for i in grid.intermediates if "+" not in i and i != "multitask"]
        elif name == "multitask" and name not in grid.intermediates:
            mixes = [i for i in grid.intermediates if "+" in i]
            wanted += mixes if len(mixes) == 1 else [name]
        else:
            wanted.append(name)
    wanted = list(dict.fromkeys(wanted))
    return [i for i in wanted if i in grid.intermediates], [i for i in wanted if i not in grid.intermediates]


def evaluate_effect(claim: Claim, grid: Grid, cells: list[Cell], effect: Effect, notes: list[str]) -> ClaimResult:
    """Observed effect, paired seed test and paired bootstrap interval of ``effect`` over ``cells``."""
    base = claim.baseline
    pairs: dict[Cell, dict[int, int]] = {}
    for inter, target in cells:
        got, ref = grid.cells.get((inter, target), {}), grid.cells.get((base, target), {})
        pairs[(inter, target)] = dict(pair_seeds(list(got), list(ref)))
    unpaired = [c for c, p in pairs.items() if not p]
    if not cells or unpaired:
        what = ", ".join(f"{i}->{t}" for i, t in unpaired) or "no cell"
        return ClaimResult(claim.id, claim.text, claim.type, "inconclusive", f"no paired runs vs {base} for {what}", notes=notes)
    seeds = sorted(set.intersection(*(set(p) for p in pairs.values())))
    if not seeds:
        notes.append("the cells share no seed: per-seed effects replaced by one seed-averaged effect")
    elif len(seeds) < 3:
        notes.append(f"{len(seeds)} seed(s): training noise is not tested, only the signs of the per-seed effects")

    def delta(cell: Cell, s: int, values: Callable[[str], Any]) -> Any:
        return values(grid.cells[cell][s]) - values(grid.cells[(base, cell[1])][pairs[cell][s]])

    def averaged(values: Callable[[str], Any]) -> dict[Cell, Any]:
        use = {c: (seeds or sorted(pairs[c])) for c in cells}
        return {c: sum(delta(c, s, values) for s in use[c]) / len(use[c]) for c in cells}

    observed = float(effect(averaged(grid.score)))
    per_seed = [float(effect({c: delta(c, s, grid.score) for c in cells})) for s in seeds] or [observed]
    used = {grid.cells[c][s] for c in cells for s in pairs[c]} | {grid.cells[(base, c[1])][b] for c in cells for b in pairs[c].values()}
    evidence = [
        {"run_id": rid, "intermediate": grid.runs.at[rid, "intermediate"], "target": grid.runs.at[rid, "target"],
         "seed": int(grid.runs.at[rid, "seed"]), "task_score": grid.score(rid)}
        for rid in sorted(used, key=lambda r: (grid.runs.at[r, "target"], grid.runs.at[r, "intermediate"], grid.runs.at[r, "seed"]))
    ]  # fmt: skip
    grid.prepare_bootstrap(used)
    lacking = sorted(used & set(grid.no_boot))
    st = seed_test(per_seed, 0.0, grid.alpha)
    ci, ci_method, p_boot = st.ci, (st.method if st.ci else None), None
    if not lacking and grid.samples > 0:
        samples = np.asarray(effect(averaged(lambda rid: grid.boot[rid])), dtype=float)
        ci, ci_method, p_boot = bootstrap_ci(samples, grid.alpha), f"paired bootstrap over test examples ({grid.samples} resamples)", bootstrap_p(samples)
    elif lacking:
        notes.append(f"no per-example scores for {len(lacking)} run(s), seeds only; e.g. {lacking[0]}: {grid.no_boot[lacking[0]]}")
    else:
        notes.append("bootstrap turned off (0 resamples): seeds only")
    vs_threshold = seed_test(per_seed, claim.at_least, grid.alpha) if claim.at_least is not None else None
    d = decide(observed, st, ci, claim.at_least, vs_threshold)
    return ClaimResult(claim.id, claim.text, claim.type, d.verdict, d.reason, observed, ci, ci_method, st.p_value, st.method,
                       p_boot, len(seeds), per_seed if seeds else [], evidence, notes)  # fmt: skip


def _mean(values: list[Any]) -> Any:
    return sum(values) / len(values)


def check_improves(claim: Claim, grid: Grid) -> ClaimResult:
    inters, missing_i = resolve_intermediates(claim.intermediate, grid)
    targets, missing_t = resolve_targets(claim.target, grid)
    if missing_i or missing_t or not inters or not targets:
        return _missing(claim, missing_i, missing_t)
    parts = [evaluate_effect(claim, grid, [(i, t)], lambda d, c=(i, t): d[c], []) for i in inters for t in targets]
    if len(parts) == 1:
        return parts[0]
    for part, (i, t) in zip(parts, [(i, t) for i in inters for t in targets], strict=True):
        part.id = f"{claim.id}[{i}->{t}]"
    verdicts = {p.verdict for p in parts}
    verdict = "supported" if verdicts == {"supported"} else ("refuted" if "refuted" in verdicts else "inconclusive")
    reason = f"{sum(p.verdict == 'supported' for p in parts)} of {len(parts)} (intermediate, target) pairs supported"
    effects = [p.effect for p in parts if p.effect is not None]
    return ClaimResult(claim.id, claim.text, claim.type, verdict, reason, _mean(effects) if effects else None,
                       evidence=[e for p in parts for e in p.evidence], parts=parts)  # fmt: skip


def check_improves_mean(claim: Claim, grid: Grid) -> ClaimResult:
    inters, missing_i = resolve_intermediates(claim.intermediate, grid)
    targets, missing_t = resolve_targets(claim.target, grid)
    if missing_i or not inters or not targets:
        return _missing(claim, missing_i, missing_t)
    notes = [f"absent targets left out: {', '.join(missing_t)}"] if missing_t and claim.target not in ("all",) else []
    cells = [(i, t) for i in inters for t in targets if (i, t) in grid.cells]
    notes.append(f"mean over {len(cells)} cells: {', '.join(inters)} x {', '.join(targets)}")
    return evaluate_effect(claim, grid, cells, lambda d: _mean([d[c] for c in cells]), notes)


def check_best_per_target(claim: Claim, grid: Grid) -> ClaimResult:
    """The best-per-target gain, its intermediate task chosen by ``claim.selection`` (default: English dev)."""
    from xstilts.report.selection import RULES, selected_gain

    targets, missing_t = resolve_targets(claim.target, grid)
    rule = claim.selection
    sel = selected_gain(grid, targets, rule, claim.baseline, grid.alpha)
    notes = list(sel.notes)
    if not sel.targets and rule == "dev":
        retry = selected_gain(grid, targets, "seeds", claim.baseline, grid.alpha)
        if retry.targets:
            notes.append("no English dev scores to pick on: picked on held-out seeds instead")
            sel, notes = retry, notes + retry.notes
    absent = missing_t + [t for t in targets if t not in sel.targets]
    if not sel.targets or sel.gain is None:
        return _missing(claim, [], absent) if not notes else ClaimResult(
            claim.id, claim.text, claim.type, "inconclusive", "; ".join(notes), notes=notes)
    notes.insert(0, f"selection: {sel.rule}, {RULES[sel.rule]}: " + ", ".join(f"{t}: {i}" for t, i in sorted(sel.picks.items())))
    st = seed_test(sel.per_seed, 0.0, grid.alpha)
    vs_threshold = seed_test(sel.per_seed, claim.at_least, grid.alpha) if claim.at_least is not None else None
    d = decide(sel.gain, st, sel.ci, claim.at_least, vs_threshold)
    result = ClaimResult(claim.id, claim.text, claim.type, d.verdict, d.reason, sel.gain, sel.ci, sel.ci_method, sel.p_seeds,
                         sel.p_method, sel.p_bootstrap, len(sel.seeds), sel.per_seed, notes=notes, selection=sel.rule)  # fmt: skip
    if absent:
        result.notes.append(f"targets without an intermediate run and a {claim.baseline} run: {', '.join(absent)}")
        if claim.at_least is not None:
            result.verdict = "inconclusive"
            result.reason = f"the claimed {claim.at_least:g} is over all of {claim.target}; {len(absent)} target(s) missing"
    return result


def check_top_k(claim: Claim, grid: Grid) -> ClaimResult:
    inters, missing_i = resolve_intermediates(claim.intermediate, grid)
    expected = list(claim.expected or [])
    absent = [e for e in expected if e not in inters]
    if absent or missing_i:
        return _missing(claim, absent + missing_i, [])
    if len(inters) <= len(expected):
        return ClaimResult(claim.id, claim.text, claim.type, "inconclusive", "no other intermediate task to rank against")
    wanted, _ = resolve_targets(claim.target, grid)
    targets = [t for t in wanted if all((i, t) in grid.cells for i in [*inters, claim.baseline])]
    others = [i for i in inters if i not in expected]
    cells = [(i, t) for i in inters for t in targets]

    def margin(d: dict[Cell, Any]) -> Any:
        mean = {i: _mean([d[(i, t)] for t in targets]) for i in inters}
        low = np.minimum.reduce([np.asarray(mean[e], dtype=float) for e in expected])
        high = np.maximum.reduce([np.asarray(mean[o], dtype=float) for o in others])
        return low - high

    notes = [f"effect = lowest mean delta among {', '.join(expected)} minus highest among the others, over {', '.join(targets) or 'no target'}"]
    if not targets:
        return ClaimResult(claim.id, claim.text, claim.type, "inconclusive", "no target has runs of every intermediate task", notes=notes)
    result = evaluate_effect(claim, grid, cells, margin, notes)
    by_mean = grid.matrix[grid.matrix["target"].isin(targets) & grid.matrix["intermediate"].isin(inters)].groupby("intermediate")["delta_mean"].mean()
    result.notes.append("ranking by mean delta: " + ", ".join(f"{i} {v:+.2f}" for i, v in by_mean.sort_values(ascending=False).items()))
    return result


def _missing(claim: Claim, inters: list[str], targets: list[str]) -> ClaimResult:
    what = [f"intermediate {', '.join(inters)}"] if inters else []
    what += [f"target {', '.join(targets)}"] if targets else []
    return ClaimResult(claim.id, claim.text, claim.type, "inconclusive", f"no runs for {'; '.join(what) or 'this claim'}")


def _shift_protocols(claim: Claim, grid: Grid) -> tuple[list[str], ClaimResult | None]:
    """The robustness protocols that evaluated the claim's target(s), or why the claim cannot be checked."""
    rob = grid.robustness()
    targets = [claim.target] if isinstance(claim.target, str) else list(claim.target)
    found = [p for p, ts in rob.targets.items() if "all" in targets or set(ts) & set(targets)]
    if not found:
        return [], ClaimResult(claim.id, claim.text, claim.type, "inconclusive",
                               f"no run of {', '.join(targets)} whose model recorded its training domains")  # fmt: skip
    return found, None


def check_narrows_gap(claim: Claim, grid: Grid) -> ClaimResult:
    """Narrowing is a negative change in gap; the effect is reported as the narrowing (positive = narrower)."""
    protocols, missing = _shift_protocols(claim, grid)
    if missing:
        return missing
    inters = [claim.intermediate] if isinstance(claim.intermediate, str) else list(claim.intermediate or [])
    rob = grid.robustness()
    parts = []
    for proto in protocols:
        for inter in inters:
            found = rob.details.get((proto, inter, claim.language))
            name = f"{claim.id}[{inter}: {proto}]"
            if found is None:
                parts.append(ClaimResult(name, claim.text, claim.type, "inconclusive",
                                         f"no gap change of {inter} vs {claim.baseline} in {claim.language}"))  # fmt: skip
                continue
            effects, diffs = found
            narrowing = [-e for e in effects]
            st = seed_test(narrowing, 0.0, grid.alpha)
            ci = bootstrap_ci(-diffs, grid.alpha)
            d = decide(float(np.mean(narrowing)), st, ci, claim.at_least)
            parts.append(ClaimResult(name, claim.text, claim.type, d.verdict, d.reason, float(np.mean(narrowing)), ci,
                                     f"paired bootstrap over test examples, stratified by domain ({len(diffs)} resamples)",
                                     st.p_value, st.method, bootstrap_p(-diffs), len(effects), narrowing))  # fmt: skip
    if len(parts) == 1:
        parts[0].id = claim.id
        return parts[0]
    verdicts = {p.verdict for p in parts}
    verdict = "supported" if verdicts == {"supported"} else ("refuted" if "refuted" in verdicts else "inconclusive")
    effects = [p.effect for p in parts if p.effect is not None]
    return ClaimResult(claim.id, claim.text, claim.type, verdict, f"{sum(p.verdict == 'supported' for p in parts)} of "
                       f"{len(parts)} protocol(s) supported", _mean(effects) if effects else None, parts=parts)  # fmt: skip


def check_gap_grows_with_distance(claim: Claim, grid: Grid) -> ClaimResult:
    """Spearman's rho between each language's gap and its distance from English, with a permutation test."""
    from xstilts.report.distance import distances_from
    from xstilts.report.robustness import MEAN
    from xstilts.report.shift import distance_trend

    protocols, missing = _shift_protocols(claim, grid)
    if missing:
        return missing
    inter = claim.intermediate if isinstance(claim.intermediate, str) else claim.baseline
    gaps = grid.robustness().gaps
    rows = gaps[gaps["protocol"].isin(protocols) & (gaps["intermediate"] == inter) & (gaps["language"] != MEAN)]
    by_lang = rows.groupby("language")["gap"].mean().to_dict()
    dist = distances_from(sorted(by_lang), claim.distance)
    if len(set(by_lang) & set(dist)) < 3:
        return ClaimResult(claim.id, claim.text, claim.type, "inconclusive",
                           f"{len(set(by_lang) & set(dist))} language(s) with both a domain gap and a {claim.distance} "
                           "distance from English; a trend needs 3")  # fmt: skip
    trend = distance_trend(by_lang, dist)
    if trend.p < grid.alpha and trend.rho > 0:
        verdict, reason = "supported", f"the gap rises with distance (rho {trend.rho:+.2f}, p {trend.p:.3g})"
    elif trend.p < grid.alpha and trend.rho < 0:
        verdict, reason = "refuted", f"the gap falls with distance (rho {trend.rho:+.2f}, p {trend.p:.3g})"
    else:
        verdict, reason = "inconclusive", f"no clear trend over {trend.n} languages (rho {trend.rho:+.2f}, p {trend.p:.3g})"
        if trend.n <= 8 and 2 / math.factorial(trend.n) >= grid.alpha:
            reason += f"; with {trend.n} languages no ordering can reach p < {grid.alpha:g}"
    evidence = [{"language": lang, "gap": float(by_lang[lang]), "distance": float(dist[lang])} for lang in trend.languages]
    return ClaimResult(claim.id, claim.text, claim.type, verdict, reason, trend.rho, None, None, trend.p,
                       f"{trend.method} ({claim.distance} distance, URIEL)", evidence=evidence)  # fmt: skip


CHECKS = {"improves": check_improves, "improves_mean": check_improves_mean, "best_per_target_gain": check_best_per_target,
          "top_k": check_top_k, "narrows_gap": check_narrows_gap, "gap_grows_with_distance": check_gap_grows_with_distance}  # fmt: skip


def check_claims(claim_set: ClaimSet, run_dir: Path | str, model: str | None = None, samples: int | None = None) -> list[ClaimResult]:
    """A verdict for every claim; ``samples`` overrides the claim file's bootstrap size (0 = seeds only)."""
    n = claim_set.bootstrap_samples if samples is None else samples
    grid = Grid(score_table(run_dir, model), Path(run_dir), n, claim_set.bootstrap_seed, claim_set.alpha)
    results = [CHECKS[c.type](c, grid) for c in claim_set.claims]
    correct_family(results, claim_set.correction, claim_set.alpha)
    return results


def claim_p(r: ClaimResult) -> float | None:
    """The p-value of a verdict that needs both tests: the larger of the two (an intersection-union test).

    With fewer than 3 seeds the seed check is sign agreement, whose p never falls below 0.5; the
    bootstrap's p stands alone there. A claim of parts that must all hold takes the largest part's.
    """
    if r.parts:
        ps = [claim_p(p) for p in r.parts]
        for part, p in zip(r.parts, ps, strict=True):
            part.p_claim = p
        return None if any(p is None for p in ps) else max(ps)  # type: ignore[type-var]
    t_test = r.p_method.startswith("paired t-test")
    if r.p_bootstrap is not None:
        tested = [r.p_bootstrap] + ([r.p_value] if t_test and r.p_value is not None else [])
    else:
        tested = [r.p_value] if r.p_value is not None else []
    return max(tested) if tested else None


def correct_family(results: list[ClaimResult], correction: str, alpha: float) -> None:
    """Holm and BH adjusted p-values over the claim file; ``correction`` decides which one verdicts obey."""
    ps = [claim_p(r) for r in results]
    for r, p, h, b in zip(results, ps, holm(ps), benjamini_hochberg(ps), strict=True):
        r.p_claim, r.p_holm, r.p_bh = p, h, b
    if correction == "none":
        return
    m = sum(p is not None for p in ps)
    for r in results:
        adjusted = r.p_holm if correction == "holm" else r.p_bh
        if r.verdict == "supported" and adjusted is not None and adjusted >= alpha:
            name = "Holm" if correction == "holm" else "Benjamini-Hochberg"
            r.verdict = "inconclusive"
            r.reason = f"supported before correction, but the {name}-adjusted p over {m} claims is {adjusted:.3g} (≥ {alpha:g})"


def _num(v: float | None, sign: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:+.2f}" if sign else (f"{v:.3g}" if abs(v) < 0.01 else f"{v:.3f}")


def _p_boot(r: ClaimResult, samples: int) -> str:
    if r.p_bootstrap == 0.0 and samples > 0:
        return f"<{1 / samples:.2g}"  # no resample crossed 0
    return _num(r.p_bootstrap)


def summary_rows(results: list[ClaimResult], samples: int = 1000, why: bool = True) -> list[dict[str, str]]:
    rows = []
    for r in results:
        row = {"claim": r.id, "verdict": r.verdict, "effect": _num(r.effect, sign=True),
               "95% CI": f"[{r.ci[0]:+.2f}, {r.ci[1]:+.2f}]" if r.ci else "–", "p seeds": _num(r.p_value),
               "p boot": _p_boot(r, samples), "p Holm": _num(r.p_holm), "p BH": _num(r.p_bh), "seeds": str(r.n_seeds)}  # fmt: skip
        if why:
            row["why"] = r.reason
        rows.append(row)
    return rows


def to_markdown(claim_set: ClaimSet, results: list[ClaimResult]) -> str:
    import pandas as pd

    e = md_escape
    table = markdown_table(pd.DataFrame(summary_rows(results, claim_set.bootstrap_samples)))
    out = [f"# Claims: {e(claim_set.name)}\n\n{e(claim_set.description)}\n\n", table, "\n"]
    for r in results:
        out.append(f"\n## {e(r.id)}: {e(r.verdict)}\n\n{e(r.text)}\n\n- {e(r.reason)}\n")
        if r.ci_method:
            out.append(f"- interval: {e(r.ci_method)}; seed test: {e(r.p_method)}\n")
        out += [f"- {e(note)}\n" for note in r.notes]
        for p in r.parts:
            out.append(f"- {e(p.id)}: {e(p.verdict)}, effect {_num(p.effect, True)}, {e(p.reason)}\n")
        out.append(f"- evidence runs: {e(', '.join(ev['run_id'] for ev in r.evidence) or 'none')}\n")
    return "".join(out)


def write_claims(claim_set: ClaimSet, results: list[ClaimResult], run_dir: Path | str) -> dict[str, Path]:
    out = Path(run_dir) / REPORT_DIR
    paths = {"json": out / "claims.json", "md": out / "claims.md"}
    atomic_write_json(paths["json"], {"claims": claim_set.name, "results": [asdict(r) for r in results]})
    atomic_write_text(paths["md"], to_markdown(claim_set, results))
    return paths
