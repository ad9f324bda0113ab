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

from pathlib import Path
from typing import Any

import numpy as np

from xstilts.data.load import Split, load_split
from xstilts.formats.base import Units
from xstilts.paths import safe_child
from xstilts.report.xtreme import language_score
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task

TOLERANCE = 1e-4


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
    fmt = task.fmt
    examples = split.examples[:max_examples] if max_examples else split.examples
    return fmt.units(task, examples, path, lang)


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
            path = safe_child(run_path, rel, f"prediction file for {lang}")
            units = language_units(task, gold.get(task, lang, split, data_dir), path, lang, max_examples)
        except Exception as exc:  # any failure means "no per-example scores", reported with its reason
            raise ValueError(f"{lang}: {type(exc).__name__}: {exc}") from exc
        reported = language_score(task, raw["metrics"][lang])
        if reported is None or np.isnan(units.stats).any() or abs(units.score() - reported) > TOLERANCE * max(1.0, abs(reported)):
            raise ValueError(f"{lang}: re-scored {units.score():.4f} but the run reports {reported}")
        out[lang] = units
    if not out:
        raise ValueError("no scored language")
    return out
