"""Robustness under domain shift, from a grid's runs: in- and out-of-domain scores, gaps, and their change.

A *protocol* is one trained target model and every evaluation made with it: its training result names
the domains it saw (``training.domains``), so each test example is in-domain (its domain was seen) or
out-of-domain. Evaluations of several tasks with one model (XQuAD's held-out half and M2QA's news and
reviews) pool into one protocol, language by language. Per language and intermediate task: the
in-domain score, the out-of-domain score per domain and pooled, the gap and relative drop, the worst
domain; against the no-intermediate baseline, the change in gap with a paired, stratified bootstrap CI
over test examples (seeds share resamples) and a test over seeds.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xstilts.data.domains import DOMAIN, example_domain, task_domain
from xstilts.data.perturb import PERTURB_SLICE
from xstilts.experiment.store import eval_split
from xstilts.formats.base import Units
from xstilts.report.examples import GoldCache, run_units
from xstilts.report.matrix import pair_seeds
from xstilts.report.runs import score_table
from xstilts.report.shift import domain_gap, gap_change_over_seeds, paired_gap_diffs, subset
from xstilts.report.stats import ALPHA, bootstrap_ci, bootstrap_p
from xstilts.report.xtreme import language_score
from xstilts.runs import NO_INTERMEDIATE, RESULT_FILE
from xstilts.tasks.registry import get_task

#: the language-mean row of each table
MEAN = "mean"
GAP_COLS = ["protocol", "intermediate", "language", "in_domain", "out_of_domain", "gap", "relative_drop",
            "worst_domain", "worst_score", "n_in", "n_out", "seeds"]  # fmt: skip
CHANGE_COLS = ["protocol", "intermediate", "language", "gap_base", "gap_other", "change", "ci_low", "ci_high",
               "p_boot", "seed_p", "seed_verdict", "pairs"]  # fmt: skip
DOMAIN_COLS = ["protocol", "intermediate", "language", "domain", "in_domain", "score", "n", "seeds"]
CURVE_COLS = ["target", "intermediate", "kind", "rate", "language", "score", "seeds"]


@dataclass
class Protocol:
    """One trained target model's evaluations: which domains it saw, and units per (intermediate, seed, language)."""

    name: str
    in_domains: frozenset[str]
    targets: set[str] = field(default_factory=set)
    #: language -> the domains its test examples hold, over all of the protocol's evaluations
    eval_domains: dict[str, set[str]] = field(default_factory=dict)
    units: dict[tuple[str, int, str], Units] = field(default_factory=dict)
    #: (intermediate, seed, language, domain) -> (score, examples), read from a run's slices where no gap exists
    slice_scores: dict[tuple[str, int, str, str], tuple[float, int]] = field(default_factory=dict)
    domain_of: dict[str, str] = field(default_factory=dict)


