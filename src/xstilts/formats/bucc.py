"""BUCC 2018 bitext mining and its metric: margin-scored one-to-one pairs, F1 at a dev-tuned threshold.

As PAPER.md describes it: L2-normalised vectors; k nearest neighbours in both directions; ratio margin
cos(x, y) / ((mean kNN sim of x + mean kNN sim of y) / 2); candidates from both directions, kept
one-to-one greedily by score; the threshold is the F1-optimal one on the gold pairs of the dev
(release ``sample``) split and is reused on test. Duplicate sentences are removed per side before
mining, and every mined pair is mapped back to all ids that share its texts (so a repeated sentence
can match gold under any of its ids).

Example:
    >>> pairs = mine_corpus(corpus, lambda texts: embed(texts, encoder, tokenizer), k=4)  # doctest: +SKIP
    >>> metrics, kept = bucc_metrics(dev_pairs, dev.gold, pairs, corpus.gold)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from xstilts.data.schema import ParallelCorpus
from xstilts.formats.knn import Backend, knn_both_ways
from xstilts.paths import atomic_write_text

#: (row in the xx matrix, row in the en matrix, margin score)
Mined = tuple[int, int, float]
#: (xx sentence id, en sentence id, margin score)
ScoredPair = tuple[str, str, float]


def dedup(texts: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    """Unique texts (first-seen order) and, for each, the positions of every sentence with that text."""
    where: dict[str, int] = {}
    groups: list[list[int]] = []
    for pos, text in enumerate(texts):
        u = where.setdefault(text, len(groups))
        if u == len(groups):
            groups.append([])
        groups[u].append(pos)
    return list(where), groups


def margin_candidates(
    fwd_sims: np.ndarray, fwd_idx: np.ndarray, bwd_sims: np.ndarray, bwd_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each x's best y and each y's best x by ratio margin, both directions together.

    margin(x, y) = cos(x, y) / ((mean kNN sim of x + mean kNN sim of y) / 2). The kNN means come from
    the same k-NN lists whose members are the candidates. Returns (src, tgt, score), possibly with a
    pair twice (found from both sides); :func:`greedy_one_to_one` drops the repeat.
    """
    mean_x, mean_y = fwd_sims.mean(axis=1), bwd_sims.mean(axis=1)
    fwd_score = fwd_sims / ((mean_x[:, None] + mean_y[fwd_idx]) / 2)
    bwd_score = bwd_sims / ((mean_y[:, None] + mean_x[bwd_idx]) / 2)
    rows_x, rows_y = np.arange(len(fwd_idx)), np.arange(len(bwd_idx))
    bx, by = fwd_score.argmax(axis=1), bwd_score.argmax(axis=1)
    src = np.concatenate([rows_x, bwd_idx[rows_y, by]])
    tgt = np.concatenate([fwd_idx[rows_x, bx], rows_y])
    score = np.concatenate([fwd_score[rows_x, bx], bwd_score[rows_y, by]])
    return src, tgt, score


def greedy_one_to_one(src: np.ndarray, tgt: np.ndarray, score: np.ndarray) -> list[Mined]:
    """Keep pairs by descending score while neither side is taken yet (ties: lower indices first)."""
    order = np.lexsort((tgt, src, -score))
    used_s: set[int] = set()
    used_t: set[int] = set()
    kept: list[Mined] = []
    for s, t, v in zip(src[order].tolist(), tgt[order].tolist(), score[order].tolist(), strict=True):
        if s in used_s or t in used_t:
            continue
        used_s.add(s)
        used_t.add(t)
        kept.append((s, t, v))
    return kept


def mine(
    src_vecs: np.ndarray, tgt_vecs: np.ndarray, k: int = 4, backend: Backend = "auto", device: torch.device | str | None = None, **blocks: int
) -> list[Mined]:
    """Margin-scored one-to-one candidate pairs (row indices into the two matrices), best first."""
    if len(src_vecs) == 0 or len(tgt_vecs) == 0:
        return []
    return greedy_one_to_one(*margin_candidates(*knn_both_ways(src_vecs, tgt_vecs, k, backend, device, **blocks)))


def expand_ids(
    mined: Sequence[Mined], src_groups: Sequence[Sequence[int]], tgt_groups: Sequence[Sequence[int]],
    src_ids: Sequence[str], tgt_ids: Sequence[str],
) -> list[ScoredPair]:
    """Mined pairs of unique texts as (xx-id, en-id, score): every id of each text, all combinations."""
    return [(src_ids[a], tgt_ids[b], v) for s, t, v in mined for a in src_groups[s] for b in tgt_groups[t]]


def prf(predicted: Iterable[tuple[str, str]], gold: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 (0-100) of a set of pairs against gold pairs."""
    pred, ref = set(predicted), set(gold)
    tp = len(pred & ref)
    p = 100.0 * tp / len(pred) if pred else 0.0
    r = 100.0 * tp / len(ref) if ref else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def select_threshold(scored: Sequence[ScoredPair], gold: Iterable[tuple[str, str]]) -> tuple[float, dict[str, float]]:
    """The score threshold (keep pairs with score >= it) that maximises F1 on gold, and that F1.

    Cuts fall only between distinct scores, so tied pairs stay together. With no correct pair at all
    the threshold is +inf (predict nothing).
    """
    ref = set(gold)
    if not ref:
        raise ValueError("no gold pairs to choose a threshold on")
    ranked = sorted(scored, key=lambda p: -p[2])
    best_t, best_f1, tp = math.inf, 0.0, 0
    for n, (s, t, v) in enumerate(ranked, start=1):
        tp += (s, t) in ref
        if n < len(ranked) and ranked[n][2] == v:
            continue  # a cut inside a tie is not a threshold
        f1 = 200.0 * tp / (n + len(ref))
        if f1 > best_f1:
            best_t, best_f1 = v, f1
    return best_t, prf([(s, t) for s, t, v in ranked if v >= best_t], ref)


def mine_corpus(
    corpus: ParallelCorpus, embed_side: Callable[[list[str]], np.ndarray], k: int, backend: Backend = "auto",
    device: torch.device | str | None = None,
) -> list[ScoredPair]:
    """Deduplicate, embed (once per unique text) and mine one BUCC corpus; id pairs with scores."""
    src_u, src_g = dedup(corpus.src)
    tgt_u, tgt_g = dedup(corpus.tgt)
    mined = mine(embed_side(src_u), embed_side(tgt_u), k, backend, device)
    return expand_ids(mined, src_g, tgt_g, corpus.src_ids, corpus.tgt_ids)


def bucc_metrics(dev: Sequence[ScoredPair], dev_gold: Iterable[tuple[str, str]], test: Sequence[ScoredPair],
                 test_gold: Iterable[tuple[str, str]]) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Threshold tuned on dev, applied to test: test P/R/F1, the threshold and dev F1; test pairs kept."""
    threshold, on_dev = select_threshold(dev, dev_gold)
    kept = [(s, t) for s, t, v in test if v >= threshold]
    metrics = prf(kept, test_gold)
    metrics.update(threshold=threshold, dev_f1=on_dev["f1"], n=float(len(set(test_gold))))
    return metrics, kept


def write_bucc_predictions(path: Path, pairs: Sequence[tuple[str, str]]) -> None:
    """One kept pair per line, ``<xx-id><TAB><en-id>``: the BUCC shared task's own layout."""
    atomic_write_text(path, "".join(f"{s}\t{t}\n" for s, t in pairs))
