"""Transferability estimators: which intermediate encoder should help a target, before training it.

Each estimator scores frozen features of the target's English training units under the target's
labels; a higher score predicts a better fine-tuned target model. All are plain numpy, so they are
checked against hand-worked cases without a model.

- :func:`logme`: You et al., 2021, "LogME: Practical Assessment of Pre-trained Models for Transfer
  Learning". A Bayesian linear model ``y = F w + noise`` with prior ``w ~ N(0, 1/alpha)`` and noise
  ``N(0, 1/beta)``; alpha and beta maximise the evidence ``p(y | F)`` by MacKay's fixed-point
  iteration on the SVD of ``F``. A classification target is one-hot coded; the score is the log
  evidence per example, averaged over the classes.
- :func:`h_score`: Bao et al., 2019, "An information-theoretic approach to transferability in task
  transfer learning". ``H = tr(cov(f)^-1 cov(E[f|y]))``: how much of the features' variance the class
  means explain, in [0, K-1] for K classes.
- :func:`task_similarity`: cosine of two tasks' mean text embeddings.

:func:`spearman` and :func:`top1_hit` score a predicted ranking against measured gains.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> good = np.c_[y + 0.1 * rng.normal(size=200), rng.normal(size=200)]
    >>> logme(good, y) > logme(rng.normal(size=(200, 2)), y)
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

#: the reference implementation's guard against a zero residual or a zero weight vector
EPSILON = 1e-5
#: fixed-point iteration: stop when alpha/beta changes by less than this (relative), or after MAX_ITER
TOLERANCE = 1e-10
MAX_ITER = 1000


@dataclass(frozen=True)
class Evidence:
    """One target column's maximised log evidence (total, not per example) and where it was reached."""

    log_evidence: float
    alpha: float
    beta: float
    iterations: int


def _as_features(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) == 0:
        raise ValueError(f"features as an (examples, dims) matrix with at least one row, got shape {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError("features must be finite")
    return f


def _class_codes(labels: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n,):
        raise ValueError(f"one label per feature row ({n}), got shape {y.shape}")
    return np.unique(y, return_inverse=True)[1]


def _fixed_point(sigma2: np.ndarray, z2: np.ndarray, y2: float, n: int, d: int) -> Evidence:
    """MacKay's updates in the SVD basis: each step is O(rank), however many examples there are.

    ``sigma2`` are the squared singular values of F, ``z2`` the squared coordinates of y on the left
    singular vectors, ``y2`` the squared norm of y. The residual outside F's column space is
    ``y2 - sum(z2)``: no weight vector can fit it.
    """
    outside = max(y2 - float(z2.sum()), 0.0)
    alpha, beta, iterations = 1.0, 1.0, 0
    while iterations < MAX_ITER:
        iterations += 1
        denom = alpha + beta * sigma2
        gamma = float((beta * sigma2 / denom).sum())
        m2 = float((beta**2 * sigma2 * z2 / denom**2).sum())  # |m|^2, m = beta A^-1 F^T y
        res = float((alpha**2 * z2 / denom**2).sum()) + outside  # |y - F m|^2
        new_alpha = gamma / (m2 + EPSILON)
        new_beta = (n - gamma) / (res + EPSILON)
        done = abs(new_alpha / new_beta - alpha / beta) <= TOLERANCE * (alpha / beta)
        alpha, beta = new_alpha, new_beta
        if done:
            break
    denom = alpha + beta * sigma2
    m2 = float((beta**2 * sigma2 * z2 / denom**2).sum())
    res = float((alpha**2 * z2 / denom**2).sum()) + outside
    log_det = float(np.log(denom).sum()) + (d - len(sigma2)) * math.log(alpha)  # log|alpha I + beta F^T F|
    evidence = (d / 2 * math.log(alpha) + n / 2 * math.log(beta) - 0.5 * log_det
                - beta / 2 * res - alpha / 2 * m2 - n / 2 * math.log(2 * math.pi))  # fmt: skip
    return Evidence(evidence, alpha, beta, iterations)


def log_evidence(features: np.ndarray, targets: np.ndarray) -> list[Evidence]:
    """Maximised evidence of the linear model for each column of ``targets`` (n, k), sharing one SVD."""
    f = _as_features(features)
    y = np.asarray(targets, dtype=np.float64).reshape(len(f), -1)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    z = u.T @ y
    n, d = f.shape
    return [_fixed_point(s**2, z[:, k] ** 2, float(y[:, k] @ y[:, k]), n, d) for k in range(y.shape[1])]


def logme(features: np.ndarray, labels: np.ndarray) -> float:
    """LogME of features for class labels: mean over classes of the one-hot log evidence per example."""
    f = _as_features(features)
    codes = _class_codes(labels, len(f))
    onehot = np.eye(int(codes.max()) + 1)[codes]
    return float(np.mean([e.log_evidence for e in log_evidence(f, onehot)]) / len(f))


def _cov(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0, keepdims=True)
    return centred.T @ centred / max(len(x) - 1, 1)


def h_score(features: np.ndarray, labels: np.ndarray) -> float:
    """H-score: the trace of cov(f)^-1 cov(E[f|y]), with a pseudo-inverse as Bao et al.'s code uses."""
    f = _as_features(features)
    codes = _class_codes(labels, len(f))
    means = np.zeros((int(codes.max()) + 1, f.shape[1]))
    np.add.at(means, codes, f)
    means /= np.bincount(codes)[:, None]
    g = means[codes]  # each example replaced by its class mean
    return float(np.trace(np.linalg.pinv(_cov(f), rcond=1e-15, hermitian=True) @ _cov(g)))


def task_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two tasks' mean embeddings; each is a vector, or a matrix of per-text rows to average."""
    va = np.asarray(a, dtype=np.float64)
    vb = np.asarray(b, dtype=np.float64)
    va = va.mean(axis=0) if va.ndim == 2 else va
    vb = vb.mean(axis=0) if vb.ndim == 2 else vb
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb / norm) if norm > 0 else math.nan


