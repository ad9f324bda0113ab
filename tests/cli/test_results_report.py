"""The result, report, claim and export commands over a small grid of scored runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import invoke


def test_results_table_csv_json(grid: tuple[Path, Path]) -> None:
    _, runs = grid
    table = invoke("results", runs, "--task", "pawsx", "--language", "average")
    assert "6 runs, 6 values" in table.output and "88.33" in table.output and "transfer-pawsx-none-2" in table.output
    csv = invoke("results", runs, "--intermediate", "mnli", "--seed", "0", "--metric", "accuracy", "--format", "csv")
    lines = csv.output.strip().splitlines()
    assert lines[0].startswith("run_id,kind,task,intermediate,model,seed") and len(lines) == 1 + 3  # de, en, average
    rows = json.loads(invoke("results", runs, "--language", "en", "--metric", "accuracy", "--format", "json").output)
    assert {r["intermediate"] for r in rows} == {"none", "mnli"} and len(rows) == 6
    none = sorted((r["seed"], r["value"]) for r in rows if r["intermediate"] == "none")
    assert none == [(0, 70.0), (1, pytest.approx(65.0)), (2, 70.0)]


def test_report_command_writes_files(grid: tuple[Path, Path]) -> None:
    _, runs = grid
    out = invoke("report", runs).output
    assert "Task score" in out and "Best intermediate task per target" in out
    assert str(runs / "report" / "summary.md") in out
    assert (runs / "report" / "delta_heatmap.png").is_file() and (runs / "report" / "summary.html").is_file()


def test_claims_command(grid: tuple[Path, Path], tmp_path: Path) -> None:
    _, runs = grid
    claims = tmp_path / "c.yaml"
    claims.write_text(
        "name: mine\nbootstrap_samples: 300\nclaims:\n"
        "  - {id: mnli_helps, type: improves, text: MNLI helps PAWS-X, intermediate: mnli, target: pawsx}\n"
    )
    out = invoke("claims", claims, runs).output
    assert "mnli_helps" in out and "supported" in out
    data = json.loads((runs / "report" / "claims.json").read_text())
    assert data["results"][0]["verdict"] == "supported"
    bundled = invoke("claims", "phang2020", runs, "--bootstrap-samples", "0").output
    assert "best_three inconclusive: no runs for intermediate squad, hellaswag" in bundled


def test_export_xtreme_command(grid: tuple[Path, Path], tmp_path: Path) -> None:
    _, runs = grid
    out = invoke("export", "xtreme", runs, tmp_path / "sub", "--intermediate", "mnli", "--seed", "2").output
    assert "seed 2" in out
    assert sorted(p.name for p in (tmp_path / "sub" / "pawsx").iterdir()) == ["test-de.tsv", "test-en.tsv"]
