"""Unit vectors and brute-force neighbour lists with answers known by construction, for the retrieval tests."""

from __future__ import annotations

import numpy as np


def unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=-1, keepdims=True)).astype(np.float32)


def brute_topk(q: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = q @ x.T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, idx, 1), idx


def lists_from(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """k-NN lists in both directions straight from a similarity matrix (for hand examples)."""
    fi = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    bi = np.argsort(-sims.T, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, fi, 1), fi, np.take_along_axis(sims.T, bi, 1), bi
