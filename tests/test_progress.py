"""Progress for logs: when stderr is not a terminal, plain lines at most every XSTILTS_LOG_EVERY seconds."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from rich.progress import Progress

from tests.cli.helpers import run_main
from xstilts.progress import DEFAULT_LOG_EVERY, LogLines, log_every, make_progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lines_of(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_lines_carry_stage_step_loss_dev_throughput_and_eta_at_most_every_interval() -> None:
    clock, out = FakeClock(), io.StringIO()
    log = LogLines(stream=out, every=30, clock=clock, heartbeat=False)
    grid = log.add_task("grid smoke", total=4)  # the first change writes at once
    train = log.add_task("train mnli", total=100)
    for t in range(1, 100):
        clock.now = float(t)
        log.update(train, advance=1, description=f"train mnli loss {1 / t:.3f}")
        if t == 50:
            log.update(train, dev=71.25)
            log.advance(grid)
    written = lines_of(out)
    assert len(written) == 4  # t = 0, 30, 60, 90: never two within 30 s
    at_60 = written[2]
    assert at_60.startswith("xstilts ") and re.match(r"xstilts \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| ", at_60)
    stage, step = at_60.split(" | ")[1:]
    assert stage == "grid smoke 1/4 (25%) 0.0167/s eta 3m00s"
    assert step == "train mnli 60/100 (60%) loss 0.017 dev 71.25 1/s eta 0m40s"


def test_removed_tasks_leave_the_line_and_the_heartbeat_keeps_writing_while_nothing_moves() -> None:
    clock, out = FakeClock(), io.StringIO()
    log = LogLines(stream=out, every=10, clock=clock, heartbeat=False)
    grid = log.add_task("grid demo", total=2)
    evaluation = log.add_task("eval mini_nli", total=1000)
    log.remove_task(evaluation)
    clock.now = 9.0
    log.tick()
    assert len(lines_of(out)) == 1
    clock.now = 10.0
    log.tick()  # what the heartbeat thread does: a line although nothing changed
    assert lines_of(out)[-1].endswith("| grid demo 0/2 (0%) elapsed 0m10s")
    log.update(grid, advance=1)
    assert len(lines_of(out)) == 2


def test_the_heartbeat_thread_writes_lines_on_its_own() -> None:
    out = io.StringIO()
    with LogLines(stream=out, every=0.05) as log:
        log.add_task("tokenize mnli", total=None)
        deadline = time.monotonic() + 10
        while len(lines_of(out)) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(lines_of(out)) >= 3 and all("tokenize mnli" in line for line in lines_of(out))


def test_every_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("XSTILTS_LOG_EVERY", raising=False)
    assert log_every() == DEFAULT_LOG_EVERY == 30
    monkeypatch.setenv("XSTILTS_LOG_EVERY", "5")
    assert log_every() == 5 and LogLines().every == 5
    monkeypatch.setenv("XSTILTS_LOG_EVERY", "soon")
    assert log_every() == DEFAULT_LOG_EVERY
    assert "XSTILTS_LOG_EVERY=soon: expected seconds" in capsys.readouterr().err


def test_the_display_follows_stderr_and_xstilts_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("XSTILTS_PROGRESS", "auto")
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert isinstance(make_progress(), LogLines)
    monkeypatch.setattr("sys.stderr", Tty())
    bar = make_progress()
    assert isinstance(bar, Progress) and not bar.disable
    monkeypatch.setenv("XSTILTS_PROGRESS", "lines")
    assert isinstance(make_progress(), LogLines)
    monkeypatch.setenv("XSTILTS_PROGRESS", "0")
    off = make_progress()
    assert isinstance(off, Progress) and off.disable


def test_a_training_run_writes_lines_to_a_log(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``xstilts train`` with stderr captured (not a terminal): lines appear while it trains."""
    monkeypatch.setenv("XSTILTS_PROGRESS", "auto")
    monkeypatch.setenv("XSTILTS_LOG_EVERY", "0")
    code, _, err = run_main(
        monkeypatch, capsys, "train", "mini_nli", "--model", tiny_model, "--out", tmp_path, "train.max_steps=4",
        "train.batch_size=8", "train.eval_every=2", "train.eval_examples=16", "train.precision=fp32", "train.max_length=64",
    )  # fmt: skip
    assert code == 0, err
    progress = [line for line in err.splitlines() if line.startswith("xstilts ") and "| train mini_nli" in line]
    assert any(re.search(r"\| train mini_nli 4/4 \(100%\) loss \d", line) for line in progress), err
    assert any(re.search(r"/s eta \d+m\d\ds", line) for line in progress), err
