"""Per-example re-scoring for the bootstrap: every format's units reproduce the reported scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.report.synthetic import DataRoot, scored_run
from xstilts.report.bootstrap import bootstrap_task_scores
from xstilts.report.examples import GoldCache, run_units
from xstilts.report.xtreme import language_score, task_score
from xstilts.tasks.registry import get_task


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("units")
    root, runs = base / "data", base / "runs"
    data = DataRoot(root, seed=3)
    for lang in ("en", "de"):
        data.pawsx(lang, 50)
        data.udpos(lang, 40)
        data.xquad(lang, 30)
    data.tatoeba("de", "deu", 40)
    data.bucc("de", 50)
    ids = {
        "pawsx": scored_run(runs, root, "pawsx", "none", 0, {"en": 0.2, "de": 0.3}),
        "udpos": scored_run(runs, root, "udpos", "none", 0, {"en": 0.3, "de": 0.5}),
        "xquad": scored_run(runs, root, "xquad", "none", 0, {"en": 0.3, "de": 0.6}),
        "tatoeba": scored_run(runs, root, "tatoeba", "none", 0, {"de": 0.3}, kind="retrieval"),
        "bucc2018": scored_run(runs, root, "bucc2018", "none", 0, {"de": 0.3}, kind="retrieval"),
        "pawsx-copy": scored_run(runs, root, "pawsx", "copy", 0, {"en": 0.2, "de": 0.3}),
    }
    return runs, ids


@pytest.mark.parametrize("task", ["pawsx", "udpos", "xquad", "tatoeba", "bucc2018"])
def test_units_reproduce_reported_language_scores(grid: tuple[Path, dict[str, str]], task: str) -> None:
    runs, ids = grid
    raw = json.loads((runs / ids[task] / "result.json").read_text())
    units = run_units(raw, runs / ids[task], GoldCache())
    for lang, u in units.items():
        assert u.score() == pytest.approx(language_score(get_task(task), raw["metrics"][lang]))
    counts = np.ones((1, len(next(iter(units.values())).ids)))
    assert next(iter(units.values())).resampled(counts)[0] == pytest.approx(next(iter(units.values())).score())


def test_bootstrap_resamples_are_shared_between_runs(grid: tuple[Path, dict[str, str]]) -> None:
    runs, ids = grid
    gold = GoldCache()
    units = {}
    for key in ("pawsx", "pawsx-copy"):
        raw = json.loads((runs / ids[key] / "result.json").read_text())
        units[ids[key]] = ("pawsx", run_units(raw, runs / ids[key], gold))
    boot = bootstrap_task_scores(units, samples=300, seed=1)
    a, b = boot[ids["pawsx"]], boot[ids["pawsx-copy"]]
    assert a.shape == (300,)
    raw = json.loads((runs / ids["pawsx"] / "result.json").read_text())
    assert a.mean() == pytest.approx(task_score(get_task("pawsx"), raw["metrics"]).score, abs=1.5)
    assert a.std() > 0
    # same share wrong but different examples: the paired difference varies, yet both draw the same resamples
    again = bootstrap_task_scores({ids["pawsx"]: units[ids["pawsx"]]}, samples=300, seed=1)[ids["pawsx"]]
    np.testing.assert_array_equal(again, a)
    assert not np.array_equal(a, b)


def test_mismatch_with_reported_score_is_refused(grid: tuple[Path, dict[str, str]]) -> None:
    runs, ids = grid
    raw = json.loads((runs / ids["pawsx"] / "result.json").read_text())
    raw["metrics"]["en"]["accuracy"] += 1.0
    with pytest.raises(ValueError, match="re-scored"):
        run_units(raw, runs / ids["pawsx"], GoldCache())
