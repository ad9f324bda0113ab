"""Progress on stderr: a live bar on a terminal, plain periodic lines in a log file.

A cluster job's output is a file, where a live bar writes nothing readable until the job ends. There,
progress is a line at most every ``XSTILTS_LOG_EVERY`` seconds (default 30) naming every task in
flight (the grid, the training phase, an evaluation): how far it is (``40/300``), its loss and
dev score where the caller reports them, its throughput and its ETA. For example::

    xstilts 2024-05-01 12:03:04 | grid smoke 3/12 (25%) 0.05/s eta 3m00s | train mnli 40/300 (13%) loss 0.693 dev 71.20 3.1/s eta 1m24s

``XSTILTS_PROGRESS`` chooses: ``auto`` (default: a bar on a terminal, lines otherwise), ``lines``,
``bar``/``1``, or ``0`` (nothing).

Both kinds answer the same calls (``add_task``, ``update``, ``advance``, ``remove_task``, as a
context manager), so code that reports progress never asks which one it has. Extra keyword fields of
``update`` are shown in the lines (``loss=``, ``dev=``, ``stage=``); a description ending in
``loss 0.693`` is read as the loss too.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)

#: seconds between two progress lines when stderr is not a terminal
DEFAULT_LOG_EVERY = 30.0
#: a loss that a caller wrote into its description (``train mnli loss 0.693``) rather than as a field
_LOSS_IN_DESCRIPTION = re.compile(r"^(?P<what>.*?)\s+loss\s+(?P<loss>\S+)$")


def log_every() -> float:
    """``XSTILTS_LOG_EVERY`` in seconds; an unreadable value falls back to the default, with a warning."""
    raw = os.environ.get("XSTILTS_LOG_EVERY")
    if raw is None or not raw.strip():
        return DEFAULT_LOG_EVERY
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        print(f"xstilts: warning: XSTILTS_LOG_EVERY={raw}: expected seconds (a number >= 0); using {DEFAULT_LOG_EVERY:g}", file=sys.stderr)
        return DEFAULT_LOG_EVERY
    return value


def make_progress() -> Progress | LogLines:
    """The progress display for this process's stderr (see the module docstring)."""
    mode = os.environ.get("XSTILTS_PROGRESS", "auto").strip().lower()
    if mode == "lines" or (mode == "auto" and not sys.stderr.isatty()):
        return LogLines()
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=mode == "0",
    )


def progress_scope(progress: Progress | LogLines | None) -> contextlib.AbstractContextManager[Progress | LogLines]:
    """Reuse a caller's live progress display, or open a new one."""
    return contextlib.nullcontext(progress) if progress is not None else make_progress()


@dataclass
class _Task:
    description: str
    total: float | None
    started: float
    completed: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) >= 10 else f"{value:.3g}"
    return str(value)


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


class LogLines:
    """Progress as plain lines, at most one per ``every`` seconds, for output that is not a terminal.

    A line is written when a task changes and ``every`` seconds have passed since the last one, and,
    inside ``with``, by a heartbeat thread when nothing changed for that long (a long tokenisation or
    model load still shows the job alive). The first change writes a line at once.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> lines = LogLines(stream=out, every=0, clock=lambda: 0.0, wall=lambda: 0.0)
        >>> bar = lines.add_task("train mnli", total=10)
        >>> lines.update(bar, advance=4, loss=0.5)
        >>> out.getvalue().splitlines()[-1].split(" | ")[1]
        'train mnli 4/10 (40%) loss 0.5'
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        heartbeat: bool = True,
    ) -> None:
        self.every = log_every() if every is None else every
        self._stream = stream
        self._clock = clock
        self._wall = wall
        self._heartbeat = heartbeat and self.every > 0
        self._tasks: dict[int, _Task] = {}
        self._next_id = 0
        self._last: float | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the calls progress reporters make

    def add_task(self, description: str, total: float | None = None, completed: float = 0, **fields: Any) -> int:
        with self._lock:
            task_id = self._next_id
            self._next_id += 1
            self._tasks[task_id] = _Task(description, total, self._clock(), float(completed), dict(fields))
            self._maybe_write()
            return task_id

    def update(
        self,
        task_id: int,
        *,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        **fields: Any,
    ) -> None:
        fields.pop("visible", None)
        fields.pop("refresh", None)
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return
            if total is not None:
                task.total = total
            if completed is not None:
                task.completed = float(completed)
            if advance is not None:
                task.completed += advance
            if description is not None:
                task.description = description
            task.fields.update(fields)
            self._maybe_write()

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def remove_task(self, task_id: int) -> None:
        with self._lock:
            self._tasks.pop(task_id, None)

    def __enter__(self) -> LogLines:
        if self._heartbeat and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, name="xstilts-progress-lines", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # ------------------------------------------------------------------ lines

    def tick(self) -> None:
        """Write a line if ``every`` seconds have passed since the last one (the heartbeat calls this)."""
        with self._lock:
            self._maybe_write()

    def line(self) -> str:
        """The line that would be written now."""
        with self._lock:
            now = self._clock()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self._wall()))
            parts = [self._describe(task, now) for task in self._tasks.values()]
            return " | ".join([f"xstilts {stamp}", *(parts or ["waiting"])])

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            self.tick()

    def _maybe_write(self) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        stream = self._stream or sys.stderr
        try:
            stream.write(self.line() + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed or full log must not stop the run
            pass

    @staticmethod
    def _describe(task: _Task, now: float) -> str:
        what, fields = task.description, dict(task.fields)
        found = _LOSS_IN_DESCRIPTION.match(what)
        if found:
            what = found["what"]
            fields = {"loss": found["loss"], **fields}  # a ``loss=`` field, if any, wins
        words = [what]
        done = task.completed
        if task.total:
            words.append(f"{_count(done)}/{_count(task.total)}")
            words.append(f"({100 * done / task.total:.0f}%)")
        elif done:
            words.append(_count(done))
        words += [f"{key} {_number(value)}" for key, value in fields.items() if value is not None]
        elapsed = now - task.started
        if done > 0 and elapsed > 0:
            rate = done / elapsed
            words.append(f"{_number(rate)}/s")
            if task.total and task.total > done:
                words.append(f"eta {_duration((task.total - done) / rate)}")
        elif elapsed >= 1:  # no rate yet: how long it has been waiting says whether it is stuck
            words.append(f"elapsed {_duration(elapsed)}")
        return " ".join(words)
