"""Selection-corrected gains, multiple-comparison corrections and power, on data with known answers."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from tests.report.synthetic import DataRoot, scored_run, write_run
from xstilts.claims import Claim, ClaimSet
from xstilts.report.cells import Grid
from xstilts.report.claims import check_claims
from xstilts.report.power import min_detectable_effect, pooled_sd, power_table, seeds_needed, t_power
from xstilts.report.runs import score_table
from xstilts.report.selection import held_out_seed_gain, optimistic_gain, selected_gain
from xstilts.report.stats import benjamini_hochberg, bootstrap_ci, holm

# --------------------------------------------------------------------------- multiple comparisons


def test_holm_and_bh_by_hand() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: sorted p*4/i = 0.02, 0.02, 0.04, 0.04 -> running min from the top leaves them
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # untested entries stay out of the family; values are capped at 1
    assert holm([None, 0.5, math.nan, 0.4]) == [None, pytest.approx(0.8), None, pytest.approx(0.8)]
    assert benjamini_hochberg([0.9, None, 0.8]) == [pytest.approx(0.9), None, pytest.approx(0.9)]
    assert holm([0.6, 0.7]) == [pytest.approx(1.0), pytest.approx(1.0)]
    assert holm([]) == [] and benjamini_hochberg([None]) == [None]


def test_bh_agrees_with_scipy_and_holm_bounds_it() -> None:
    rng = np.random.default_rng(3)
    p = list(rng.uniform(0, 0.2, size=25))
    assert benjamini_hochberg(p) == pytest.approx(list(sps.false_discovery_control(p)))
    for h, b, raw in zip(holm(p), benjamini_hochberg(p), p, strict=True):
        assert raw <= b <= h  # BH never stricter than Holm, neither looser than the raw p


# --------------------------------------------------------------------------- power


def test_power_matches_a_simulation() -> None:
    rng = np.random.default_rng(0)
    for effect, sd, n in ((1.0, 1.0, 5), (0.5, 1.0, 12), (2.0, 1.5, 3)):
        d = rng.normal(effect, sd, size=(20000, n))
        simulated = float((sps.ttest_1samp(d, 0.0, axis=1).pvalue < 0.05).mean())
        assert t_power(effect, sd, n) == pytest.approx(simulated, abs=0.012)


def test_minimum_detectable_effect_and_seeds_needed() -> None:
    mde = min_detectable_effect(1.0, 5)
    assert t_power(mde, 1.0, 5) == pytest.approx(0.8, abs=1e-6)
    assert min_detectable_effect(2.0, 5) == pytest.approx(2 * mde)  # scales with the s.d.
    assert min_detectable_effect(1.0, 10) < mde
    assert min_detectable_effect(1.0, 2) == math.inf  # two seeds: a sign test, p never below 0.5
    n = seeds_needed(1.0, 1.0)
    assert n is not None and t_power(1.0, 1.0, n) >= 0.8 > t_power(1.0, 1.0, n - 1)
    assert seeds_needed(0.0, 1.0) is None


def test_pooled_sd_by_hand() -> None:
    sd, df = pooled_sd([[1.0, 3.0], [2.0, 4.0, 6.0], [5.0]])
    assert df == 3 and sd == pytest.approx(math.sqrt((2 + 8) / 3))


def test_power_table_from_runs() -> None:
    rows = []
    for seed, (none, a, b) in enumerate([(50, 52, 49), (51, 55, 50), (49, 51, 50)]):
        rows += [("none", "xnli", seed, none), ("a", "xnli", seed, a), ("b", "xnli", seed, b)]
    runs = pd.DataFrame(rows, columns=["intermediate", "target", "seed", "score"])
    table = power_table(runs).set_index("target")
    deltas = [[2, 4, 2], [-1, -1, 1]]
    sd, _ = pooled_sd(deltas)
    assert table.at["xnli", "delta_sd"] == pytest.approx(sd) and table.at["xnli", "seeds"] == 3
    assert table.at["xnli", "mde"] == pytest.approx(min_detectable_effect(sd, 3))
    assert table.at["xnli", "seeds_for_1"] == seeds_needed(1.0, sd)


# --------------------------------------------------------------------------- selection, on arrays


def test_gain_functions_on_a_small_case() -> None:
    cand = np.array([[3.0, 1.0, 2.0], [1.0, 4.0, 1.0]])  # (candidates, seeds)
    base = np.zeros(3)
    # optimistic: candidate 0 (mean 2) beats candidate 1 (mean 2) on ties by argmax order
    assert optimistic_gain(cand, base) == pytest.approx([3.0, 1.0, 2.0])
    # seed 0 picked on seeds 1,2: means 1.5 vs 2.5 -> candidate 1 -> 1.0; seed 1 on 0,2: 2.5 vs 1 -> 0 -> 1.0;
    # seed 2 on 0,1: 2 vs 2.5 -> 1 -> 1.0
    assert held_out_seed_gain(cand, base) == pytest.approx([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="2 seeds"):
        held_out_seed_gain(cand[:, :1], base[:1])


def simulated_grid(rng: np.random.Generator, n_cand: int = 8, seeds: int = 3, n: int = 300, samples: int = 300) -> tuple[np.ndarray, ...]:
    """Candidates and baseline with equal true accuracy: every gain is noise. Returns observed and resampled scores."""
    correct = rng.random((n_cand + 1, seeds, n)) < 0.7  # independent per run
    counts = rng.multinomial(n, np.full(n, 1 / n), size=samples).astype(float)  # shared resamples (paired)
    observed = correct.mean(axis=2) * 100
    boot = np.einsum("rsn,bn->rsb", correct.astype(float), counts) / n * 100
    return observed[1:], observed[0], boot[1:], boot[0]


def test_corrected_gain_interval_covers_zero_where_the_optimistic_one_does_not() -> None:
    rng = np.random.default_rng(7)
    sims, covered, optimistic_covered, optimistic_mean, corrected_mean = 150, 0, 0, [], []
    for _ in range(sims):
        cand, base, bcand, bbase = simulated_grid(rng, n_cand=16)
        corrected = held_out_seed_gain(cand, base).mean()
        lo, hi = bootstrap_ci(held_out_seed_gain(bcand, bbase).mean(axis=0))
        covered += lo <= 0 <= hi
        corrected_mean.append(corrected)
        # the paper's rule: pick on the reported scores, then an interval for that fixed pick
        pick = int(cand.mean(axis=1).argmax())
        optimistic_mean.append(float(optimistic_gain(cand, base).mean()))
        lo, hi = bootstrap_ci((bcand[pick] - bbase).mean(axis=0))
        optimistic_covered += lo <= 0 <= hi
    assert covered / sims >= 0.9, covered / sims
    assert abs(np.mean(corrected_mean)) < 0.5  # unbiased: its mean is near 0
    assert np.mean(optimistic_mean) > 2.0  # the max of 16 noisy candidates is well above 0
    assert optimistic_covered / sims < 0.85  # its interval, blind to the pick, misses 0 far more than 5%


# --------------------------------------------------------------------------- selection, through real run folders


@pytest.fixture(scope="module")
def noise_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PAWS-X runs of five intermediate tasks that are all as good as none, plus dev-score parents."""
    base = tmp_path_factory.mktemp("selection")
    root, runs = base / "data", base / "runs"
    data = DataRoot(root)
    for lang in ("en", "de"):
        data.pawsx(lang, 300)
    rng = random.Random(11)
    for inter in ("none", "a", "b", "c", "d", "e"):
        for seed in range(3):
            share = 0.30 + rng.uniform(-0.03, 0.03)
            rid = scored_run(runs, root, "pawsx", inter, seed, {"en": share, "de": share})
            parent = write_run(runs, "pawsx", inter, seed, {}, kind="train", run_id=f"train-pawsx-{inter}-{seed}")
            path = runs / parent / "result.json"
            raw = json.loads(path.read_text())
            raw["training"] = {"best_dev_score": 70 + rng.uniform(-3, 3)}
            path.write_text(json.dumps(raw))
            path = runs / rid / "result.json"
            raw = json.loads(path.read_text())
            raw["parent"] = {"run_id": parent, "task": "pawsx", "checkpoint_sha256": "0" * 64}
            path.write_text(json.dumps(raw))
    return runs


