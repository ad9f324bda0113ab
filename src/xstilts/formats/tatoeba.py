"""Tatoeba and its metric: each sentence retrieves its nearest neighbour on the other side; top-1 accuracy.

A hit counts only when the retrieved line is the gold line, as XTREME does, even if the other side
repeats a sentence verbatim. xx -> en is XTREME's number (``accuracy``); en -> xx is reported beside
it (``accuracy_en_xx``) because the two directions can differ a lot for low-resource languages.

Example:
    >>> metrics, retrieved = tatoeba_metrics(xx_vecs, en_vecs, corpus)  # doctest: +SKIP
    >>> metrics["accuracy"]  # doctest: +SKIP
    93.1
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from xstilts.data.schema import ParallelCorpus
from xstilts.formats.knn import Backend, nearest
from xstilts.paths import atomic_write_text


def top1_accuracy(retrieved: Sequence[int], query_ids: Sequence[str], key_ids: Sequence[str], gold: Iterable[tuple[str, str]]) -> float:
    """Share (0-100) of queries whose retrieved key is a gold partner; queries without gold are skipped."""
    partners: dict[str, set[str]] = {}
    for a, b in gold:
        partners.setdefault(a, set()).add(b)
    scored = [(q, key_ids[r] if r >= 0 else None) for q, r in zip(query_ids, retrieved, strict=True) if q in partners]
    return 100.0 * sum(r in partners[q] for q, r in scored) / len(scored) if scored else math.nan


def tatoeba_metrics(src_vecs: np.ndarray, tgt_vecs: np.ndarray, corpus: ParallelCorpus, backend: Backend = "auto",
                    device: torch.device | str | None = None) -> tuple[dict[str, float], np.ndarray]:
    """Top-1 accuracy xx->en (``accuracy``, the XTREME number) and en->xx; the xx->en retrieved lines."""
    fwd = nearest(src_vecs, tgt_vecs, backend, device)
    bwd = nearest(tgt_vecs, src_vecs, backend, device)
    acc = top1_accuracy(fwd, corpus.src_ids, corpus.tgt_ids, corpus.gold)
    back = top1_accuracy(bwd, corpus.tgt_ids, corpus.src_ids, [(b, a) for a, b in corpus.gold])
    return {"accuracy": acc, "accuracy_en_xx": back, "n": float(len(corpus.src))}, fwd


def write_tatoeba_predictions(path: Path, retrieved: Sequence[int]) -> None:
    """One retrieved en line index per xx sentence, in order: XTREME's submission layout."""
    atomic_write_text(path, "".join(f"{int(i)}\n" for i in retrieved))
