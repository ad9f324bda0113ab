"""Three ways to drive the command line: a subprocess, typer's runner, and the entry point in-process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from xstilts.cli import app, main

runner = CliRunner()


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m xstilts.cli ...`` in a fresh interpreter, as a user would run it."""
    return subprocess.run([sys.executable, "-m", "xstilts.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def invoke(*args: str | Path) -> Result:
    """One command through typer's runner; it must succeed."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str | Path) -> tuple[int, str, str]:
    """The installed entry point in-process: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["xstilts", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
