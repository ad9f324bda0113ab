"""Claim verdicts on synthetic grids with known effects, through real prediction files and gold data.

PAWS-X-style gold (en, de; 300 examples each) is written to a data root; each run's predictions get
an exact share of wrong answers per seed, so the per-seed deltas are known:
``good`` +11/+10/+9, ``same`` 0/+1/-1, ``noisy`` +6/-5/+4, ``bad`` -10/-11/-9 points against ``none``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.report.synthetic import DataRoot, scored_run
from xstilts.claims import Claim, ClaimSet, load_claims
from xstilts.report.claims import check_claims, write_claims

WRONG = {
    "none": [0.30, 0.30, 0.30],
    "good": [0.19, 0.20, 0.21],
    "same": [0.30, 0.29, 0.31],
    "noisy": [0.24, 0.35, 0.26],
    "bad": [0.40, 0.41, 0.39],
}


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("claims")
    root, runs = base / "data", base / "runs"
    data = DataRoot(root)
    for lang in ("en", "de"):
        data.pawsx(lang, 300)
    for inter, shares in WRONG.items():
        for seed, share in enumerate(shares):
            scored_run(runs, root, "pawsx", inter, seed, {"en": share, "de": share})
    return runs


def claims(*items: dict, samples: int = 1000, correction: str = "none") -> ClaimSet:
    return ClaimSet(name="test", bootstrap_samples=samples, correction=correction, claims=[Claim(**{"text": c["id"], **c}) for c in items])


def by_id(results):
    return {r.id: r for r in results}


def test_known_effects_get_the_right_verdicts(grid: Path) -> None:
    results = by_id(check_claims(claims(
        {"id": "clear", "type": "improves", "intermediate": "good", "target": "pawsx"},
        {"id": "zero", "type": "improves", "intermediate": "same", "target": "pawsx"},
        {"id": "noisy", "type": "improves", "intermediate": "noisy", "target": "pawsx"},
        {"id": "opposite", "type": "improves", "intermediate": "bad", "target": "pawsx"},
    ), grid))  # fmt: skip
    clear = results["clear"]
    assert clear.verdict == "supported", clear.reason
    assert clear.effect == pytest.approx(10.0) and clear.seed_effects == pytest.approx([11.0, 10.0, 9.0])
    assert clear.ci is not None and 0 < clear.ci[0] < 10 < clear.ci[1] < 20
    assert "bootstrap" in (clear.ci_method or "") and clear.p_value < 0.05 and clear.p_bootstrap < 0.05
    assert clear.n_seeds == 3 and len(clear.evidence) == 6  # 3 seeds x (good, none)
    assert {e["intermediate"] for e in clear.evidence} == {"good", "none"}
    zero = results["zero"]
    assert zero.verdict == "inconclusive" and zero.effect == pytest.approx(0.0) and zero.ci[0] < 0 < zero.ci[1]
    noisy = results["noisy"]
    assert noisy.verdict == "inconclusive" and noisy.effect == pytest.approx(5 / 3) and noisy.p_value > 0.05
    opposite = results["opposite"]
    assert opposite.verdict == "refuted", opposite.reason
    assert opposite.effect == pytest.approx(-10.0) and opposite.ci[1] < 0


def test_ranking_and_best_per_target_claims(grid: Path) -> None:
    results = by_id(check_claims(claims(
        {"id": "top_good", "type": "top_k", "k": 1, "expected": ["good"]},
        {"id": "top_bad", "type": "top_k", "k": 1, "expected": ["bad"]},
        {"id": "best5", "type": "best_per_target_gain", "target": "pawsx", "at_least": 5},
        {"id": "best15", "type": "best_per_target_gain", "target": "pawsx", "at_least": 15},
        {"id": "best_xtreme", "type": "best_per_target_gain", "target": "xtreme", "at_least": 5.4},
        {"id": "mean", "type": "improves_mean", "intermediate": ["good", "bad"], "target": "all"},
        {"id": "absent", "type": "improves", "intermediate": "hellaswag", "target": "pawsx"},
    ), grid))  # fmt: skip
    assert results["top_good"].verdict == "supported", results["top_good"].reason
    assert results["top_good"].effect == pytest.approx(10.0 - 5 / 3)  # good's delta minus the next best (noisy)
    assert results["top_bad"].verdict == "refuted"
    assert results["best5"].verdict == "supported" and "good" in results["best5"].notes[0]
    assert results["best15"].verdict == "refuted" and "smaller than the claimed 15" in results["best15"].reason
    assert results["best_xtreme"].verdict == "inconclusive" and "missing" in results["best_xtreme"].reason
    assert results["mean"].effect == pytest.approx(0.0) and results["mean"].verdict == "inconclusive"
    assert results["absent"].verdict == "inconclusive" and "hellaswag" in results["absent"].reason


def test_seeds_only_when_gold_is_gone(grid: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(grid, runs)
    one = claims({"id": "clear", "type": "improves", "intermediate": "good", "target": "pawsx"})
    no_boot = check_claims(one, runs, samples=0)[0]
    assert no_boot.ci_method and "t-test" in no_boot.ci_method and no_boot.p_bootstrap is None
    assert no_boot.verdict == "supported"
    # a run whose prediction file vanished: per-example scores are impossible, the verdict says so
    (runs / "transfer-pawsx-good-1" / "predictions" / "de.txt").unlink()
    fallback = check_claims(one, runs)[0]
    assert fallback.p_bootstrap is None and any("seeds only" in n for n in fallback.notes)


def test_claim_files_are_written(grid: Path) -> None:
    cs = claims({"id": "clear", "type": "improves", "intermediate": "good", "target": "pawsx"}, samples=200)
    paths = write_claims(cs, check_claims(cs, grid), grid)
    data = json.loads(paths["json"].read_text())
    assert data["results"][0]["verdict"] == "supported" and data["results"][0]["evidence"]
    assert "| clear | supported |" in paths["md"].read_text()


def test_bundled_phang2020_claims_load() -> None:
    cs = load_claims("phang2020")
    assert {c.type for c in cs.claims} == {"improves_mean", "best_per_target_gain", "top_k"}
    top = next(c for c in cs.claims if c.type == "top_k")
    assert top.expected == ["mnli", "squad", "hellaswag"]
    assert next(c for c in cs.claims if c.at_least is not None).at_least == 5.4
