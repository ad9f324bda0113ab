"""``xstilts rank``: intermediate tasks ordered by predicted benefit for a target, before it is trained.

A grid trains every intermediate encoder once and only then every target on each. Ranking the
intermediates for a target from cheap signals first tells which target phases are worth their cost:

- LogME and H-score (:mod:`xstilts.report.transferability`) of each intermediate encoder's frozen
  features on the target's English training units (:mod:`xstilts.evaluate.frozen_features`); the
  ``none`` row is the pretrained encoder, so a signal above ``none``'s predicts a gain;
- task similarity: the cosine of the intermediate task's and the target's mean text embeddings, both
  from the pretrained encoder (so it does not depend on the seed).

The encoders come from a run folder, found one of two ways:

- :func:`from_grid`: the grid (a preset or YAML, with the overrides it was run with) names its
  intermediate stages; those already done are read. This works before any target phase has run.
- :func:`from_runs`: a finished folder's own provenance. Each zero-shot run names its target run,
  which names the intermediate run it started from (a retrieval run names it directly).

:func:`check` compares the ranking with a finished grid's measured gains: per target, each
intermediate's task score minus ``none``'s, paired by seed and averaged (``xstilts report``'s deltas).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from xstilts.config import ConfigError, RunConfig, build_config, merge, phase_config
from xstilts.data.schema import DataError
from xstilts.evaluate.frozen_features import (
    NoProbe,
    Pooling,
    Probe,
    TaskData,
    load_frozen,
    probe,
    text_embedding,
    training_examples,
    unit_of,
)
from xstilts.experiment import store, transfer
from xstilts.experiment.grid import GridSpec, plan, target_config
from xstilts.models.encoder import resolve_model_path
from xstilts.paths import safe_name
from xstilts.report.matrix import candidates, transfer_matrix
from xstilts.report.runs import score_table
from xstilts.report.transferability import Agreement, agreement, h_score, logme, task_similarity
from xstilts.runs import NO_INTERMEDIATE, read_result, run_encoder_path
from xstilts.runtime.hardware import pick_device
from xstilts.tasks.registry import get_task

SIGNALS = ("logme", "h_score", "similarity")
#: the draw of target examples (and of units beyond the cap) is the same for every encoder and every call
SAMPLE_SEED = 0


@dataclass
class Encoder:
    """One intermediate encoder: a finished intermediate run of one seed."""

    intermediate: str
    seed: int
    run_dir: Path


@dataclass
class Sources:
    """What a ranking reads: the target phase's config (data, lengths, model) and the encoders found."""

    cfg: RunConfig
    encoders: list[Encoder]
    notes: list[str] = field(default_factory=list)


def from_grid(spec: GridSpec, run_dir: Path, target: str, overrides: dict[str, Any] | None = None) -> Sources:
    """The grid's intermediate stages that are done in ``run_dir``; the others are named in the notes."""
    overrides = overrides or {}
    encoders, notes = [], []
    for stage in plan(spec, run_dir, overrides):
        if stage.phase != "intermediate":
            continue
        if stage.status == "done" and stage.run_id:
            encoders.append(Encoder(stage.intermediate, stage.seed, Path(run_dir) / stage.run_id))
        else:
            notes.append(f"{stage.intermediate} seed {stage.seed}: intermediate stage not done in {run_dir}, left out")
    return Sources(target_config(spec, target, spec.seeds[0], overrides), encoders, notes)


def from_runs(run_dir: Path, target: str, user: dict[str, Any], model: str | None = None) -> Sources:
    """Intermediate encoders named by the provenance of a folder's scored runs (one model's).

    The target's config (lengths, data) is the one its newest zero-shot run resolved, so the probe
    sees what its target phase saw; with no such run, the target's defaults. ``user`` overrides either.
    """
    meta = store.runs(run_dir)
    meta = meta[meta["kind"].isin(["transfer", "retrieval"])]
    if meta.empty:
        raise ConfigError(f"{run_dir}: no zero-shot or retrieval runs to find intermediate encoders by; "
                          "name the grid with --preset to read its intermediate stages")  # fmt: skip
    model = model or str(meta["model"].value_counts().idxmax())
    meta = meta[meta["model"] == model]
    found: dict[tuple[str, int], Path] = {}
    for row in meta.itertuples(index=False):
        if row.intermediate in (None, NO_INTERMEDIATE) or (row.intermediate, int(row.seed)) in found:
            continue
        parent = read_result(Path(run_dir) / safe_name(row.path, "run folder")).parent
        if row.kind == "transfer" and parent:  # zero-shot -> target training -> intermediate training
            parent = read_result(Path(run_dir) / safe_name(parent["run_id"], "run id")).parent
        if parent:
            found[(row.intermediate, int(row.seed))] = Path(run_dir) / safe_name(parent["run_id"], "run id")
    encoders = [Encoder(inter, seed, path) for (inter, seed), path in sorted(found.items())]
    own = meta[(meta["task"] == target) & (meta["kind"] == "transfer")].sort_values("created")
    if len(own):
        resolved = read_result(Path(run_dir) / safe_name(own.iloc[-1]["path"], "run folder")).config
        return Sources(build_config(resolved, user), encoders)
    tree = merge({"model": {"name": model}}, user)
    data_dirs = meta["data_dir"].dropna()
    if len(data_dirs) and not (tree.get("data") or {}).get("data_dir"):
        tree = merge(tree, {"data": {"data_dir": str(data_dirs.value_counts().idxmax())}})
    note = f"no zero-shot run of {target} in {run_dir}: its English data is read with the task's default config"
    return Sources(phase_config(get_task(target).defaults, tree), encoders, [note])


