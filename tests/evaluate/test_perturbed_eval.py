"""Evaluation under seeded perturbation: every language scored again at each rate, and the report's curves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_transfer_tiny import write_nli
from xstilts.config import ConfigError, build_config
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.report.robustness import curve_cells, perturbation_curves
from xstilts.train.phase import train_run


@pytest.fixture(scope="module")
def trained(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("perturbed")
    root = base / "data"
    write_nli(root / "mnli" / "en.train.tsv", 32, 1)
    write_nli(root / "mnli" / "en.dev.tsv", 8, 2)
    write_nli(root / "xnli" / "de.test.tsv", 30, 3, "de")
    write_nli(root / "xnli" / "en.test.tsv", 30, 4)
    cfg = build_config({"model": {"name": str(tiny_model)}, "data": {"data_dir": str(root)},
                        "train": {"max_steps": 6, "batch_size": 8, "lr": 1e-3}})  # fmt: skip
    run = train_run(["mnli"], cfg, base / "runs")
    return root, base / "runs" / run.run_id


def evaluate(trained: tuple[Path, Path], out: Path, **eval_cfg: object):
    root, run = trained
    cfg = build_config({"data": {"data_dir": str(root)}, "eval": eval_cfg})
    return evaluate_run("xnli", cfg, run, out, languages=["en", "de"])


def test_each_kind_and_rate_is_a_slice_and_rate_zero_is_the_plain_score(trained: tuple[Path, Path], tmp_path: Path) -> None:
    plain = evaluate(trained, tmp_path)
    noisy = evaluate(trained, tmp_path, perturb=["swap", "punct"], perturb_rates=[0.0, 0.5, 1.0])
    assert noisy.run_id != plain.run_id and noisy.metrics == plain.metrics
    assert set(noisy.slices) >= {"perturb:swap", "perturb:punct"}
    for kind in ("swap", "punct"):
        curve = noisy.slices[f"perturb:{kind}"]
        assert set(curve) == {"0", "0.5", "1"}
        for lang in ("en", "de"):
            assert curve["0"][lang] == plain.metrics[lang]  # p=0 changes nothing
            assert curve["1"][lang]["n"] == plain.metrics[lang]["n"]
    again = evaluate(trained, tmp_path / "again", perturb=["swap", "punct"], perturb_rates=[0.0, 0.5, 1.0])
    assert again.slices == noisy.slices  # seeded


def test_the_report_draws_curves_from_the_slices(trained: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    runs = tmp_path / "grid"
    shutil.copytree(trained[1], runs / trained[1].name)
    evaluate(trained, runs, perturb=["case"], perturb_rates=[0.5, 1.0])
    curves = perturbation_curves(runs)
    assert set(curves["kind"]) == {"case"} and set(curves["rate"]) == {0.0, 0.5, 1.0}
    assert set(curves["language"]) == {"en", "de", "mean"}
    cells = curve_cells(curves)
    assert list(cells.columns) == ["target", "intermediate", "perturbation", "language", "p=0", "p=0.5", "p=1"]


def test_unknown_kinds_and_rates_outside_0_1_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"eval\.perturb\.0"):
        build_config({"eval": {"perturb": ["shuffle"]}})
    with pytest.raises(ConfigError, match=r"eval\.perturb_rates\.0"):
        build_config({"eval": {"perturb_rates": [1.5]}})
