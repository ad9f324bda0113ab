"""Sentence retrieval without training: pooled encoder vectors, exact k-NN, BUCC mining and Tatoeba.

BUCC and Tatoeba score the (intermediate-trained) encoder as it is (PAPER.md): mean or first-token
pooling of one configurable hidden layer, L2-normalised, then cosine nearest neighbours. Everything
a retrieval task needs lives here, in plain functions, so the evaluation recipe
(``xstilts.evaluate.retrieval_run``) only composes them.

The format is registered under ``retrieval`` so that ``get_format`` finds it for scoring and for
prediction files (``xstilts score``), but it has no head: its training hooks raise
``NotImplementedError("retrieval tasks are not trained")``, which is what a user who asks to train
on Tatoeba or BUCC should read, rather than a missing-module error.

Choices worth knowing, because retrieval numbers hinge on them:

* ``knn`` is exact (inner product on unit vectors = cosine). faiss ``IndexFlatIP`` is used when the
  optional ``faiss`` package is installed; otherwise a blockwise torch search keeps a running top-k
  and never holds the full similarity matrix (memory O(block_q * block_k + n * k)).
* BUCC mining removes duplicate sentences per side first and maps every mined pair back to all ids
  that share its texts (so a repeated sentence can match gold under any of its ids).
* Tatoeba counts a hit only when the retrieved line is the gold line, as XTREME does, even if the
  other side repeats a sentence verbatim.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from xstilts.config import ConfigError
from xstilts.data.schema import DataError, ParallelCorpus
from xstilts.formats.base import attention_mask, pad_sequences, register_format
from xstilts.paths import atomic_write_text

Backend = Literal["auto", "faiss", "torch"]
E5_PREFIX = "query: "
_E5_NAME = re.compile(r"(^|[^a-z0-9])e5([^a-z0-9]|$)")
EMBEDDED_MANIFEST = "xstilts-embedded.json"


# ---------------------------------------------------------------------------------------------------
# Prefixes and embeddings


def is_e5_model(names: Iterable[str], folder: str | Path | None = None) -> bool:
    """Whether the encoder is an e5 model, which expects a ``query: ``/``passage: `` prefix.

    The embedded model (name ``embedded``, or a folder carrying its manifest) is e5-small; any other
    model counts as e5 when one of its names has ``e5`` as a word (``intfloat/multilingual-e5-large``).
    """
    for name in names:
        low = str(name).lower()
        if low == "embedded" or _E5_NAME.search(low):
            return True
    return folder is not None and (Path(folder) / EMBEDDED_MANIFEST).is_file()


def resolve_prefix(prefix: str, names: Iterable[str], folder: str | Path | None = None) -> str:
    """The text put before every sentence, on both sides.

    ``auto``: ``query: `` for e5 models (e5's advice for symmetric tasks such as bitext retrieval,
    and the same on both sides so neither language is embedded differently), nothing otherwise.
    ``""`` turns prefixes off; any other string is used verbatim.
    """
    if prefix != "auto":
        return prefix
    return E5_PREFIX if is_e5_model(names, folder) else ""


def num_hidden_states(encoder: Any) -> int:
    """Embeddings plus one per layer: the length of ``output_hidden_states``."""
    return int(encoder.config.num_hidden_layers) + 1


def check_layer(layer: int, n_states: int) -> int:
    """``layer`` as a non-negative index into the hidden states, or a clear error."""
    if not -n_states <= layer < n_states:
        raise ConfigError(
            f"retrieval.layer={layer}: the encoder has {n_states - 1} layers, so a layer in "
            f"[{-n_states}, {n_states - 1}] (0 = embeddings, -1 = last)"
        )
    return layer % n_states


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """Mean over the attention mask (special tokens included, as jiant did) or the first token."""
    if pooling == "cls":
        return hidden[..., 0, :]
    if pooling != "mean":
        raise ConfigError(f"retrieval.pooling={pooling!r}: mean or cls")
    m = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * m).sum(-2) / m.sum(-2).clamp(min=1.0)


def embed(
    texts: Sequence[str],
    encoder: Any,
    tokenizer: Any,
    layer: int | Literal["all"] = -1,
    pooling: str = "mean",
    max_length: int = 128,
    batch_size: int = 64,
    prefix: str = "",
    device: torch.device | str | None = None,
    progress: Any = None,
    description: str = "embed",
) -> np.ndarray:
    """L2-normalised pooled vectors, float32: ``(n, d)``, or ``(layers + 1, n, d)`` for ``layer="all"``.

    ``"all"`` pools every hidden state of the same forward pass, so a layer sweep costs one pass.
    Batches are formed from length-sorted inputs (little padding) and the original order is restored.
    Runs in fp32 so that numbers do not depend on the card.
    """
    n_states = num_hidden_states(encoder)
    index = None if layer == "all" else check_layer(int(layer), n_states)
    device = torch.device(device) if device is not None else next(encoder.parameters()).device
    width = int(encoder.config.hidden_size)
    shape = (n_states, len(texts), width) if index is None else (len(texts), width)
    out = np.zeros(shape, dtype=np.float32)
    if not texts:
        return out
    ids = tokenizer([prefix + t for t in texts], truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    task_id = progress.add_task(description, total=len(order)) if progress is not None else None
    encoder.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            seqs = [ids[i] for i in rows]
            mask = attention_mask(seqs).to(device)
            hidden = encoder(input_ids=pad_sequences(seqs, pad_id).to(device), attention_mask=mask, output_hidden_states=True).hidden_states
            if index is None:
                vecs = pool(torch.stack(hidden), mask, pooling)  # (states, batch, d)
                out[:, rows] = torch.nn.functional.normalize(vecs.float(), dim=-1).cpu().numpy()
            else:
                vecs = pool(hidden[index], mask, pooling)
                out[rows] = torch.nn.functional.normalize(vecs.float(), dim=-1).cpu().numpy()
            if task_id is not None:
                progress.advance(task_id, len(rows))
    if task_id is not None:
        progress.remove_task(task_id)
    return out


# ---------------------------------------------------------------------------------------------------
# Exact k nearest neighbours


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def pick_backend(backend: Backend, device: torch.device | str | None = None) -> Literal["faiss", "torch"]:
    """``auto``: faiss (CPU) where installed, torch otherwise or when a GPU does the search."""
    if backend == "faiss" and not faiss_available():
        raise ConfigError("retrieval.backend=faiss: faiss is not installed (pip install 'xstilts[faiss]'), or use torch/auto")
    if backend == "auto":
        on_gpu = device is not None and torch.device(device).type != "cpu"
        return "faiss" if faiss_available() and not on_gpu else "torch"
    return backend


def _merge_topk(vals: torch.Tensor, idx: torch.Tensor, new_vals: torch.Tensor, new_idx: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    both_vals = torch.cat([vals, new_vals], dim=1)
    best, pos = torch.topk(both_vals, min(k, both_vals.shape[1]), dim=1)
    return best, torch.gather(torch.cat([idx, new_idx], dim=1), 1, pos)


def _as_tensor(x: np.ndarray | torch.Tensor, device: torch.device | str | None) -> torch.Tensor:
    t = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32)) if isinstance(x, np.ndarray) else x.float()
    return t.to(device) if device is not None else t


def knn_torch(
    queries: np.ndarray | torch.Tensor,
    keys: np.ndarray | torch.Tensor,
    k: int,
    block_q: int = 2048,
    block_k: int = 16384,
    device: torch.device | str | None = None,
    both: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact inner-product top-k by blocks of queries x blocks of keys, with a running top-k.

    Only one ``block_q x block_k`` similarity block (two with ``both``) exists at a time. With ``both=True`` the same
    blocks also give every key's top-k among the queries (the backward direction BUCC needs), at no
    extra matrix products: returns (fwd_sims, fwd_idx, bwd_sims, bwd_idx).
    """
    q, x = _as_tensor(queries, device), _as_tensor(keys, device)
    nq, nk = q.shape[0], x.shape[0]
    kf, kb = min(k, nk), min(k, nq)
    fwd_v = torch.full((nq, kf), -math.inf, device=q.device)
    fwd_i = torch.full((nq, kf), -1, dtype=torch.long, device=q.device)
    bwd_v = torch.full((nk, kb), -math.inf, device=q.device)
    bwd_i = torch.full((nk, kb), -1, dtype=torch.long, device=q.device)
    # two reused flat buffers: fresh 100 MB blocks per step cost page faults, and top-k along the
    # strided axis of a transposed view is several times slower than a copy plus a contiguous top-k
    cells = min(block_q, nq) * min(block_k, nk)
    buf = torch.empty(cells, device=q.device)
    buf_t = torch.empty(cells if both else 0, device=q.device)
    for qs in range(0, nq, block_q):
        qb = q[qs : qs + block_q]
        run_v, run_i = fwd_v[qs : qs + block_q], fwd_i[qs : qs + block_q]
        for ks in range(0, nk, block_k):
            kblock = x[ks : ks + block_k]
            rows, cols = qb.shape[0], kblock.shape[0]
            sims = torch.mm(qb, kblock.T, out=buf[: rows * cols].view(rows, cols))
            v, i = torch.topk(sims, min(kf, cols), dim=1)
            run_v, run_i = _merge_topk(run_v, run_i, v, i + ks, kf)
            if both:  # keys' best queries in this block
                sims_t = buf_t[: rows * cols].view(cols, rows).copy_(sims.T)
                vb, ib = torch.topk(sims_t, min(kb, rows), dim=1)
                sl = slice(ks, ks + cols)
                bwd_v[sl], bwd_i[sl] = _merge_topk(bwd_v[sl], bwd_i[sl], vb, ib + qs, kb)
        fwd_v[qs : qs + block_q], fwd_i[qs : qs + block_q] = run_v, run_i
    fwd = (fwd_v.cpu().numpy(), fwd_i.cpu().numpy())
    return (*fwd, bwd_v.cpu().numpy(), bwd_i.cpu().numpy()) if both else fwd


