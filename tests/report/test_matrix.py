"""Transfer matrix, paired deltas, per-language deltas and best-per-target on known synthetic scores."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.report.synthetic import uniform, write_run
from xstilts.report.matrix import pair_seeds
from xstilts.report.tables import build_report, delta_cells, score_cells


def grid(run_dir: Path) -> None:
    for seed, acc in enumerate([80.0, 82.0, 84.0]):
        write_run(run_dir, "pawsx", "none", seed, uniform("pawsx", accuracy=acc))
    for seed, acc in enumerate([83.0, 84.0, 88.0]):
        metrics = uniform("pawsx", accuracy=acc)
        metrics["de"] = {"accuracy": acc - 7.0}  # one language gains less
        write_run(run_dir, "pawsx", "mnli", seed, metrics)
    write_run(run_dir, "pawsx", "squad", 0, uniform("pawsx", accuracy=81.0))
    write_run(run_dir, "pawsx", "squad", 5, uniform("pawsx", accuracy=90.0))
    write_run(run_dir, "tatoeba", "none", 0, uniform("tatoeba", accuracy=40.0), kind="retrieval")
    for seed, acc in enumerate([50.0, 52.0, 54.0]):
        write_run(run_dir, "tatoeba", "mnli", seed, uniform("tatoeba", accuracy=acc), kind="retrieval")
    write_run(run_dir, "tatoeba", "squad", 0, uniform("tatoeba", accuracy=60.0), kind="retrieval")
    write_run(run_dir, "pawsx", "train-only", 0, {}, kind="train")  # training phases are not scores


def cell(matrix, inter: str, target: str):
    rows = matrix[(matrix["intermediate"] == inter) & (matrix["target"] == target)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_pair_seeds() -> None:
    assert pair_seeds([0, 1, 2], [0, 1, 2]) == [(0, 0), (1, 1), (2, 2)]
    assert pair_seeds([0, 5], [0, 1, 2]) == [(0, 0)]
    assert pair_seeds([1, 2], [0]) == [(1, 0), (2, 0)]
    assert pair_seeds([3], [0, 1]) == []


def test_matrix_mean_std_and_paired_deltas(tmp_path: Path) -> None:
    grid(tmp_path)
    m = build_report(tmp_path).matrix
    base = cell(m, "none", "pawsx")
    assert base["mean"] == pytest.approx(82.0) and base["std"] == pytest.approx(2.0) and base["n"] == 3
    mnli = cell(m, "mnli", "pawsx")
    mnli_scores = [(83 * 6 + 76) / 7, (84 * 6 + 77) / 7, (88 * 6 + 81) / 7]
    assert mnli["mean"] == pytest.approx(sum(mnli_scores) / 3)
    assert mnli["std"] == pytest.approx(math.sqrt(7.0))  # 83, 84, 88 shifted by the same amount
    deltas = [s - b for s, b in zip(mnli_scores, [80.0, 82.0, 84.0], strict=True)]
    assert mnli["delta_mean"] == pytest.approx(sum(deltas) / 3)
    assert mnli["delta_std"] == pytest.approx(1.0) and mnli["n_pairs"] == 3 and mnli["pairing"] == "by seed"
    squad = cell(m, "squad", "pawsx")  # seeds 0 and 5: only seed 0 has a baseline
    assert squad["delta_mean"] == pytest.approx(1.0) and squad["n_pairs"] == 1 and math.isnan(squad["delta_std"])
    tat = cell(m, "mnli", "tatoeba")  # one deterministic baseline run pairs with every seed
    assert tat["delta_mean"] == pytest.approx(12.0) and tat["delta_std"] == pytest.approx(2.0)
    assert tat["pairing"] == "one baseline seed"
    assert "train-only" not in set(m["intermediate"])


def test_language_deltas_and_best_per_target(tmp_path: Path) -> None:
    grid(tmp_path)
    report = build_report(tmp_path)
    ld = report.lang_deltas
    row = ld[(ld["intermediate"] == "mnli") & (ld["target"] == "pawsx") & (ld["language"] == "de")].iloc[0]
    assert row["delta_mean"] == pytest.approx(((76 - 80) + (77 - 82) + (81 - 84)) / 3)
    row = ld[(ld["intermediate"] == "mnli") & (ld["target"] == "pawsx") & (ld["language"] == "en")].iloc[0]
    assert row["delta_mean"] == pytest.approx(3.0)
    best = report.best.table.set_index("target")
    assert best.loc["tatoeba", "intermediate"] == "squad" and best.loc["tatoeba", "delta"] == pytest.approx(20.0)
    assert best.loc["pawsx", "intermediate"] == "squad"  # mean of 81 and 90 beats mnli's
    assert report.best.best.tasks == {"pawsx": pytest.approx(85.5), "tatoeba": pytest.approx(60.0)}
    assert report.best.baseline.score == pytest.approx((82.0 + 40.0) / 2)
    assert not report.best.best.complete


def test_display_cells(tmp_path: Path) -> None:
    grid(tmp_path)
    report = build_report(tmp_path)
    scores = score_cells(report.matrix).set_index("intermediate")
    assert scores.loc["none", "pawsx"] == "82.00 ± 2.00 (3)"
    assert list(scores.columns) == ["pawsx", "tatoeba"]
    deltas = delta_cells(report.matrix).set_index("intermediate")
    assert deltas.loc["mnli", "tatoeba"] == "+12.00 ± 2.00 (3)"
    assert "none" not in deltas.index


def test_newest_duplicate_wins_and_is_noted(tmp_path: Path) -> None:
    write_run(tmp_path, "pawsx", "none", 0, uniform("pawsx", accuracy=70.0), run_id="old", created="2024-01-01T00:00:00+00:00")
    write_run(tmp_path, "pawsx", "none", 0, uniform("pawsx", accuracy=75.0), run_id="new", created="2024-02-01T00:00:00+00:00")
    report = build_report(tmp_path)
    assert list(report.scores.runs["run_id"]) == ["new"]
    assert any("old" in note and "superseded" in note for note in report.scores.notes)