def test_selection_rules_on_a_pure_noise_grid(noise_grid: Path) -> None:
    grid = Grid(score_table(noise_grid), noise_grid, 500, 0, 0.05)
    optimistic = selected_gain(grid, ["pawsx"], "test", "none")
    dev = selected_gain(grid, ["pawsx"], "dev", "none")
    seeds = selected_gain(grid, ["pawsx"], "seeds", "none")
    assert optimistic.gain is not None and dev.gain is not None and seeds.gain is not None
    means = grid.matrix[grid.matrix["intermediate"] != "none"].set_index("intermediate")["delta_mean"]
    assert optimistic.gain == pytest.approx(means.max()) and optimistic.picks["pawsx"] == means.idxmax()
    # dev picks the candidate with the best mean dev score, and reports that candidate's paired delta
    assert dev.gain == pytest.approx(means[dev.picks["pawsx"]])
    assert dev.ci is not None and dev.ci[0] <= 0 <= dev.ci[1] and "bootstrap" in (dev.ci_method or "")
    assert seeds.ci is not None and seeds.ci[0] <= 0 <= seeds.ci[1] and "pick redone" in (seeds.ci_method or "")
    assert len(seeds.picks["pawsx"].split("/")) == 3 and len(seeds.per_seed) == 3
    assert seeds.gain <= optimistic.gain and dev.gain <= optimistic.gain


