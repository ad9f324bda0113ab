"""BUCC mining and its metric: ratio margin, one-to-one selection, duplicates, the dev-tuned threshold.

Why these checks: BUCC numbers hinge on small details (margin vs cosine, ties at the threshold,
duplicate sentences), so each piece is checked on a case whose answer is known by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.formats.vectors import lists_from, unit
from xstilts.formats import bucc


def test_margin_prefers_a_non_hub_neighbour_by_hand() -> None:
    # y0 is a hub (close to x0 and x1), so by margin x0 pairs with y1 although cos(x0, y0) is higher
    sims = np.array([[0.9, 0.85], [0.88, 0.5], [0.2, 0.3]], dtype=np.float32)
    src, tgt, score = bucc.margin_candidates(*lists_from(sims, 2))
    # kNN means: x = .875, .69, .25; y = (.9 + .88) / 2 = .89, (.85 + .5) / 2 = .675
    expected = {
        (0, 1): 0.85 / ((0.875 + 0.675) / 2),
        (1, 0): 0.88 / ((0.69 + 0.89) / 2),
        (2, 1): 0.3 / ((0.25 + 0.675) / 2),
    }
    got = {(int(s), int(t)): float(v) for s, t, v in zip(src, tgt, score, strict=True)}
    assert got.keys() == expected.keys()
    for pair, value in expected.items():
        assert got[pair] == pytest.approx(value, rel=1e-5)
    kept = bucc.greedy_one_to_one(src, tgt, score)
    assert [(s, t) for s, t, _ in kept] == [(1, 0), (0, 1)]  # x2 loses y1 to x0


def test_greedy_one_to_one_by_descending_score() -> None:
    src, tgt = np.array([0, 0, 1, 2]), np.array([0, 1, 0, 1])
    kept = bucc.greedy_one_to_one(src, tgt, np.array([0.9, 0.8, 0.85, 0.7]))
    assert [(s, t) for s, t, _ in kept] == [(0, 0), (2, 1)]
    assert [v for _, _, v in kept] == pytest.approx([0.9, 0.7])


def test_dedup_maps_every_id_back() -> None:
    texts, groups = bucc.dedup(["a", "b", "a", "c", "b"])
    assert texts == ["a", "b", "c"]
    assert groups == [[0, 2], [1, 4], [3]]
    pairs = bucc.expand_ids([(0, 1, 1.5)], groups, [[0], [1, 2]], ["s0", "s1", "s2", "s3", "s4"], ["t0", "t1", "t2"])
    assert sorted(pairs) == [("s0", "t1", 1.5), ("s0", "t2", 1.5), ("s2", "t1", 1.5), ("s2", "t2", 1.5)]


def test_threshold_maximises_f1_by_hand() -> None:
    scored = [("s1", "t1", 2.0), ("s2", "t2", 1.8), ("s3", "t3", 1.5), ("s4", "t4", 1.2), ("s5", "t5", 1.0), ("s6", "t6", 0.5)]
    gold = [("s1", "t1"), ("s3", "t3"), ("s4", "t4"), ("s7", "t7")]
    # cut after n pairs: F1 = 2 tp / (n + 4) -> .4, .33, .57, .75, .67, .6
    threshold, m = bucc.select_threshold(scored, gold)
    assert threshold == 1.2
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((75.0, 75.0, 75.0))


def test_threshold_never_splits_tied_scores() -> None:
    scored = [("s1", "t1", 2.0), ("s2", "t2", 1.8), ("s3", "t3", 1.5), ("s4", "t4", 1.2), ("s5", "t5", 1.2)]
    gold = [("s1", "t1"), ("s3", "t3"), ("s4", "t4"), ("s7", "t7")]
    threshold, m = bucc.select_threshold(scored, gold)
    assert threshold == 1.2  # 3 of 5 kept pairs right: 6 / 9 beats 4 / 7 at 1.5
    assert m["f1"] == pytest.approx(200 * 3 / 9)
    assert bucc.select_threshold([("a", "b", 1.0)], [("c", "d")])[0] == float("inf")


def test_bucc_metrics_reuse_the_dev_threshold_on_test() -> None:
    dev = [("a", "x", 3.0), ("b", "y", 2.0), ("c", "z", 1.0)]
    test = [("p", "q", 2.5), ("r", "s", 1.9), ("t", "u", 0.9)]
    m, kept = bucc.bucc_metrics(dev, [("a", "x"), ("b", "y")], test, [("p", "q"), ("t", "u")])
    assert m["threshold"] == 2.0 and m["dev_f1"] == pytest.approx(100.0)
    assert kept == [("p", "q")]
    assert (m["precision"], m["recall"]) == pytest.approx((100.0, 50.0))


def test_mine_finds_planted_pairs_among_noise() -> None:
    rng = np.random.default_rng(1)
    y = unit(rng.standard_normal((60, 32)))
    x = np.concatenate([unit(y[:20] + 0.05 * rng.standard_normal((20, 32))), unit(rng.standard_normal((30, 32)))])
    mined = bucc.mine(x, y, k=4, backend="torch", block_q=16, block_k=16)
    top = {(s, t) for s, t, _ in mined[:20]}
    assert top == {(i, i) for i in range(20)}
