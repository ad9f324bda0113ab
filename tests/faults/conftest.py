"""A small grid on the tiny model, run once uninterrupted: the reference every fault test must reproduce.

Seven stages cover every stage kind: a no-intermediate and an intermediate branch, each with a target
training, its zero-shot evaluation and a retrieval evaluation. The package gets its own cache (so the
reference run writes the feature cache, and its writes can be counted), restored afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults import hooks
from xstilts.experiment.grid import execute
from xstilts.runs import read_result

SPEC = """\
name: faults
model: tiny-random
intermediates: [none, mini_paraphrase]
targets: [mini_nli, mini_parallel]
seeds: [1]
languages:
  mini_nli: [en, de]
  mini_parallel: [de]
config:
  train.max_steps: 4
  train.batch_size: 8
  train.lr: 1.0e-3
  train.eval_every: 2
  train.eval_examples: 16
  train.max_length: 64
  train.precision: fp32
  intermediate.max_steps: 3
  eval.max_examples: 24
  retrieval.max_length: 32
"""

#: which call of a kill point dies is drawn from this seed (set XSTILTS_FAULT_SEED to explore others)
SEED = int(os.environ.get("XSTILTS_FAULT_SEED", "0"))


def stage_records(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "stages").glob("*.json")}


def final_metrics(out: Path) -> dict[str, dict]:
    """What must not change across a kill: every stage's run id, numbers, parent checkpoint and best step."""
    rows = {}
    for key, rec in stage_records(out).items():
        res = read_result(out / rec["run_id"])
        rows[key] = {"run_id": res.run_id, "metrics": res.metrics, "average": res.average, "parent": res.parent,
                     "best_step": res.training.get("best_step")}  # fmt: skip
    return rows


def finished_mtimes(out: Path) -> dict[str, int]:
    """result.json mtimes of the runs finished so far: a rerun must leave them alone."""
    from xstilts.runs import is_finished

    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/result.json") if is_finished(p.parent)}


def leftovers(out: Path) -> list[Path]:
    return [*out.glob(".*.tmp"), *out.glob("stages/.*.tmp")]


@dataclass
class Reference:
    spec: Path
    out: Path
    cache: Path
    metrics: dict[str, dict]
    counts: dict[str, int]

    def env(self, cache: Path | None = None) -> dict[str, str]:
        return {"XSTILTS_CACHE": str(cache or self.cache), "XSTILTS_PROGRESS": "0", "HF_HUB_OFFLINE": "1"}

    def fresh_cache(self, folder: Path) -> Path:
        """A cache with the reference's models but no features, so the feature cache is written again."""
        shutil.copytree(self.cache / "models", folder / "models")
        return folder


@pytest.fixture(scope="package")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("faults")
    spec = root / "faults.yaml"
    spec.write_text(SPEC)
    cache = root / "cache"
    with pytest.MonkeyPatch.context() as mp, hooks.one_thread():
        mp.setenv("XSTILTS_CACHE", str(cache))
        from xstilts.models.tiny import ensure_tiny_model

        ensure_tiny_model()  # built before counting: fault runs find it there
        triggers = {point: hooks.Trigger() for point in hooks.GRID_POINTS}
        for point, trigger in triggers.items():
            hooks.install(point, trigger, mp.setattr)
        stages = execute(hooks.load_spec(spec), root / "runs")
    assert {s.status for s in stages} == {"done"} and len(stages) == 7
    counts = {point: t.calls for point, t in triggers.items()}
    assert all(counts.values()), counts
    return Reference(spec, root / "runs", cache, final_metrics(root / "runs"), counts)