def test_best_per_target_claim_uses_dev_by_default_and_corrects_for_the_family(noise_grid: Path) -> None:
    cs = ClaimSet(name="t", bootstrap_samples=300, claims=[
        Claim(id="best", text="best", type="best_per_target_gain", target="pawsx"),
        Claim(id="best-test", text="optimistic", type="best_per_target_gain", target="pawsx", selection="test"),
        Claim(id="a", text="a", type="improves", intermediate="a", target="pawsx"),
    ])  # fmt: skip
    results = {r.id: r for r in check_claims(cs, noise_grid)}
    assert results["best"].selection == "dev" and results["best"].notes[0].startswith("selection: dev")
    assert results["best-test"].selection == "test"
    for r in results.values():
        assert r.p_claim is not None and r.p_holm is not None and r.p_bh is not None
        assert r.p_claim <= r.p_bh <= r.p_holm <= 1.0


def test_correction_demotes_a_claim_that_only_holds_uncorrected(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for seed, (none, a) in enumerate([(50.0, 51.2), (50.0, 52.0), (50.0, 52.4)]):
        write_run(runs, "pawsx", "none", seed, {"en": {"accuracy": none}, "de": {"accuracy": none}})
        write_run(runs, "pawsx", "a", seed, {"en": {"accuracy": a}, "de": {"accuracy": a}})
    claim = [Claim(id=f"c{i}", text="a helps", type="improves", intermediate="a", target="pawsx") for i in range(4)]
    plain = check_claims(ClaimSet(name="t", bootstrap_samples=0, correction="none", claims=claim), runs)
    assert all(r.verdict == "supported" for r in plain)
    p = plain[0].p_claim
    assert p is not None and 0.05 / 4 < p < 0.05  # t-test on 1.2, 2.0, 2.4: p = 0.034
    holm_results = check_claims(ClaimSet(name="t", bootstrap_samples=0, claims=claim), runs)
    assert all(r.verdict == "inconclusive" and "Holm-adjusted" in r.reason for r in holm_results)
    assert holm_results[0].p_holm == pytest.approx(min(1.0, 4 * p))


# --------------------------------------------------------------------------- power of a claim file's sizes


@pytest.fixture()
def pilot(tmp_path: Path) -> Path:
    """Per-seed deltas of ``a`` on pawsx: 1, 2, 3 (s.d. 1)."""
    runs = tmp_path / "pilot"
    for seed, delta in enumerate([1.0, 2.0, 3.0]):
        write_run(runs, "pawsx", "none", seed, {"en": {"accuracy": 50.0}, "de": {"accuracy": 50.0}})
        write_run(runs, "pawsx", "a", seed, {"en": {"accuracy": 50.0 + delta}, "de": {"accuracy": 50.0 + delta}})
    return runs


def test_claim_sizes_below_what_the_seeds_detect_are_flagged(pilot: Path) -> None:
    from xstilts.report.power import claim_power

    cs = ClaimSet(name="t", claims=[
        Claim(id="small", text="t", type="improves", intermediate="a", target="pawsx", at_least=1.0),
        Claim(id="large", text="t", type="improves", intermediate="a", target="pawsx", at_least=5.0),
        Claim(id="unsized", text="t", type="improves", intermediate="a", target="pawsx"),
    ])  # fmt: skip
    small, large, unsized = claim_power(cs, 3, pilot)
    assert small.sd == pytest.approx(1.0) and small.mde == pytest.approx(min_detectable_effect(1.0, 3))
    assert small.warning is not None and f"; {seeds_needed(1.0, 1.0)} seeds would" in small.warning
    assert large.warning is None and unsized.warning is None
    assert all("sign test" in (c.warning or "") for c in claim_power(cs, 2, pilot))
    blind = claim_power(cs, 3, None)
    assert all(c.sd is None and c.warning is None for c in blind)


def test_dry_run_warns_about_claim_sizes(pilot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    from tests.cli.helpers import run_main

    claims = tmp_path / "claims.yaml"
    claims.write_text("name: t\nclaims:\n  - {id: small, text: t, type: improves, intermediate: a, target: pawsx, at_least: 1.0}\n")
    code, _, err = run_main(monkeypatch, capsys, "run", "smoke", "--out", tmp_path / "grid", "--dry-run",
                              "--claims", claims, "--variance-from", pilot)  # fmt: skip
    assert code == 0, err
    assert "xstilts: warning: claim small: 2 seed(s): the seed check is a sign test" in err  # smoke plans 2 seeds
