"""The robustness section from a grid's runs: protocols found from training domains, gaps and their change."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from xstilts.data.load import load_split
from xstilts.evaluate.zero_shot import slice_metrics
from xstilts.report.robustness import MEAN, robustness
from xstilts.runs import RunResult
from xstilts.tasks.registry import get_task

LABELS = ("entailment", "neutral", "contradiction")
#: correct answers out of 10 per (intermediate, domain): none's gap is 30 points, mnli's 10
CORRECT = {"none": {"fiction": 8, "oup": 5}, "mnli": {"fiction": 8, "oup": 7}}


def write_xnli(root: Path, lang: str) -> None:
    rows = [f"p{g}{i}\th{g}{i}\t{LABELS[i % 3]}\t{g}" for g in ("fiction", "oup") for i in range(10)]
    path = root / "xnli" / f"{lang}.test.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("sentence1\tsentence2\tgold_label\tgenre\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_runs(runs: Path, root: Path, inter: str, seed: int, correct: dict[str, int], langs: tuple[str, ...] = ("en", "de"),
               by_lang: dict[str, dict[str, int]] | None = None) -> None:  # fmt: skip
    task = get_task("xnli")
    parent = f"train-xnli-{inter}-{seed}"
    RunResult(run_id=parent, kind="train", task="xnli", intermediate=inter, model="tiny", seed=seed, config={},
              versions={}, git_commit=None, training={"domains": {"xnli": {"fiction": 40}}}).write(runs / parent)  # fmt: skip
    rid = f"transfer-xnli-{inter}-{seed}"
    metrics, preds_rel, slices = {}, {}, {}
    for lang in langs:
        examples = load_split(task, lang, "test", root).examples
        preds, seen = {}, {"fiction": 0, "oup": 0}
        for ex in examples:  # the first ``correct[genre]`` examples of each genre are answered right
            g = ex.meta["genre"]
            right = (by_lang or {}).get(lang, correct)[g]
            preds[ex.id] = ex.label if seen[g] < right else LABELS[(LABELS.index(ex.label) + 1) % 3]
            seen[g] += 1
        rel = f"predictions/{lang}.txt"
        task.fmt.write_predictions(runs / rid / rel, examples, preds)
        metrics[lang] = task.fmt.score(examples, preds, lang)
        preds_rel[lang] = rel
        for fld, by_value in slice_metrics(task.fmt, task, examples, preds, lang).items():
            for value, m in by_value.items():
                slices.setdefault(fld, {}).setdefault(value, {})[lang] = m
    RunResult(run_id=rid, kind="transfer", task="xnli", intermediate=inter, model="tiny", seed=seed,
              config={"data": {"data_dir": str(root), "eval_split": "test"}, "eval": {}}, versions={}, git_commit=None,
              metrics=metrics, predictions=preds_rel, parent={"run_id": parent, "task": "xnli"}, slices=slices,
              notes=["split test"]).write(runs / rid)  # fmt: skip


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("robust")
    root, runs = base / "data", base / "runs"
    for lang in ("en", "de"):
        write_xnli(root, lang)
    for seed in (1, 2, 3):
        for inter, correct in CORRECT.items():
            write_runs(runs, root, inter, seed, correct)
    return runs


def test_gaps_per_language_and_their_mean_match_hand_counts(grid: Path) -> None:
    rob = robustness(grid, samples=300)
    gaps = rob.gaps.set_index(["intermediate", "language"])
    assert set(rob.gaps["protocol"]) == {"xnli trained on fiction"}
    for lang in ("en", "de", MEAN):
        assert gaps.loc[("none", lang), "in_domain"] == pytest.approx(80.0)
        assert gaps.loc[("none", lang), "out_of_domain"] == pytest.approx(50.0)
        assert gaps.loc[("none", lang), "gap"] == pytest.approx(30.0)
        assert gaps.loc[("none", lang), "relative_drop"] == pytest.approx(30 / 80)
        assert gaps.loc[("mnli", lang), "gap"] == pytest.approx(10.0)
    assert gaps.loc[("none", "en"), "worst_domain"] == "oup" and gaps.loc[("none", "en"), "worst_score"] == pytest.approx(50.0)
    assert gaps.loc[("none", "en"), "n_in"] == 10 and gaps.loc[("none", "en"), "seeds"] == 3


def test_the_change_in_gap_has_a_paired_ci_and_a_seed_test(grid: Path) -> None:
    rob = robustness(grid, samples=300)
    ch = rob.changes.set_index(["intermediate", "language"])
    for lang in ("en", "de", MEAN):
        row = ch.loc[("mnli", lang)]
        assert row["change"] == pytest.approx(-20.0)
        assert row["gap_base"] == pytest.approx(30.0) and row["gap_other"] == pytest.approx(10.0)
        assert row["ci_low"] <= -20.0 <= row["ci_high"] <= 0  # 2 of 10 oup answers differ: some resamples miss both
        assert row["pairs"] == 3
        assert row["seed_verdict"] == "narrows" and row["seed_p"] == 0.0  # identical effects over seeds
    assert ("none", "en") not in ch.index


def test_domain_scores_say_which_are_in_domain(grid: Path) -> None:
    dom = robustness(grid, samples=50).domains.set_index(["intermediate", "language", "domain"])
    assert dom.loc[("mnli", "de", "oup"), "score"] == pytest.approx(70.0)
    assert bool(dom.loc[("mnli", "de", "fiction"), "in_domain"]) and not bool(dom.loc[("mnli", "de", "oup"), "in_domain"])
    assert dom.loc[("mnli", "de", "oup"), "n"] == 10


def test_runs_whose_model_records_no_domains_are_named_and_left_out(tmp_path: Path) -> None:
    root, runs = tmp_path / "data", tmp_path / "runs"
    write_xnli(root, "en")
    write_runs(runs, root, "none", 1, CORRECT["none"], ("en",))
    parent = runs / "train-xnli-none-1" / "result.json"
    parent.write_text(parent.read_text().replace('"domains"', '"other"'))
    rob = robustness(runs, samples=10)
    assert rob.empty and any("records no training domains" in n for n in rob.notes)


def test_no_gap_where_a_language_has_only_out_of_domain_examples(tmp_path: Path) -> None:
    root, runs = tmp_path / "data", tmp_path / "runs"
    write_xnli(root, "en")
    path = root / "xnli" / "en.test.tsv"
    path.write_text("\n".join(line for line in path.read_text().splitlines() if "\tfiction" not in line) + "\n")
    write_runs(runs, root, "none", 1, {"fiction": 0, "oup": 5}, ("en",))
    rob = robustness(runs, samples=10)
    assert rob.gaps.empty and not rob.domains.empty
    assert math.isclose(float(rob.domains["score"].iloc[0]), 50.0)


def test_the_report_has_the_section_its_figures_and_files(grid: Path) -> None:
    import json

    from xstilts.report.render import write_report
    from xstilts.report.tables import build_report

    written = write_report(build_report(grid, samples=100))
    for name in ("robustness_gaps.csv", "robustness_changes.csv", "robustness_domains.csv", "robustness.json", "robustness.tex"):
        assert name in written
    assert any(n.startswith("gaps_") for n in written) and any(n.startswith("domains_") for n in written)
    summary = written["summary.md"].read_text(encoding="utf-8")
    assert "## Robustness under domain shift" in summary and "| mnli | mean | 80.00 | 70.00 | 10.00 |" in summary
    data = json.loads(written["robustness.json"].read_text(encoding="utf-8"))
    assert {r["language"] for r in data["changes"]} == {"en", "de", MEAN}


def test_narrows_gap_claims_read_the_change_in_gap(grid: Path) -> None:
    from xstilts.claims import Claim, ClaimSet
    from xstilts.report.claims import check_claims

    claims = ClaimSet(name="t", bootstrap_samples=300, correction="none", claims=[
        Claim(id="mean", text="t", type="narrows_gap", intermediate="mnli", target="xnli"),
        Claim(id="en", text="t", type="narrows_gap", intermediate="mnli", target="xnli", language="en"),
        Claim(id="absent", text="t", type="narrows_gap", intermediate="mnli", target="udpos"),
        Claim(id="few", text="t", type="gap_grows_with_distance", target="xnli"),
    ])  # fmt: skip
    mean, en, absent, few = check_claims(claims, grid)
    assert mean.verdict == "supported" and mean.effect == pytest.approx(20.0) and mean.ci[0] > 0
    assert mean.n_seeds == 3 and mean.seed_effects == [pytest.approx(20.0)] * 3
    assert en.verdict == "inconclusive" and en.ci[0] <= 0  # 2 of 10 answers differ: resamples can miss both
    assert absent.verdict == "inconclusive" and "no run of udpos" in absent.reason
    assert few.verdict == "inconclusive" and "2 language(s)" in few.reason


def test_gap_grows_with_distance_over_languages(tmp_path: Path) -> None:
    from xstilts.claims import Claim, ClaimSet
    from xstilts.report.claims import check_claims
    from xstilts.report.distance import genetic_distance

    root, runs = tmp_path / "data", tmp_path / "runs"
    langs = ("en", "de", "hi", "fr", "sw")
    assert [genetic_distance(lang) for lang in langs] == sorted(genetic_distance(lang) for lang in langs)
    for lang in langs:
        write_xnli(root, lang)
    oup = {"en": 9, "de": 8, "hi": 6, "fr": 4, "sw": 2}  # the farther from English, the larger the gap
    write_runs(runs, root, "none", 1, CORRECT["none"], langs, {lang: {"fiction": 10, "oup": n} for lang, n in oup.items()})
    claims = ClaimSet(name="t", claims=[Claim(id="d", text="t", type="gap_grows_with_distance", target="xnli")])
    (result,) = check_claims(claims, runs, samples=10)
    assert result.effect == pytest.approx(1.0) and result.p_value == pytest.approx(1 / 60)  # exact: 2 of 5! orderings
    assert result.verdict == "supported" and [e["language"] for e in result.evidence] == sorted(langs)


def test_genetic_distance_from_uriel() -> None:
    from xstilts.report.distance import distances_from, genetic_distance, uriel_code

    assert genetic_distance("en") == 0.0 and genetic_distance("de") < genetic_distance("hi") < genetic_distance("sw")
    assert uriel_code("zh") == "cmn" and uriel_code("sw") == "swh" and uriel_code("yo") == "yor"
    assert genetic_distance("pcm") < 0.2  # an English-lexified creole
    assert genetic_distance("xx") is None and distances_from(["en", "xx"]) == {"en": 0.0}
    with pytest.raises(ValueError, match="genetic"):
        distances_from(["en"], "syntactic")


def test_gap_claims_compare_with_none_only() -> None:
    from xstilts.claims import Claim

    with pytest.raises(ValueError, match="baseline only"):
        Claim(id="b", text="t", type="narrows_gap", intermediate="anli", target="xnli", baseline="mnli")
    with pytest.raises(ValueError, match="one intermediate task"):
        Claim(id="d", text="t", type="gap_grows_with_distance", intermediate=["anli", "mnli"], target="xnli")