# ---------------------------------------------------------------------------------------------------
# Scoring every encoder


@dataclass
class Row:
    """One intermediate task's signals: LogME and H-score averaged over its seeds' encoders."""

    intermediate: str
    seeds: list[int]
    logme: float
    h_score: float
    similarity: float
    by_seed: dict[int, dict[str, float]] = field(default_factory=dict)
    measured_gain: float | None = None

    def signal(self, name: str) -> float:
        return float(getattr(self, name))


@dataclass
class Ranking:
    """The rows in predicted order (LogME first), the pretrained baseline, and what was probed."""

    target: str
    train_task: str
    unit: str
    examples: int
    units: int
    classes: int
    pooling: str
    baseline: Row
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    check_dir: str | None = None
    agreement: list[Agreement] = field(default_factory=list)

    def order(self, signal: str) -> list[str]:
        scored = [r for r in self.rows if not math.isnan(r.signal(signal))]
        return [r.intermediate for r in sorted(scored, key=lambda r: -r.signal(signal))]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["order"] = {s: self.order(s) for s in SIGNALS}
        out["agreement"] = [asdict(a) for a in self.agreement]
        return out


def _scores(p: Probe) -> dict[str, float]:
    if len(set(p.labels.tolist())) < 2:
        return {"logme": math.nan, "h_score": math.nan}
    return {"logme": logme(p.features, p.labels), "h_score": h_score(p.features, p.labels)}


