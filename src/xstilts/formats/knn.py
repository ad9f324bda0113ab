"""Exact k nearest neighbours by inner product (cosine on unit vectors), for BUCC and Tatoeba.

Both retrieval tasks reduce to this search, so it must be exact and fit in memory at BUCC's scale
(100k-400k sentences a side). faiss ``IndexFlatIP`` is used when the optional ``faiss`` package is
installed (faiss installs were a recurring pain, so it stays optional); otherwise a blockwise torch
search keeps a running top-k and never holds the full similarity matrix
(memory O(block_q * block_k + n * k)).

Example:
    >>> sims, idx = knn(queries, keys, k=4, backend="torch")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from xstilts.config import ConfigError

Backend = Literal["auto", "faiss", "torch"]


def faiss_available() -> bool:
    """Whether the optional faiss package imports; xstilts runs without it."""
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
    """Exact top-k with a flat inner-product index on the CPU (faiss's own exact search)."""
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


def nearest(queries: np.ndarray, keys: np.ndarray, backend: Backend = "auto", device: torch.device | str | None = None) -> np.ndarray:
    """Each query's nearest key by cosine (row index); -1 for every query when there are no keys."""
    if len(keys) == 0:
        return np.full(len(queries), -1, dtype=np.int64)
    return knn(queries, keys, 1, backend, device)[1][:, 0]
