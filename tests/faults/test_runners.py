"""Two runners on one output folder: both finish with every stage done, and no stage is done twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.faults import hooks
from tests.faults.conftest import Reference, final_metrics, leftovers


def test_two_runners_on_one_folder(reference: Reference, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XSTILTS_CACHE", str(reference.cache))
    out, log = tmp_path / "runs", tmp_path / "stages.log"
    # each stage takes at least 0.3 s, so the two runners meet on the same stages
    runners = [
        hooks.start(hooks.run_grid, str(reference.spec), str(out), reference.env(), log=str(log), pause_s=0.3)
        for _ in range(2)
    ]
    for proc in runners:
        proc.join(240)
    assert [p.exitcode for p in runners] == [0, 0]  # each saw every stage done (exit 3 if one was left)
    ran = Counter(line.split()[0] for line in log.read_text().splitlines())
    assert set(ran) == set(reference.metrics) and set(ran.values()) == {1}, ran
    assert final_metrics(out) == reference.metrics
    assert not leftovers(out)