def intermediate_data(encoder: Encoder, max_examples: int | None) -> list[TaskData]:
    """The English training examples the intermediate run trained on, as its result records them."""
    result = read_result(encoder.run_dir)
    data = result.config.get("data") or {}
    train = result.config.get("train") or {}
    tasks = [get_task(name) for name in result.task.split("+")]
    per_task = max(1, max_examples // len(tasks)) if max_examples else None
    return [training_examples(task, data.get("data_dir"), data.get("train_split"), data.get("train_language", "en"),
                              per_task, SAMPLE_SEED, int(train.get("max_length", 256)), int(train.get("doc_stride", 128)),
                              str(train.get("tokenize_words", "xtreme")))
            for task in tasks]  # fmt: skip


def rank(
    target: str,
    sources: Sources,
    max_examples: int | None = 1000,
    seeds: Sequence[int] | None = None,
    pooling: Pooling = "first",
    progress: Any = None,
) -> Ranking:
    """Every intermediate's signals for ``target``, from ``max_examples`` English training examples."""
    task = get_task(target)
    cfg = sources.cfg
    if not transfer.is_trained(target):
        raise NoProbe(f"{target} is a {task.format} task: it trains no head on English data, so there are no labels to probe; "
                      "a grid scores retrieval targets on the intermediate encoders directly")  # fmt: skip
    train_task = get_task(transfer.target_training_task(target, cfg))
    unit = unit_of(train_task)
    encoders = [e for e in sources.encoders if seeds is None or e.seed in seeds]
    if not encoders:
        raise ConfigError(f"no finished intermediate encoders to rank for {target}" + (f" (seeds {', '.join(map(str, seeds))})" if seeds else ""))
    data = training_examples(train_task, cfg.data.data_dir, cfg.data.train_split, cfg.data.train_language, max_examples,
                             SAMPLE_SEED, cfg.train.max_length, cfg.train.doc_stride, cfg.train.tokenize_words)  # fmt: skip
    device = pick_device(cfg.train.device)
    bar = progress.add_task(f"rank {target}", total=len(encoders) + 1) if progress is not None else None

    remote = cfg.model.trust_remote_code
    pretrained = load_frozen(resolve_model_path(cfg.model.name), device, cfg.eval.batch_size, cfg.model.revision, remote)
    base_probe = probe(data, pretrained, pooling, seed=SAMPLE_SEED)
    target_vec = text_embedding([data], pretrained)
    baseline = Row(NO_INTERMEDIATE, [], similarity=math.nan, **_scores(base_probe))
    if bar is not None:
        progress.advance(bar)

    rows, notes = [], list(sources.notes)
    for name in dict.fromkeys(e.intermediate for e in encoders):
        mine = sorted((e for e in encoders if e.intermediate == name), key=lambda e: e.seed)
        by_seed = {}
        for enc in mine:
            frozen = load_frozen(str(run_encoder_path(enc.run_dir)), device, cfg.eval.batch_size, None, remote)
            by_seed[enc.seed] = _scores(probe(data, frozen, pooling, seed=SAMPLE_SEED))
            if bar is not None:
                progress.advance(bar)
        try:
            similarity = task_similarity(text_embedding(intermediate_data(mine[0], max_examples), pretrained), target_vec)
        except (DataError, OSError) as err:  # its training data is not here (a hub task offline): the other signals stand
            similarity = math.nan
            notes.append(f"{name}: no task similarity, its training data did not load ({err})")
        mean = {k: float(sum(s[k] for s in by_seed.values()) / len(by_seed)) for k in ("logme", "h_score")}
        rows.append(Row(name, [e.seed for e in mine], mean["logme"], mean["h_score"], similarity, by_seed))
    rows.sort(key=lambda r: (-r.logme if not math.isnan(r.logme) else math.inf, r.intermediate))
    if len(set(base_probe.labels.tolist())) < 2:
        notes.append(f"the {len(data.examples)} examples give units of one class only: LogME and H-score are undefined")
    return Ranking(target, train_task.name, unit, len(data.examples), len(base_probe.labels), len(set(base_probe.labels.tolist())),
                   pooling, baseline, rows, notes)  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Against a finished grid


def measured_gains(run_dir: Path, target: str, model: str | None = None) -> dict[str, float]:
    """Each intermediate's task score minus ``none``'s on ``target``, paired by seed and averaged."""
    matrix = transfer_matrix(score_table(run_dir, model).runs)
    rows = candidates(matrix[matrix["target"] == target])
    gains = {str(r.intermediate): float(r.delta_mean) for r in rows.itertuples(index=False) if not pd.isna(r.delta_mean)}
    if not gains:
        raise ConfigError(f"{run_dir}: no finished {target} runs with and without an intermediate task to measure gains by")
    return gains


def check(ranking: Ranking, run_dir: Path, gains: dict[str, float]) -> Ranking:
    """The ranking with each row's measured gain (:func:`measured_gains`) and every signal's rho and top-1 hit."""
    for row in ranking.rows:
        row.measured_gain = gains.get(row.intermediate)
    ranking.check_dir = str(run_dir)
    ranking.agreement = [agreement(s, {r.intermediate: r.signal(s) for r in ranking.rows}, gains) for s in SIGNALS]
    missing = sorted(set(gains) - {r.intermediate for r in ranking.rows})
    if missing:
        ranking.notes.append(f"measured but not ranked (no encoder found): {', '.join(missing)}")
    return ranking


def ranking_frame(ranking: Ranking) -> pd.DataFrame:
    """The table ``xstilts rank`` prints: signals, their change vs ``none``, and measured gains if checked."""
    base = ranking.baseline
    rows = []
    for r in [*ranking.rows, base]:
        is_base = r is base
        row = {
            "intermediate": r.intermediate + (" (pretrained)" if is_base else ""),
            "seeds": ",".join(map(str, r.seeds)),
            "LogME": _num(r.logme),
            "LogME vs none": "" if is_base else _num(r.logme - base.logme, "+"),
            "H-score": _num(r.h_score),
            "H vs none": "" if is_base else _num(r.h_score - base.h_score, "+"),
            "similarity": _num(r.similarity),
        }
        if ranking.check_dir is not None:
            row["measured gain"] = "" if r.measured_gain is None else _num(r.measured_gain, "+", 2)
        rows.append(row)
    return pd.DataFrame(rows)


def _num(value: float, sign: str = "", digits: int = 4) -> str:
    """Signals differ in the third decimal (similarities near 1), so four decimals; NaN is blank."""
    return "" if math.isnan(value) else f"{value:{sign}.{digits}f}"


def agreement_lines(ranking: Ranking) -> list[str]:
    out = []
    for a in ranking.agreement:
        rho = "n/a" if math.isnan(a.rho) else f"{a.rho:+.2f}"
        hit = {True: "hit", False: "miss", None: "n/a"}[a.top1]
        out.append(f"{a.signal}: Spearman rho {rho} over {a.n} intermediate(s); top-1 {hit} "
                   f"(predicted {a.predicted_best}, measured best {a.measured_best})")  # fmt: skip
    return out
