"""Run records: one path from a spec to a finished run, and old result files that still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xstilts.experiment import store
from xstilts.runs import RESULT_FILE, SCHEMA_VERSION, Run, read_result, upgrade


def test_a_run_is_written_once_and_then_found(tmp_path: Path) -> None:
    run = Run(tmp_path, "evaluate", "mini_nli", {"seed": 1, "data": "abc"})
    assert run.id.startswith("evaluate-mini_nli-") and run.finished is None
    with run.writing() as tmp:
        (tmp / "predictions").mkdir()
        result = run.write(tmp, {"seed": 3}, model="m", eval_split="test", head="mnli", metrics={"en": {"accuracy": 50.0}})
        assert not run.dir.exists()  # nothing is visible before the block ends
    assert result.seed == 3 and result.schema_version == SCHEMA_VERSION
    again = Run(tmp_path, "evaluate", "mini_nli", {"data": "abc", "seed": 1})  # same spec, any key order
    assert again.id == run.id and again.finished == result
    assert Run(tmp_path, "evaluate", "mini_nli", {"seed": 2, "data": "abc"}).finished is None


def test_a_failed_run_leaves_no_folder(tmp_path: Path) -> None:
    run = Run(tmp_path, "train", "mnli", {"seed": 1})
    with pytest.raises(RuntimeError), run.writing() as tmp:
        run.write(tmp, {"seed": 1}, model="m")
        raise RuntimeError("killed mid-run")
    assert not run.dir.exists() and run.finished is None
    assert not list(tmp_path.glob(".*.tmp"))


def v1_result(notes: list[str]) -> dict:
    return {
        "schema_version": 1, "run_id": "transfer-xnli-0123456789", "kind": "transfer", "task": "xnli", "model": "m", "seed": 1,
        "config": {"data": {"eval_split": None}}, "versions": {}, "git_commit": None, "metrics": {"sw": {"accuracy": 40.0}},
        "notes": notes,
    }


def test_schema_1_results_still_read_with_split_and_head(tmp_path: Path) -> None:
    raw = v1_result(["split dev[80%:]; head mnli; precision bf16"])
    folder = tmp_path / raw["run_id"]
    folder.mkdir()
    (folder / RESULT_FILE).write_text(json.dumps(raw))
    result = read_result(folder)
    assert (result.eval_split, result.head, result.schema_version) == ("dev[80%:]", "mnli", 1)
    assert store.eval_split(raw) == "dev[80%:]"
    retrieval = upgrade(v1_result(["split test; layer 12 of 12 (0 = embeddings); pooling mean"]))
    assert retrieval["eval_split"] == "test" and retrieval.get("head") is None
    assert upgrade(v1_result([]))["notes"] == []  # nothing to recover, nothing invented
    assert store.eval_split(v1_result([])) is None
