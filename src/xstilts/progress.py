"""Rich progress bars with ETA on stderr; off when stderr is not a terminal or XSTILTS_PROGRESS=0."""

from __future__ import annotations

import contextlib
import os
import sys

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


def make_progress() -> Progress:
    enabled = os.environ.get("XSTILTS_PROGRESS", "auto")
    disable = enabled == "0" or (enabled == "auto" and not sys.stderr.isatty())
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
        disable=disable,
    )


def progress_scope(progress: Progress | None) -> contextlib.AbstractContextManager[Progress]:
    """Reuse a caller's live progress display, or open a new one."""
    return contextlib.nullcontext(progress) if progress is not None else make_progress()
