"""Per-example scores of a finished run, rebuilt from its prediction files and the gold data.

A paired bootstrap over test examples needs to know how each example contributed to a language's
score. Runs store only the aggregate, so the gold split is re-loaded (``load_split`` with the run's
own data root, split and example cap) and each prediction is scored again. The result is checked
against the run's reported number; any disagreement makes the run unusable for the bootstrap
rather than silently testing something else.

Two aggregation rules cover every metric in use:

- ``mean``: the language score is the mean of per-example scores (accuracy, QA's (EM+F1)/2,
  Tatoeba). Per-example values come from the format's own ``score`` on one example, so MLQA's or
  SQuAD's normalisation is whatever the format uses.
- ``f1``: the language score is 200·tp / (predicted + gold), summed over units (seqeval entity F1 per
  sentence for tagging; mined pairs per source sentence for BUCC), which is not a mean of per-unit F1s.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from xstilts.data.load import Split, load_split
from xstilts.data.schema import Example, ParallelCorpus, TaggingExample, has_gold
from xstilts.formats.base import get_format
from xstilts.report.xtreme import language_score
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task

TOLERANCE = 1e-4


@dataclass
class Units:
    """One language of one run: unit ids, their statistics and how they aggregate."""

    ids: tuple[str, ...]
    stats: np.ndarray  # (n, 1) for "mean", (n, 3) tp / predicted / gold for "f1"
    rule: Literal["mean", "f1"]

    def score(self) -> float:
        return float(self.resampled(np.ones((1, len(self.ids))))[0])

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        """Language score under each row of bootstrap counts (how often each unit was drawn)."""
        sums = counts @ self.stats
        if self.rule == "mean":
            return sums[:, 0] / counts.sum(axis=1)
        denom = sums[:, 1] + sums[:, 2]
        return np.divide(200.0 * sums[:, 0], denom, out=np.zeros(len(counts)), where=denom > 0)


def _mean_units(task: Task, fmt: Any, gold: list[Example], preds: dict[str, Any], lang: str) -> Units:
    values = [language_score(task, fmt.score([ex], preds, lang)) for ex in gold]
    stats = np.array([[v if v is not None else math.nan] for v in values], dtype=float)
    return Units(tuple(ex.id for ex in gold), stats, "mean")


def _tagging_units(path: Path, examples: list[TaggingExample]) -> Units:
    from seqeval.metrics.sequence_labeling import get_entities

    from xstilts.formats.tagging_metric import read_tag_predictions

    predicted = read_tag_predictions(path)
    if len(predicted) != len(examples):
        raise ValueError(f"{path}: {len(predicted)} sentences for {len(examples)} examples")
    rows, ids = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # bare POS tags: seqeval's reading is the intended one
        for ex, tags in zip(examples, predicted, strict=True):
            if ex.tags is None:
                continue
            true, pred = set(get_entities(list(ex.tags))), set(get_entities(tags))
            rows.append([len(true & pred), len(pred), len(true)])
            ids.append(ex.id)
    return Units(tuple(ids), np.array(rows, dtype=float).reshape(-1, 3), "f1")


def _retrieval_units(fmt: Any, path: Path, corpus: ParallelCorpus) -> Units:
    from xstilts.formats.retrieval import is_aligned

    partners: dict[str, set[str]] = {}
    for a, b in corpus.gold:
        partners.setdefault(a, set()).add(b)
    if is_aligned(corpus):  # Tatoeba: a hit per query
        preds = fmt.read_predictions(path, [corpus])
        ids = [s for s in corpus.src_ids if s in partners]
        stats = np.array([[100.0 * (preds.get(s) in partners[s])] for s in ids], dtype=float).reshape(-1, 1)
        return Units(tuple(ids), stats, "mean")
    pairs = {tuple(line.split("\t")[:2]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    gold = set(corpus.gold)
    per_src: dict[str, list[int]] = {s: [0, 0, 0] for s in dict.fromkeys(corpus.src_ids)}
    for s, t in pairs:
        row = per_src.setdefault(s, [0, 0, 0])
        row[0] += (s, t) in gold
        row[1] += 1
    for s, _ in gold:
        per_src.setdefault(s, [0, 0, 0])[2] += 1
    return Units(tuple(per_src), np.array(list(per_src.values()), dtype=float).reshape(-1, 3), "f1")


class GoldCache:
    """Loaded splits keyed by (task, language, split, data root), shared by all runs of a report."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str, str | None], Split] = {}

    def get(self, task: Task, lang: str, split: str, data_dir: str | None) -> Split:
        key = (task.name, lang, split, data_dir)
        if key not in self._cache:
            self._cache[key] = load_split(task, lang, split, data_dir)
        return self._cache[key]


def language_units(task: Task, split: Split, path: Path, lang: str, max_examples: int | None) -> Units:
    """Units of one language: re-read the prediction file against the gold examples."""
    fmt = get_format(task.format)
    if task.format == "retrieval":
        return _retrieval_units(fmt, path, split.examples[0])  # type: ignore[arg-type]
    examples = split.examples[:max_examples] if max_examples else split.examples
    if task.format == "tagging":
        return _tagging_units(path, examples)  # type: ignore[arg-type]
    preds = fmt.read_predictions(path, examples)
    return _mean_units(task, fmt, [ex for ex in examples if has_gold(ex)], preds, lang)


def run_units(raw: dict[str, Any], run_path: Path, gold: GoldCache) -> dict[str, Units]:
    """Units for every scored language of a run (a result JSON as a dict); raises ValueError with why not."""
    from xstilts.experiment.store import eval_split

    task = get_task(raw["task"])
    cfg = raw.get("config") or {}
    split = eval_split(raw) or task.eval_split
    data_dir = (cfg.get("data") or {}).get("data_dir")
    max_examples = (cfg.get("eval") or {}).get("max_examples")
    out: dict[str, Units] = {}
    for lang in task.scored_languages:
        if lang not in raw.get("metrics", {}):
            continue
        rel = (raw.get("predictions") or {}).get(lang)
        if rel is None:
            raise ValueError(f"no prediction file for {lang}")
        try:
            units = language_units(task, gold.get(task, lang, split, data_dir), run_path / rel, lang, max_examples)
        except Exception as exc:  # any failure means "no per-example scores", reported with its reason
            raise ValueError(f"{lang}: {type(exc).__name__}: {exc}") from exc
        reported = language_score(task, raw["metrics"][lang])
        if reported is None or np.isnan(units.stats).any() or abs(units.score() - reported) > TOLERANCE * max(1.0, abs(reported)):
            raise ValueError(f"{lang}: re-scored {units.score():.4f} but the run reports {reported}")
        out[lang] = units
    if not out:
        raise ValueError("no scored language")
    return out
