"""Exact k nearest neighbours: the blockwise torch search against brute force, faiss against torch.

Why these checks: BUCC and Tatoeba numbers are only reproducible if the search is exact, and BUCC's
scale forbids the full similarity matrix; so the blockwise search is checked with blocks smaller than
the data, and checked never to build more than one block.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.formats.vectors import brute_topk, unit
from xstilts.config import ConfigError
from xstilts.formats import knn


@pytest.fixture
def vectors() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return unit(rng.standard_normal((103, 24))), unit(rng.standard_normal((91, 24)))


def test_knn_torch_blockwise_equals_brute_force(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    q, x = vectors
    sims, idx = knn.knn(q, x, 5, backend="torch", block_q=7, block_k=11)
    ref_sims, ref_idx = brute_topk(q, x, 5)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(sims, ref_sims, atol=1e-5)


def test_knn_both_ways_gives_the_backward_lists_too(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    q, x = vectors
    _, fi, bs, bi = knn.knn_both_ways(q, x, 4, backend="torch", block_q=10, block_k=13)
    np.testing.assert_array_equal(fi, brute_topk(q, x, 4)[1])
    np.testing.assert_array_equal(bi, brute_topk(x, q, 4)[1])
    np.testing.assert_allclose(bs, brute_topk(x, q, 4)[0], atol=1e-5)


def test_knn_clamps_k_to_the_number_of_keys(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    q, x = vectors
    _, idx = knn.knn(q, x[:3], 10, backend="torch", block_k=2)
    assert idx.shape == (len(q), 3)
    assert sorted(idx[0].tolist()) == [0, 1, 2]


def test_knn_never_builds_the_full_similarity_matrix(vectors: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    q, x = vectors
    seen: list[int] = []
    real_topk = torch.topk

    def spy(t: torch.Tensor, *args: object, **kwargs: object) -> object:
        seen.append(t.numel())
        return real_topk(t, *args, **kwargs)

    monkeypatch.setattr(torch, "topk", spy)
    knn.knn_torch(q, x, 4, block_q=8, block_k=16, both=True)
    assert seen and max(seen) <= 8 * 16 < len(q) * len(x)


@pytest.mark.skipif(not knn.faiss_available(), reason="faiss is not installed")
def test_knn_faiss_equals_torch(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    q, x = vectors
    np.testing.assert_array_equal(knn.knn(q, x, 4, backend="faiss")[1], knn.knn(q, x, 4, backend="torch")[1])


def test_faiss_backend_without_faiss_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(knn, "faiss_available", lambda: False)
    with pytest.raises(ConfigError, match="faiss is not installed"):
        knn.pick_backend("faiss")
    assert knn.pick_backend("auto") == "torch"


def test_nearest_without_keys_retrieves_nothing() -> None:
    got = knn.nearest(np.ones((3, 4), dtype=np.float32), np.zeros((0, 4), dtype=np.float32))
    assert got.tolist() == [-1, -1, -1]