def knn_faiss(queries: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    index = faiss.IndexFlatIP(keys.shape[1])
    index.add(np.ascontiguousarray(keys, dtype=np.float32))
    sims, idx = index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, keys.shape[0]))
    return sims.astype(np.float32), idx.astype(np.int64)


def knn(
    queries: np.ndarray, keys: np.ndarray, k: int, backend: Backend = "auto", device: torch.device | str | None = None, **blocks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k keys per query by inner product (cosine on unit vectors), best first."""
    if pick_backend(backend, device) == "faiss":
        return knn_faiss(queries, keys, k)
    return knn_torch(queries, keys, k, device=device, **blocks)  # type: ignore[return-value]


def knn_both_ways(
    x: np.ndarray, y: np.ndarray, k: int, backend: Backend = "auto", device: torch.device | str | None = None, **blocks: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x's top-k in y and y's top-k in x: one blockwise pass with torch, two searches with faiss."""
    if pick_backend(backend, device) == "faiss":
        return (*knn_faiss(x, y, k), *knn_faiss(y, x, k))
    return knn_torch(x, y, k, device=device, both=True, **blocks)  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------
# BUCC mining


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


def greedy_one_to_one(src: np.ndarray, tgt: np.ndarray, score: np.ndarray) -> list[tuple[int, int, float]]:
    """Keep pairs by descending score while neither side is taken yet (ties: lower indices first)."""
    order = np.lexsort((tgt, src, -score))
    used_s: set[int] = set()
    used_t: set[int] = set()
    kept: list[tuple[int, int, float]] = []
    for s, t, v in zip(src[order].tolist(), tgt[order].tolist(), score[order].tolist(), strict=True):
        if s in used_s or t in used_t:
            continue
        used_s.add(s)
        used_t.add(t)
        kept.append((s, t, v))
    return kept


def mine(
    src_vecs: np.ndarray, tgt_vecs: np.ndarray, k: int = 4, backend: Backend = "auto", device: torch.device | str | None = None, **blocks: int
) -> list[tuple[int, int, float]]:
    """Margin-scored one-to-one candidate pairs (row indices into the two matrices), best first."""
    if len(src_vecs) == 0 or len(tgt_vecs) == 0:
        return []
    return greedy_one_to_one(*margin_candidates(*knn_both_ways(src_vecs, tgt_vecs, k, backend, device, **blocks)))


def expand_ids(
    mined: Sequence[tuple[int, int, float]], src_groups: Sequence[Sequence[int]], tgt_groups: Sequence[Sequence[int]],
    src_ids: Sequence[str], tgt_ids: Sequence[str],
) -> list[tuple[str, str, float]]:
    """Mined pairs of unique texts as (xx-id, en-id, score): every id of each text, all combinations."""
    return [(src_ids[a], tgt_ids[b], v) for s, t, v in mined for a in src_groups[s] for b in tgt_groups[t]]


def prf(predicted: Iterable[tuple[str, str]], gold: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 (0-100) of a set of pairs against gold pairs."""
    pred, ref = set(predicted), set(gold)
    tp = len(pred & ref)
    p = 100.0 * tp / len(pred) if pred else 0.0
    r = 100.0 * tp / len(ref) if ref else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def select_threshold(scored: Sequence[tuple[str, str, float]], gold: Iterable[tuple[str, str]]) -> tuple[float, dict[str, float]]:
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
) -> list[tuple[str, str, float]]:
    """Deduplicate, embed (once per unique text) and mine one BUCC corpus; id pairs with scores."""
    src_u, src_g = dedup(corpus.src)
    tgt_u, tgt_g = dedup(corpus.tgt)
    mined = mine(embed_side(src_u), embed_side(tgt_u), k, backend, device)
    return expand_ids(mined, src_g, tgt_g, corpus.src_ids, corpus.tgt_ids)


def bucc_metrics(dev: Sequence[tuple[str, str, float]], dev_gold: Iterable[tuple[str, str]], test: Sequence[tuple[str, str, float]],
                 test_gold: Iterable[tuple[str, str]]) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Threshold tuned on dev, applied to test: test P/R/F1, the threshold and dev F1; test pairs kept."""
    threshold, on_dev = select_threshold(dev, dev_gold)
    kept = [(s, t) for s, t, v in test if v >= threshold]
    metrics = prf(kept, test_gold)
    metrics.update(threshold=threshold, dev_f1=on_dev["f1"], n=float(len(set(test_gold))))
    return metrics, kept


# ---------------------------------------------------------------------------------------------------
# Tatoeba


def nearest(queries: np.ndarray, keys: np.ndarray, backend: Backend = "auto", device: torch.device | str | None = None) -> np.ndarray:
    """Each query's nearest key by cosine (row index)."""
    if len(keys) == 0:
        return np.full(len(queries), -1, dtype=np.int64)
    return knn(queries, keys, 1, backend, device)[1][:, 0]


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


# ---------------------------------------------------------------------------------------------------
# Prediction files and the registered format


def write_tatoeba_predictions(path: Path, retrieved: Sequence[int]) -> None:
    atomic_write_text(path, "".join(f"{int(i)}\n" for i in retrieved))


def write_bucc_predictions(path: Path, pairs: Sequence[tuple[str, str]]) -> None:
    atomic_write_text(path, "".join(f"{s}\t{t}\n" for s, t in pairs))


def as_corpus(examples: Sequence[Any], source: object = "retrieval split") -> ParallelCorpus:
    """A split's examples as one corpus: release readers give one, plain files one per row (merged)."""
    if not examples or not all(isinstance(ex, ParallelCorpus) for ex in examples):
        raise DataError(source, None, "parallel sentences (one corpus, or one pair per row)")
    if len(examples) == 1:
        return examples[0]
    out = ParallelCorpus([], [], [], [], [], src_lang=examples[0].src_lang, tgt_lang=examples[0].tgt_lang)
    for piece in examples:
        out.src_ids += piece.src_ids
        out.src += piece.src
        out.tgt_ids += piece.tgt_ids
        out.tgt += piece.tgt
        out.gold += piece.gold
    if len(set(out.src_ids)) != len(out.src_ids) or len(set(out.tgt_ids)) != len(out.tgt_ids):
        raise DataError(source, None, "unique sentence ids across the rows of a parallel file")
    return out


def is_aligned(corpus: ParallelCorpus) -> bool:
    """Tatoeba-like: every source sentence has a gold partner (else it is a mining corpus, BUCC)."""
    return bool(corpus.src_ids) and {a for a, _ in corpus.gold} >= set(corpus.src_ids)


class Retrieval:
    """The ``retrieval`` format: scoring and prediction files only; it is never trained."""

    name = "retrieval"
    prediction_suffix = ".txt"

    def _not_trained(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("retrieval tasks are not trained: evaluate them with `xstilts evaluate --task TASK`")

    head = label_list = featurize = collate = loss = outputs = decode = _not_trained

    def read_predictions(self, path: Path, examples: Sequence[ParallelCorpus]) -> dict[str, Any]:
        """Tatoeba lines (a retrieved target index) or BUCC lines (xx-id, en-id) as {xx-id: en-id}."""
        corpus = as_corpus(examples)
        preds: dict[str, str] = {}
        lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
        if is_aligned(corpus):
            if len(lines) != len(corpus.src_ids):
                raise DataError(path, len(lines) + 1, f"one retrieved index per source sentence ({len(corpus.src_ids)} lines)")
            for no, (sid, line) in enumerate(zip(corpus.src_ids, lines, strict=True), start=1):
                if not line.strip().isdigit() or int(line) >= len(corpus.tgt_ids):
                    raise DataError(path, no, f"a target line index in [0, {len(corpus.tgt_ids) - 1}]")
                preds[sid] = corpus.tgt_ids[int(line)]
            return preds
        for no, line in enumerate(lines, start=1):
            parts = line.split("\t")
            if len(parts) != 2:
                raise DataError(path, no, "<xx-id><TAB><en-id>")
            preds[parts[0]] = parts[1]
        return preds

    def score(self, examples: Sequence[ParallelCorpus], predictions: dict[str, Any], language: str) -> dict[str, float]:
        """Tatoeba: top-1 accuracy of {xx-id: en-id}; BUCC: P/R/F1 of the predicted pairs."""
        corpus = as_corpus(examples)
        if is_aligned(corpus):
            index = {t: i for i, t in enumerate(corpus.tgt_ids)}
            retrieved = [index.get(predictions.get(s, ""), -1) for s in corpus.src_ids]
            return {"accuracy": top1_accuracy(retrieved, corpus.src_ids, corpus.tgt_ids, corpus.gold), "n": float(len(corpus.src_ids))}
        return {**prf(predictions.items(), corpus.gold), "n": float(len(set(corpus.gold)))}

    def write_predictions(self, path: Path, examples: Sequence[ParallelCorpus], predictions: dict[str, Any]) -> None:
        corpus = as_corpus(examples)
        if is_aligned(corpus):
            index = {t: i for i, t in enumerate(corpus.tgt_ids)}
            write_tatoeba_predictions(path, [index.get(predictions.get(s, ""), -1) for s in corpus.src_ids])
        else:
            write_bucc_predictions(path, list(predictions.items()))


FORMAT = register_format(Retrieval())  # type: ignore[arg-type]