@dataclass
class Robustness:
    """The report section's tables (display-ready numbers stay floats; renderers format them)."""

    gaps: pd.DataFrame
    changes: pd.DataFrame
    domains: pd.DataFrame
    notes: list[str]
    #: protocol -> the target tasks evaluated with its trained model
    targets: dict[str, list[str]] = field(default_factory=dict)
    #: (protocol, intermediate, language) -> (per-seed-pair changes in gap, bootstrap changes of their mean)
    details: dict[tuple[str, str, str], tuple[list[float], np.ndarray]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.domains.empty


def _read(path: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _merge(a: Units | None, b: Units) -> Units:
    if a is None:
        return b
    if a.rule != b.rule:
        raise ValueError(f"units aggregate differently ({a.rule} vs {b.rule})")
    return Units(a.ids + b.ids, np.vstack([a.stats, b.stats]), a.rule)


def _prefixed(units: Units, prefix: str) -> Units:
    return Units(tuple(f"{prefix}/{uid}" for uid in units.ids), units.stats, units.rule)


def collect(run_dir: Path | str, model: str | None = None) -> tuple[dict[str, Protocol], list[str]]:
    """Every evaluation run whose trained model recorded its training domains, grouped into protocols.

    Per-example scores are rebuilt only for the languages whose test examples (over all of the
    protocol's evaluations) hold both seen and unseen domains, where a gap exists; elsewhere each
    domain's score is read from the run's own ``slices["domain"]``.
    """
    run_dir = Path(run_dir)
    table = score_table(run_dir, model)
    notes: list[str] = []
    gold = GoldCache()
    parents: dict[str, dict[str, Any] | None] = {}
    protocols: dict[str, Protocol] = {}
    runs: list[tuple[Protocol, Any, dict[str, Any], Path]] = []
    for row in table.runs.itertuples(index=False):
        folder = run_dir / str(row.path)
        raw = _read(folder / RESULT_FILE)
        parent_id = ((raw or {}).get("parent") or {}).get("run_id")
        if raw is None or not parent_id or not get_task(raw["task"]).fmt.trainable or DOMAIN not in (raw.get("slices") or {}):
            continue
        if parent_id not in parents:
            parents[parent_id] = _read(run_dir / str(parent_id) / RESULT_FILE)
        seen = (((parents[parent_id] or {}).get("training") or {}).get("domains")) or {}
        if not seen:
            notes.append(f"run {row.run_id}: its trained model {parent_id} records no training domains; left out")
            continue
        in_domains = frozenset(d for counts in seen.values() for d in counts)
        name = f"{'+'.join(sorted(seen))} trained on {', '.join(sorted(in_domains))}"
        proto = protocols.setdefault(name, Protocol(name, in_domains))
        proto.targets.add(str(raw["task"]))
        for domain, by_lang in raw["slices"][DOMAIN].items():
            for lang in by_lang:
                proto.eval_domains.setdefault(lang, set()).add(domain)
        runs.append((proto, row, raw, folder))
    for proto, row, raw, folder in runs:
        task = get_task(raw["task"])
        gap_langs = {lang for lang, ds in proto.eval_domains.items() if ds & proto.in_domains and ds - proto.in_domains}
        units: dict[str, Units] = {}
        if gap_langs & set(raw.get("metrics") or {}):
            try:
                units = run_units(raw, folder, gold)
            except ValueError as exc:
                notes.append(f"run {row.run_id}: no per-example scores ({exc}); its domain gaps are left out")
        split = eval_split(raw) or task.eval_split
        data_dir = ((raw.get("config") or {}).get("data") or {}).get("data_dir")
        for lang, u in units.items():
            if lang not in gap_langs:
                continue
            for ex in gold.get(task, lang, split, data_dir).examples:
                proto.domain_of[f"{task.name}/{lang}/{ex.id}"] = example_domain(ex, task_domain(task))
            key = (str(row.intermediate), int(row.seed), lang)
            try:
                proto.units[key] = _merge(proto.units.get(key), _prefixed(u, f"{task.name}/{lang}"))
            except ValueError as exc:
                notes.append(f"run {row.run_id} ({lang}): {exc}; left out of {proto.name}")
        for domain, by_lang in raw["slices"][DOMAIN].items():
            for lang, metrics in by_lang.items():
                if lang not in units or lang not in gap_langs:
                    value = language_score(task, metrics or {})
                    key4 = (str(row.intermediate), int(row.seed), lang, domain)
                    proto.slice_scores[key4] = (math.nan if value is None else value, int((metrics or {}).get("n", 0)))
    return protocols, notes


def _domain_scores(units: Units, domain_of: dict[str, str]) -> dict[str, tuple[float, int]]:
    by: dict[str, list[str]] = defaultdict(list)
    for uid in units.ids:
        by[domain_of[uid]].append(uid)
    return {d: (subset(units, ids).score(), len(ids)) for d, ids in sorted(by.items())}


def _mean(values: list[float]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


def robustness(run_dir: Path | str, model: str | None = None, samples: int = 1000, seed: int = 0,
               alpha: float = ALPHA) -> Robustness:  # fmt: skip
    """The section's tables for every protocol found in ``run_dir``."""
    protocols, notes = collect(run_dir, model)
    gap_rows, change_rows, domain_rows = [], [], []
    details: dict[tuple[str, str, str], tuple[list[float], np.ndarray]] = {}
    for proto in protocols.values():
        by_inter: dict[str, dict[str, dict[int, Units]]] = defaultdict(lambda: defaultdict(dict))
        for (inter, s, lang), u in proto.units.items():
            by_inter[inter][lang][s] = u
        for inter, langs in sorted(by_inter.items()):
            lang_gaps: dict[str, list[Any]] = {}
            for lang, seeds in sorted(langs.items()):
                per_domain: dict[str, list[tuple[float, int]]] = defaultdict(list)
                for u in seeds.values():
                    for d, sn in _domain_scores(u, proto.domain_of).items():
                        per_domain[d].append(sn)
                for d, scores in per_domain.items():
                    domain_rows.append([proto.name, inter, lang, d, d in proto.in_domains, _mean([s for s, _ in scores]), scores[0][1], len(scores)])
                domains_here = set(per_domain)
                if not (domains_here & proto.in_domains) or not (domains_here - proto.in_domains):
                    continue
                gaps = [domain_gap(u, proto.domain_of, proto.in_domains) for u in seeds.values()]
                means = {d: _mean([s for s, _ in per_domain[d]]) for d in domains_here - proto.in_domains}
                worst = min(means, key=lambda d: means[d])
                row = [proto.name, inter, lang, _mean([g.in_domain for g in gaps]), _mean([g.out_of_domain for g in gaps]),
                       _mean([g.gap for g in gaps]), _mean([g.relative_drop for g in gaps]), worst, means[worst],
                       gaps[0].n_in, gaps[0].n_out, len(gaps)]  # fmt: skip
                gap_rows.append(row)
                lang_gaps[lang] = row
            if len(lang_gaps) > 1:
                cols = list(zip(*lang_gaps.values(), strict=True))
                gap_rows.append([proto.name, inter, MEAN, *(_mean(list(cols[i])) for i in (3, 4, 5, 6)), "", math.nan,
                                 int(sum(cols[9])), int(sum(cols[10])), min(cols[11])])  # fmt: skip
        from_slices: dict[tuple[str, str, str], list[tuple[float, int]]] = defaultdict(list)
        for (inter, _seed, lang, d), sn in proto.slice_scores.items():
            from_slices[(inter, lang, d)].append(sn)
        for (inter, lang, d), scores in sorted(from_slices.items()):
            domain_rows.append([proto.name, inter, lang, d, d in proto.in_domains, _mean([s for s, _ in scores]), scores[0][1], len(scores)])
        base = by_inter.get(NO_INTERMEDIATE)
        if base is None:
            if len(by_inter) > 1:
                notes.append(f"{proto.name}: no '{NO_INTERMEDIATE}' runs, so no change in gap is computed")
            continue
        for inter, langs in sorted(by_inter.items()):
            if inter == NO_INTERMEDIATE:
                continue
            diffs_by_lang, effects_by_lang = {}, {}
            for lang, seeds in sorted(langs.items()):
                if lang not in base:
                    continue
                pairs = pair_seeds(list(seeds), list(base[lang]))
                units = [(seeds[a], base[lang][b]) for a, b in pairs]
                domains_here = {proto.domain_of[uid] for uid in units[0][1].ids} if units else set()
                if not units or not (domains_here & proto.in_domains) or not (domains_here - proto.in_domains):
                    continue
                try:
                    diffs = paired_gap_diffs(units, proto.domain_of, proto.in_domains, samples, seed)
                except ValueError as exc:
                    notes.append(f"{proto.name}, {inter}, {lang}: {exc}")
                    continue
                gaps = [(domain_gap(o, proto.domain_of, proto.in_domains).gap, domain_gap(b, proto.domain_of, proto.in_domains).gap)
                        for o, b in units]  # fmt: skip
                effects = [other - base_gap for other, base_gap in gaps]
                diffs_by_lang[lang], effects_by_lang[lang] = diffs, effects
                details[(proto.name, inter, lang)] = (effects, diffs)
                change_rows.append([proto.name, inter, lang, _mean([g for _, g in gaps]), _mean([g for g, _ in gaps]),
                                    _mean(effects), *_ci_p(diffs, alpha), *_seed_cols(effects, alpha), len(units)])  # fmt: skip
            if len(diffs_by_lang) > 1:
                n_pairs = min(len(e) for e in effects_by_lang.values())
                effects = [_mean([e[i] for e in effects_by_lang.values()]) for i in range(n_pairs)]
                diffs = np.mean(np.stack(list(diffs_by_lang.values())), axis=0)
                details[(proto.name, inter, MEAN)] = (effects, diffs)
                rows = [r for r in change_rows if r[0] == proto.name and r[1] == inter and r[2] in diffs_by_lang]
                change_rows.append([proto.name, inter, MEAN, _mean([r[3] for r in rows]), _mean([r[4] for r in rows]),
                                    _mean(effects), *_ci_p(diffs, alpha), *_seed_cols(effects, alpha), n_pairs])  # fmt: skip
    return Robustness(
        pd.DataFrame(gap_rows, columns=GAP_COLS), pd.DataFrame(change_rows, columns=CHANGE_COLS),
        pd.DataFrame(domain_rows, columns=DOMAIN_COLS), notes,
        {p.name: sorted(p.targets) for p in protocols.values()}, details,
    )  # fmt: skip


def _ci_p(diffs: np.ndarray, alpha: float) -> tuple[float, float, float]:
    low, high = bootstrap_ci(diffs, alpha)
    return low, high, bootstrap_p(diffs)


def _seed_cols(effects: list[float], alpha: float) -> tuple[float, str]:
    """The seed test's p and what it says of the gap (widens, narrows or unclear over seeds)."""
    test = gap_change_over_seeds(effects, alpha=alpha)
    verdict = "widens" if test.favours else "narrows" if test.opposes else "unclear"
    return (test.p_value if test.p_value is not None else math.nan), verdict


def _num(value: Any, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.2f}" if sign else f"{value:.2f}"


def shift_cells(rob: Robustness) -> pd.DataFrame:
    """One row per protocol, intermediate task and language: scores, gap, and its change vs none with CI."""
    changes = rob.changes.set_index(["protocol", "intermediate", "language"]) if not rob.changes.empty else None
    rows = []
    for r in rob.gaps.itertuples(index=False):
        key = (r.protocol, r.intermediate, r.language)
        change = changes.loc[key] if changes is not None and key in changes.index else None
        rows.append({
            "protocol": r.protocol, "intermediate": r.intermediate, "language": r.language,
            "in-domain": _num(r.in_domain), "out-of-domain": _num(r.out_of_domain), "gap": _num(r.gap),
            "drop %": _num(100 * r.relative_drop if r.relative_drop is not None else math.nan),
            "worst domain": f"{r.worst_domain} {_num(r.worst_score)}" if r.worst_domain else "–",
            "gap change vs none [95% CI]": "–" if change is None else
            f"{_num(change['change'], True)} [{_num(change['ci_low'], True)}, {_num(change['ci_high'], True)}]",
            "p (boot)": "–" if change is None else _num(change["p_boot"]),
            "seeds": "–" if change is None else f"{change['seed_verdict']} (p {_num(change['seed_p'])}, {change['pairs']})",
        })  # fmt: skip
    return pd.DataFrame(rows)


def shift_notes(rob: Robustness) -> list[str]:
    return [
        "In-domain: test examples of a domain the target model was trained on; out-of-domain: all others, pooled "
        "(scored on the pooled examples, not averaged over domains). Gap = in - out; drop = gap / in.",
        "Gap change vs none: mean over seed pairs of (gap with the intermediate task - gap without); negative "
        "narrows the gap. 95% CI: paired bootstrap over test examples, stratified by domain, shared by all seeds. "
        "Seeds: t-test (3+ seeds) or sign test over the per-seed changes.",
        *rob.notes,
    ]


def to_json(rob: Robustness) -> dict[str, Any]:
    """The section's tables as plain records (NaN as None, for strict JSON)."""

    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                for row in frame.astype(object).to_dict(orient="records")]  # fmt: skip

    return {"gaps": records(rob.gaps), "changes": records(rob.changes), "domains": records(rob.domains), "notes": rob.notes}


def perturbation_curves(run_dir: Path | str, model: str | None = None) -> pd.DataFrame:
    """Score against noise rate for every perturbed evaluation: mean over seeds, per language and their mean.

    Rate 0 is the unperturbed score the run reports, so every curve starts from the task's own number.
    """
    run_dir = Path(run_dir)
    table = score_table(run_dir, model)
    points: dict[tuple[str, str, str, float, str], list[float]] = defaultdict(list)
    for row in table.runs.itertuples(index=False):
        raw = _read(run_dir / str(row.path) / RESULT_FILE)
        slices = (raw or {}).get("slices") or {}
        kinds = [k for k in slices if k.startswith(PERTURB_SLICE)]
        if not kinds:
            continue
        task = get_task(row.target)
        for kind in kinds:
            curve = {0.0: raw.get("metrics") or {}} | {float(rate): by_lang for rate, by_lang in slices[kind].items()}
            for rate, by_lang in curve.items():
                scores = {lang: language_score(task, m or {}) for lang, m in by_lang.items()}
                scores = {lang: v for lang, v in scores.items() if v is not None and not math.isnan(v)}
                for lang, value in scores.items():
                    points[(row.target, str(row.intermediate), kind[len(PERTURB_SLICE) :], rate, lang)].append(value)
                if len(scores) > 1:
                    points[(row.target, str(row.intermediate), kind[len(PERTURB_SLICE) :], rate, MEAN)].append(_mean(list(scores.values())))
    rows = [[*key, _mean(vals), len(vals)] for key, vals in sorted(points.items())]
    return pd.DataFrame(rows, columns=CURVE_COLS)


def curve_cells(curves: pd.DataFrame) -> pd.DataFrame:
    """Rows (target, intermediate, perturbation, language), one column per noise rate."""
    if curves.empty:
        return pd.DataFrame()
    wide = curves.pivot_table(index=["target", "intermediate", "kind", "language"], columns="rate", values="score")
    out = wide.reset_index()
    out.columns = [c if isinstance(c, str) else f"p={c:g}" for c in out.columns]
    for col in out.columns[4:]:
        out[col] = out[col].map(_num)
    return out.rename(columns={"kind": "perturbation"})
