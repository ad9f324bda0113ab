"""Paired bootstrap over test examples: every run is rescored on the *same* resamples.

For each (task, language, example set) one stream of resamples is drawn from a seed derived from
those names, so two runs on the same test set see identical resamples and their difference is a
paired statistic. Languages are resampled independently (stratified), as their examples are
different test sets; the task score of a resample is the mean over languages, as XTREME averages.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np

from xstilts.formats.base import Units


def stable_seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "little")


def resample_counts(rng: np.random.Generator, n: int, rows: int) -> np.ndarray:
    """How often each of ``n`` units is drawn, for ``rows`` resamples of size ``n`` (float for matmul)."""
    idx = rng.integers(0, n, size=(rows, n)) + (np.arange(rows) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=rows * n).reshape(rows, n).astype(float)


def bootstrap_task_scores(
    units: dict[str, tuple[str, dict[str, Units]]], samples: int = 1000, seed: int = 0, chunk: int = 200
) -> dict[str, np.ndarray]:
    """Task score of each run under ``samples`` shared resamples.

    Args:
        units: run id -> (task name, language -> units).
    Returns:
        run id -> array of shape ``(samples,)``.
    """
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for rid, (task, by_lang) in units.items():
        for lang, u in by_lang.items():
            digest = hashlib.sha256("\x1f".join(u.ids).encode()).hexdigest()
            groups[(task, lang, digest)].append(rid)
    per_lang: dict[str, list[np.ndarray]] = defaultdict(list)
    for (task, lang, digest), rids in groups.items():
        n = len(units[rids[0]][1][lang].ids)
        rng = np.random.default_rng([seed, stable_seed(task, lang, digest)])
        scores = {rid: np.empty(samples) for rid in rids}
        for start in range(0, samples, chunk):
            rows = min(chunk, samples - start)
            counts = resample_counts(rng, n, rows) if n else np.zeros((rows, 0))
            for rid in rids:
                scores[rid][start : start + rows] = units[rid][1][lang].resampled(counts) if n else np.nan
        for rid in rids:
            per_lang[rid].append(scores[rid])
    return {rid: np.mean(np.stack(arrays), axis=0) for rid, arrays in per_lang.items()}
