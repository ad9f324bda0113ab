"""Tatoeba: top-1 accuracy in both directions on vectors whose nearest neighbours are known by construction.

Why: a hit counts only when the retrieved line is the gold line, and en -> xx is reported beside the
XTREME number; a twin sentence on the other side must count as a miss.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.formats.vectors import unit
from xstilts.data.schema import ParallelCorpus
from xstilts.formats import tatoeba


def test_tatoeba_accuracy_on_vectors_with_known_answers() -> None:
    n = 20
    eye = np.eye(n + 2, dtype=np.float32)
    tgt = eye[:n].copy()
    tgt[3] = unit(eye[3] + 0.1 * eye[n + 1])
    src = unit(eye[:n] + 0.1 * eye[n])
    src[3] = eye[5]  # xx 3 is en 5's twin: xx 3 retrieves en 5, and en 5 retrieves xx 3
    src[4] = unit(eye[4] + 0.1 * eye[n] + 0.1 * eye[n + 1])  # en 3 then finds xx 4 closest
    ids = [str(i) for i in range(n)]
    corpus = ParallelCorpus(ids, ["x"] * n, ids, ["y"] * n, [(i, i) for i in ids], src_lang="de")
    m, retrieved = tatoeba.tatoeba_metrics(src, tgt, corpus, backend="torch")
    assert m["accuracy"] == pytest.approx(95.0)
    assert m["accuracy_en_xx"] == pytest.approx(90.0)
    assert retrieved[3] == 5 and retrieved[0] == 0


def test_top1_accuracy_skips_queries_without_gold() -> None:
    assert tatoeba.top1_accuracy([0, 1, -1], ["a", "b", "c"], ["A", "B"], [("a", "A"), ("c", "B")]) == pytest.approx(50.0)
    assert np.isnan(tatoeba.top1_accuracy([0], ["a"], ["A"], []))
