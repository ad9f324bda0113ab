"""``xstilts rank`` on a tiny grid: encoders found by the grid and by provenance, and checked against its gains.

Why these checks: the ranking must read the intermediate encoders the grid trained (and only those),
work before any target phase of the target exists, give the same numbers however the encoders were
found, and ``--check`` must compare with exactly the gains ``xstilts report`` measures.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.cli.helpers import invoke, run_main
from xstilts.experiment.grid import execute, load_spec
from xstilts.runs import read_result

GRID = """\
# xstilts run {name}
name: rank-tiny
model: tiny-random
intermediates: [none, mini_paraphrase, mini_mc{extra}]
targets: [mini_nli]
seeds: [1, 2]
languages:
  mini_nli: [en, de]
config:
  train.max_steps: 3
  train.batch_size: 8
  train.lr: 1.0e-3
  train.eval_every: 3
  train.eval_examples: 16
  train.max_length: 64
  train.precision: fp32
  intermediate.max_steps: 3
  eval.max_examples: 24
"""


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A finished grid (2 intermediates + none, target mini_nli, 2 seeds), and a wider spec never run."""
    base = tmp_path_factory.mktemp("rank")
    spec, wider, out = base / "grid.yaml", base / "wider.yaml", base / "runs"
    spec.write_text(GRID.format(name=spec, extra=""), encoding="utf-8")
    wider.write_text(GRID.format(name=wider, extra=", mini_qa"), encoding="utf-8")
    stages = execute(load_spec(spec), out)
    assert {s.status for s in stages} == {"done"}
    return spec, wider, out


def rank_json(*args: str | Path) -> dict:
    return json.loads(invoke("rank", *args, "--json", "--max-examples", "80").stdout)


def transfer_average(out: Path, intermediate: str, seed: int) -> float:
    for path in out.glob("transfer-mini_nli-*/result.json"):
        result = read_result(path.parent)
        if result.intermediate == intermediate and result.seed == seed:
            return result.average["accuracy"]
    raise AssertionError(f"no transfer run for {intermediate} seed {seed}")


def test_rank_reads_the_grids_intermediate_encoders(grid: tuple[Path, Path, Path]) -> None:
    spec, _, out = grid
    ranked = rank_json("mini_nli", "--preset", spec, "--run", out)
    assert (ranked["train_task"], ranked["unit"], ranked["examples"], ranked["units"], ranked["classes"]) == ("mini_nli", "example", 80, 80, 3)
    assert {r["intermediate"] for r in ranked["rows"]} == {"mini_paraphrase", "mini_mc"}
    assert ranked["baseline"]["intermediate"] == "none" and ranked["baseline"]["similarity"] is None
    for row in ranked["rows"]:
        assert row["seeds"] == [1, 2] and set(row["by_seed"]) == {"1", "2"}
        assert row["logme"] == pytest.approx((row["by_seed"]["1"]["logme"] + row["by_seed"]["2"]["logme"]) / 2)
        assert all(math.isfinite(row[k]) for k in ("logme", "h_score", "similarity"))
    assert [r["intermediate"] for r in ranked["rows"]] == ranked["order"]["logme"]
    assert rank_json("mini_nli", "--preset", spec, "--run", out, "--seed", "2")["rows"][0]["seeds"] == [2]


def test_check_compares_with_the_measured_gains(grid: tuple[Path, Path, Path]) -> None:
    spec, _, out = grid
    checked = rank_json("mini_nli", "--preset", spec, "--check", out)
    for row in checked["rows"]:  # gain: the seed-paired mean of zero-shot averages minus none's
        name = row["intermediate"]
        expected = sum(transfer_average(out, name, s) - transfer_average(out, "none", s) for s in (1, 2)) / 2
        assert row["measured_gain"] == pytest.approx(expected)
    assert [a["signal"] for a in checked["agreement"]] == ["logme", "h_score", "similarity"]
    assert all(a["n"] == 2 and a["top1"] in (True, False) for a in checked["agreement"])
    table = invoke("rank", "mini_nli", "--preset", spec, "--check", out, "--max-examples", "80").stdout
    assert table.count("Spearman rho") == 3 and table.count("top-1") == 3


def test_provenance_finds_the_same_encoders_without_the_grid(grid: tuple[Path, Path, Path]) -> None:
    spec, _, out = grid
    by_grid = rank_json("mini_nli", "--preset", spec, "--check", out)
    by_runs = rank_json("mini_nli", "--check", out)
    assert [(r["intermediate"], r["seeds"], r["logme"], r["h_score"], r["similarity"]) for r in by_runs["rows"]] == [
        (r["intermediate"], r["seeds"], r["logme"], r["h_score"], r["similarity"]) for r in by_grid["rows"]
    ]
    assert by_runs["agreement"] == by_grid["agreement"]


def test_rank_before_the_targets_phases_exist(grid: tuple[Path, Path, Path]) -> None:
    _, wider, out = grid
    ranked = rank_json("mini_ner", "--preset", wider, "--run", out)  # mini_ner is no target of the grid
    assert (ranked["unit"], ranked["train_task"]) == ("word (first subword)", "mini_ner")
    assert {r["intermediate"] for r in ranked["rows"]} == {"mini_paraphrase", "mini_mc"}
    assert any("mini_qa seed 1: intermediate stage not done" in n for n in ranked["notes"])


def test_bad_requests_are_one_line_exit_2(grid: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    spec, _, out = grid
    code, _, err = run_main(monkeypatch, capsys, "rank", "mini_parallel", "--preset", spec, "--run", out)
    assert code == 2 and "mini_parallel is a retrieval task" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(monkeypatch, capsys, "rank", "mini_nli")
    assert code == 2 and "--preset PRESET" in err
    code, _, err = run_main(monkeypatch, capsys, "rank", "mini_nli", "--preset", spec, "--run", out, "--seed", "7")
    assert code == 2 and "no finished intermediate encoders" in err
    code, _, err = run_main(monkeypatch, capsys, "rank", "mini_ner", "--preset", spec, "--check", out)  # said before any work
    assert code == 2 and "no finished mini_ner runs with and without an intermediate task" in err