# ---------------------------------------------------------------------------------------------------
# Scoring a predicted ranking against measured gains


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing the mean of the ranks they span (as Spearman's rho needs)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_vals = values[order]
    start = 0
    while start < len(values):
        stop = start
        while stop + 1 < len(values) and sorted_vals[stop + 1] == sorted_vals[start]:
            stop += 1
        ranks[order[start : stop + 1]] = (start + stop) / 2 + 1
        start = stop + 1
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho: Pearson's r of the average ranks; NaN for fewer than 2 points or a constant side."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"two sequences of one length, got {len(x)} and {len(y)}")
    if len(x) < 2:
        return math.nan
    rx, ry = average_ranks(x) - (len(x) + 1) / 2, average_ranks(y) - (len(y) + 1) / 2
    norm = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry / norm) if norm > 0 else math.nan


def top1_hit(predicted: Mapping[str, float], measured: Mapping[str, float]) -> bool | None:
    """Whether the predicted best is a measured best (ties count as hits); None without shared names."""
    shared = [k for k in predicted if k in measured and not math.isnan(predicted[k]) and not math.isnan(measured[k])]
    if not shared:
        return None
    pick = max(shared, key=lambda k: predicted[k])
    best = max(measured[k] for k in shared)
    return measured[pick] == best


@dataclass(frozen=True)
class Agreement:
    """How one signal's ranking agrees with the measured gains over the names both have."""

    signal: str
    n: int
    rho: float
    top1: bool | None
    predicted_best: str | None
    measured_best: str | None


def agreement(signal: str, predicted: Mapping[str, float], measured: Mapping[str, float]) -> Agreement:
    """Spearman's rho and top-1 hit of one signal, over the intermediates both sides score."""
    shared = sorted(k for k in predicted if k in measured and not math.isnan(predicted[k]) and not math.isnan(measured[k]))
    rho = spearman(np.array([predicted[k] for k in shared]), np.array([measured[k] for k in shared]))
    pick = max(shared, key=lambda k: predicted[k]) if shared else None
    best = max(shared, key=lambda k: measured[k]) if shared else None
    return Agreement(signal, len(shared), rho, top1_hit({k: predicted[k] for k in shared}, measured), pick, best)
