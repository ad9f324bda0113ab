"""LogME, H-score, task similarity and the ranking check, on cases worked by hand and by brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from xstilts.report.transferability import (
    agreement,
    average_ranks,
    h_score,
    log_evidence,
    logme,
    spearman,
    task_similarity,
    top1_hit,
)

LOG_2PI = math.log(2 * math.pi)


# --------------------------------------------------------------------------------------------------- LogME
#
# Two examples, one feature f = (f1, f2): y ~ N(0, C) with C = I/beta + f f^T/alpha. C has eigenvalue
# 1/beta + |f|^2/alpha along u = f/|f| and 1/beta across it, so with p = u.y and q = u_perp.y
#     log p(y) = -log 2pi - 1/2 log(1/beta + |f|^2/alpha) - 1/2 log(1/beta) - p^2/(2(1/beta + |f|^2/alpha)) - q^2 beta/2,
# maximised (when p^2 > q^2) at 1/beta = q^2 and |f|^2/alpha = p^2 - q^2, where it is
#     -log 2pi - 1/2 log p^2 - 1/2 log q^2 - 1.


def closed_form(f: tuple[float, float], y: tuple[float, float]) -> tuple[float, float, float]:
    """(max log evidence, alpha, beta) for two examples with one feature, by the formula above."""
    norm2 = f[0] ** 2 + f[1] ** 2
    p = (f[0] * y[0] + f[1] * y[1]) / math.sqrt(norm2)
    q = (-f[1] * y[0] + f[0] * y[1]) / math.sqrt(norm2)
    assert p * p > q * q, "interior maximum only"
    return -LOG_2PI - 0.5 * math.log(p * p) - 0.5 * math.log(q * q) - 1, norm2 / (p * p - q * q), 1 / (q * q)


@pytest.mark.parametrize(("f", "y"), [((1.0, 1.0), (3.0, 1.0)), ((2.0, 1.0), (1.0, 1.0)), ((0.5, -2.0), (1.0, 3.0))])
def test_log_evidence_two_examples_one_feature_closed_form(f: tuple[float, float], y: tuple[float, float]) -> None:
    expected, alpha, beta = closed_form(f, y)
    (ev,) = log_evidence(np.array([[f[0]], [f[1]]]), np.array([[y[0]], [y[1]]]))
    assert ev.log_evidence == pytest.approx(expected, rel=1e-6)  # the reference code's epsilon nudges alpha a little
    assert ev.alpha == pytest.approx(alpha, rel=1e-4)
    assert ev.beta == pytest.approx(beta, rel=1e-4)


def test_logme_one_class_is_the_closed_form_per_example() -> None:
    # one class: its one-hot column is all ones; f = (2, 1) gives p^2 = 9/5, q^2 = 1/5
    expected = (-LOG_2PI - 0.5 * math.log(9 / 5) - 0.5 * math.log(1 / 5) - 1) / 2
    assert logme(np.array([[2.0], [1.0]]), np.array([0, 0])) == pytest.approx(expected, rel=1e-8)
    assert expected == pytest.approx((-LOG_2PI - math.log(3 / 5) - 1) / 2)


def test_logme_two_classes_two_examples_approaches_the_supremum() -> None:
    # f = (2, 1), labels (0, 1): class 0 has p^2 = 4/5 > q^2 = 1/5 (interior); class 1 has p^2 < q^2, where the
    # evidence grows as alpha -> inf towards -log 2pi - log(1/2) - 1 (weights switched off): approached from below
    class0 = -LOG_2PI - math.log(2 / 5) - 1
    class1_sup = -LOG_2PI - math.log(1 / 2) - 1
    value = logme(np.array([[2.0], [1.0]]), np.array([0, 1]))
    assert value < (class0 + class1_sup) / 4
    assert value == pytest.approx((class0 + class1_sup) / 4, abs=0.01)


def brute_log_evidence(f: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """log N(y; 0, I/beta + F F^T/alpha), straight from the definition (an n x n Gaussian)."""
    n = len(y)
    cov = np.eye(n) / beta + f @ f.T / alpha
    sign, logdet = np.linalg.slogdet(cov)
    assert sign > 0
    return float(-0.5 * (n * LOG_2PI + logdet + y @ np.linalg.solve(cov, y)))


@pytest.mark.parametrize(("n", "d"), [(40, 5), (6, 10)])
def test_logme_equals_brute_force_evidence_at_its_fixed_point(n: int, d: int) -> None:
    rng = np.random.default_rng(n + d)
    labels = np.arange(n) % 3
    f = rng.normal(size=(n, d)) + 2.0 * np.eye(3)[labels] @ rng.normal(size=(3, d))
    onehot = np.eye(3)[labels]
    evidences = log_evidence(f, onehot)
    brute = [brute_log_evidence(f, onehot[:, k], ev.alpha, ev.beta) for k, ev in enumerate(evidences)]
    for ev, at in zip(evidences, brute, strict=True):
        assert ev.log_evidence == pytest.approx(at, rel=1e-9, abs=1e-9)
    assert logme(f, labels) == pytest.approx(np.mean(brute) / n, rel=1e-9)


def test_the_fixed_point_is_a_maximum_of_the_brute_force_evidence() -> None:
    # more examples than features and informative features: every class has an interior maximum (with fewer
    # examples than features, or a class the features cannot explain, alpha or beta runs off to infinity)
    rng = np.random.default_rng(45)
    labels = np.arange(40) % 3
    f = rng.normal(size=(40, 5)) + 2.0 * np.eye(3)[labels] @ rng.normal(size=(3, 5))
    onehot = np.eye(3)[labels]
    for k, ev in enumerate(log_evidence(f, onehot)):
        at = brute_log_evidence(f, onehot[:, k], ev.alpha, ev.beta)
        for da, db in [(1.2, 1.0), (1 / 1.2, 1.0), (1.0, 1.2), (1.0, 1 / 1.2), (1.1, 1.1), (0.9, 0.9)]:
            assert brute_log_evidence(f, onehot[:, k], ev.alpha * da, ev.beta * db) < at


def test_informative_features_score_higher_than_noise() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 300)
    informative = np.eye(4)[labels] @ rng.normal(size=(4, 16)) + 0.5 * rng.normal(size=(300, 16))
    noise = rng.normal(size=(300, 16))
    assert logme(informative, labels) > logme(noise, labels)
    assert h_score(informative, labels) > 2.5 > 0.3 > h_score(noise, labels)


def test_labels_are_names_or_numbers_and_shapes_are_checked() -> None:
    f = np.random.default_rng(1).normal(size=(12, 3))
    names = np.array(["b", "a", "c"] * 4)
    codes = np.array([1, 0, 2] * 4)
    assert logme(f, names) == pytest.approx(logme(f, codes))
    assert h_score(f, names) == pytest.approx(h_score(f, codes))
    with pytest.raises(ValueError, match="one label per feature row"):
        logme(f, codes[:5])
    with pytest.raises(ValueError, match="finite"):
        h_score(np.full((3, 2), np.nan), np.array([0, 1, 0]))


# --------------------------------------------------------------------------------------------------- H-score


def test_h_score_two_classes_by_hand() -> None:
    # f = 0, 2 (class 0) and 4, 6 (class 1): var f = 20/3; the class means 1, 1, 5, 5 have var 16/3
    f = np.array([[0.0], [2.0], [4.0], [6.0]])
    y = np.array([0, 0, 1, 1])
    assert h_score(f, y) == pytest.approx((16 / 3) / (20 / 3))
    # a second feature (1, -1, -1, 1) is uncorrelated with the first and has class means 0: cov(f) is
    # diagonal (20/3, 4/3), cov(E[f|y]) is (16/3, 0), so the trace stays 0.8
    two = np.c_[f, [1.0, -1.0, -1.0, 1.0]]
    assert h_score(two, y) == pytest.approx(0.8)


def test_h_score_is_k_minus_1_for_separated_classes_and_invariant_to_linear_maps() -> None:
    means = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.repeat([0, 1, 2], 5)
    assert h_score(means[y], y) == pytest.approx(2.0)  # no variance within classes: all of it is explained
    rng = np.random.default_rng(3)
    f = rng.normal(size=(60, 4)) + np.eye(3, 4)[np.arange(60) % 3]
    mixed = f @ rng.normal(size=(4, 4)) + 7.0
    assert h_score(mixed, np.arange(60) % 3) == pytest.approx(h_score(f, np.arange(60) % 3), rel=1e-6)


# --------------------------------------------------------------------------------------------------- similarity


def test_task_similarity_is_the_cosine_of_mean_embeddings() -> None:
    a = np.array([[1.0, 0.0], [0.0, 1.0]])  # mean (0.5, 0.5)
    assert task_similarity(a, np.array([2.0, 2.0])) == pytest.approx(1.0)
    assert task_similarity(a, np.array([[1.0, -1.0]])) == pytest.approx(0.0)
    assert task_similarity(np.array([1.0, 0.0]), np.array([[1.0, 1.0], [1.0, -1.0]])) == pytest.approx(1.0)
    assert math.isnan(task_similarity(np.zeros(2), np.ones(2)))


# --------------------------------------------------------------------------------------------------- the check


def test_spearman_matches_scipy_with_ties() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        x, y = rng.integers(0, 4, 9), rng.normal(size=9)
        assert spearman(x, y) == pytest.approx(sps.spearmanr(x, y)[0])
    assert average_ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1.0], [2.0]))
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_top1_hit_and_agreement() -> None:
    measured = {"mnli": 2.0, "squad": 1.0, "qqp": -0.5}
    assert top1_hit({"mnli": 0.9, "squad": 0.1, "qqp": 0.0}, measured) is True
    assert top1_hit({"mnli": 0.1, "squad": 0.9}, measured) is False
    assert top1_hit({"squad": 0.9, "mnli": 0.1}, {"mnli": 1.0, "squad": 1.0}) is True  # a tie for best is a hit
    assert top1_hit({"ccg": 1.0}, measured) is None
    a = agreement("logme", {"mnli": 3.0, "squad": 2.0, "qqp": 1.0, "ccg": 9.0}, measured)  # ccg was not measured
    assert (a.n, a.rho, a.top1, a.predicted_best, a.measured_best) == (3, pytest.approx(1.0), True, "mnli", "mnli")
    b = agreement("similarity", {"mnli": math.nan, "squad": 2.0, "qqp": 1.0}, measured)
    assert (b.n, b.rho, b.top1, b.predicted_best) == (2, pytest.approx(1.0), True, "squad")
