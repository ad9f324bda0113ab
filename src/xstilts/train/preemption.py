"""Pre-emption: SIGTERM or SIGUSR1 (Slurm's warning signal) ends a training phase at a step boundary.

While a phase trains, the two signals only raise a flag. At the end of the step under way the loop
writes a checkpoint and raises :class:`Preempted`, which exits the process with ``128 + signal``
(143 for SIGTERM, 138 for SIGUSR1), the code a shell reports for a process the signal ended, so a
job script or a scheduler reads it as "stopped by the signal: requeue". Running the same command
again resumes from that checkpoint. A signal that arrives after the last step lets the phase finish
and save its run; the process exits with the same code right after. The previous handlers are back
in place once the phase ends, so a signal outside training does what it did before.

Example (a Slurm batch script that passes the warning on and requeues itself)::

    #SBATCH --signal=B:USR1@120 --requeue
    trap 'kill -USR1 "$pid"' USR1
    xstilts run phang2020 & pid=$!
    while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done
    [ "$rc" -eq 138 ] && scontrol requeue "$SLURM_JOB_ID"
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: SIGTERM (what Slurm, Kubernetes and most schedulers send first) and SIGUSR1 (``sbatch --signal``)
PREEMPTION_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGUSR1") if hasattr(signal, name))


def exit_code(signum: int) -> int:
    """The exit status of a pre-empted phase: what a shell shows for a process ``signum`` ended."""
    return 128 + int(signum)


class Preempted(SystemExit):
    """A phase stopped on a pre-emption signal, its checkpoint written; exits with ``128 + signal``.

    A :class:`SystemExit`, so it passes every ``except Exception`` on its way out (a grid stops too)
    and the process ends with its code.
    """

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(exit_code(signum))
        self.signum = signum
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class Preemption:
    """Whether a pre-emption signal arrived while the phase ran, and which."""

    signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def stop(self, message: str) -> Preempted:
        """The exit to raise now that the phase is safe on disk; ``message`` is logged as a warning."""
        assert self.signum is not None
        name = signal.Signals(self.signum).name
        text = f"{name}: {message}; run the same command again to resume (exit {exit_code(self.signum)})"
        log.warning("%s", text)
        return Preempted(self.signum, text)


@contextmanager
def preemption_signals() -> Iterator[Preemption]:
    """Catch SIGTERM and SIGUSR1 for the duration of the block, then restore the previous handlers.

    Only the main thread can install signal handlers; elsewhere (a phase run in a worker thread) the
    signals keep their usual effect and :attr:`Preemption.requested` stays false.
    """
    preemption = Preemption()
    if threading.current_thread() is not threading.main_thread():
        yield preemption
        return

    def handler(signum: int, _frame: object) -> None:
        preemption.signum = signum

    previous = {sig: signal.signal(sig, handler) for sig in PREEMPTION_SIGNALS}
    try:
        yield preemption
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
