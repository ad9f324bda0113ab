"""A full disk (a file size limit, ``RLIMIT_FSIZE``) fails with one clear line and leaves nothing half-written."""

from __future__ import annotations

from pathlib import Path

from tests.faults import hooks
from tests.faults.conftest import Reference, final_metrics, leftovers
from xstilts.experiment.grid import execute
from xstilts.runs import RESULT_FILE, finished_result


def test_full_disk_fails_clearly_and_a_later_run_finishes(
    reference: Reference, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XSTILTS_CACHE", str(reference.cache))
    out, stderr = tmp_path / "runs", tmp_path / "stderr.txt"
    # 200 kB: the tokenizer fits, the tiny encoder's 400 kB of weights do not
    proc = hooks.start(
        hooks.cli, ["run", str(reference.spec), "--out", str(out)], reference.env(), str(stderr), 200_000
    )
    proc.join(240)
    lines = stderr.read_text().strip().splitlines()
    assert proc.exitcode == 1, lines
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    assert lines[0].startswith("xstilts: error: ") and "could not be written (File too large" in lines[0], (
        lines
    )
    assert str(out) in lines[0] and "nothing partial was left" in lines[0]
    # nothing a later run could read: no temp folder, and every run folder is a whole, verified run
    assert not leftovers(out)
    assert all(finished_result(p) is not None for p in out.iterdir() if (p / RESULT_FILE).exists())
    assert not [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in ("stages", "locks")
                and not (p / RESULT_FILE).is_file()]  # fmt: skip

    with hooks.one_thread():
        stages = execute(hooks.load_spec(reference.spec), out)
    assert {s.status for s in stages} == {"done"}
    assert final_metrics(out) == reference.metrics
