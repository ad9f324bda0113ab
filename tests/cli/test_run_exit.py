"""``xstilts run`` and ``xstilts demo`` exit 1 when stages are left undone, with one line saying so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_main
from xstilts.experiment import demo, grid
from xstilts.presets import load_preset


def leave_undone(monkeypatch: pytest.MonkeyPatch, module: Any) -> None:
    """The grid as a runner sees it when another runner holds a stage and a later one waits on it."""

    def execute(spec: Any, out: Path, overrides: Any = None, progress: Any = None) -> list[Any]:
        stages = grid.plan(spec, out, overrides)
        for stage in stages:
            stage.status = "blocked" if stage.deps else "done"
        stages[0].status = "running elsewhere"
        return stages

    monkeypatch.setattr(module, "execute", execute)


def test_run_with_stages_left_undone_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    leave_undone(monkeypatch, grid)
    code, out, err = run_main(monkeypatch, capsys, "run", "smoke", "--out", tmp_path / "runs")
    stages = grid.plan(grid.GridSpec.model_validate(load_preset("smoke")), tmp_path / "runs")
    blocked = sum(1 for s in stages if s.deps)
    assert code == 1
    assert err.strip() == (f"xstilts: error: {blocked + 1} of {len(stages)} stages not done "
                           f"({blocked} blocked, 1 running elsewhere); rerun to continue")
    assert "all" not in out.splitlines()[-1]


def test_run_with_every_stage_done_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def execute(spec: Any, out: Path, overrides: Any = None, progress: Any = None) -> list[Any]:
        stages = grid.plan(spec, out, overrides)
        for stage in stages:
            stage.status = "done"
        return stages

    monkeypatch.setattr(grid, "execute", execute)
    code, out, err = run_main(monkeypatch, capsys, "run", "smoke", "--out", tmp_path / "runs")
    assert code == 0 and err == "" and "stages done" in out


def test_demo_with_stages_left_undone_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from xstilts.models import encoder

    leave_undone(monkeypatch, demo)
    monkeypatch.setattr(encoder, "resolve_model_path", lambda name: name)  # no model is needed to plan
    code, out, err = run_main(monkeypatch, capsys, "demo", "--out", tmp_path / "demo")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xstilts: error: ") and "stages not done" in lines[0]
    assert "demo finished" not in out


def test_an_internal_error_in_a_stage_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def execute(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("something broke\ninside")

    monkeypatch.setattr(grid, "execute", execute)
    code, _, err = run_main(monkeypatch, capsys, "run", "smoke", "--out", tmp_path / "runs")
    assert code == 1 and err == "xstilts: error: RuntimeError: something broke inside\n"
