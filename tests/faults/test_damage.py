"""Damaged artifacts are found before use and rebuilt (or refused), never silently reused.

A truncated ``result.json`` means "not finished": the grid redoes that run, the index skips it until
then. A checkpoint or head whose bytes changed no longer matches the sha256 its run recorded: the
grid rebuilds the run before a later stage uses it, and a run given by the user is refused with an
error naming the file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.faults import hooks
from tests.faults.conftest import Reference, final_metrics, finished_mtimes
from xstilts.experiment import store
from xstilts.experiment.grid import execute, plan, target_config
from xstilts.paths import sha256_file
from xstilts.runs import DamagedRunError, encoder_provenance, finished_result, is_finished, read_result


def copy_of(reference: Reference, tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("XSTILTS_CACHE", str(reference.cache))
    out = tmp_path / "runs"
    shutil.copytree(reference.out, out)
    return out


def run_of(
    out: Path, reference: Reference, kind: str, intermediate: str, phase: str | None = None
) -> tuple[str, Path]:
    """(stage key, run folder) of the stage of this kind (and phase) on this intermediate branch."""
    stages = plan(hooks.load_spec(reference.spec), out)
    stage = next(s for s in stages if s.kind == kind and s.intermediate == intermediate and s.phase == phase)
    return stage.key, out / str(stage.run_id)


def flip_byte(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.seek(path.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))


@pytest.fixture
def grid_copy(reference: Reference, tmp_path: Path, monkeypatch) -> Path:
    return copy_of(reference, tmp_path, monkeypatch)


def test_truncated_result_counts_as_unfinished_and_is_redone(grid_copy: Path, reference: Reference) -> None:
    out = grid_copy
    key, run = run_of(out, reference, "transfer", "mini_paraphrase")
    result = run / "result.json"
    result.write_bytes(result.read_bytes()[:200])
    assert not is_finished(run) and finished_result(run) is None
    with pytest.raises(DamagedRunError, match=r"result\.json: a complete run result"):
        read_result(run)
    # the index leaves it out and says why; the plan has it to do
    assert run.name not in set(store.runs(out)["run_id"]) and run.name in store.problems(out)
    assert [s.key for s in plan(hooks.load_spec(reference.spec), out) if s.status != "done"] == [key]

    before = {rid: m for rid, m in finished_mtimes(out).items() if rid != run.name}
    with hooks.one_thread():
        stages = execute(hooks.load_spec(reference.spec), out)
    assert {s.status for s in stages} == {"done"}
    assert final_metrics(out) == reference.metrics
    assert {
        rid: m for rid, m in finished_mtimes(out).items() if rid in before
    } == before  # only the damaged run was redone
    assert run.name in set(store.runs(out)["run_id"]) and store.problems(out) == {}


def test_changed_checkpoint_is_rebuilt_before_use(grid_copy: Path, reference: Reference) -> None:
    out = grid_copy
    _, inter = run_of(out, reference, "train", "mini_paraphrase", "intermediate")
    target_key, target = run_of(out, reference, "train", "mini_paraphrase", "target")
    weights = inter / "encoder" / "model.safetensors"
    good = sha256_file(weights)
    flip_byte(weights)
    with pytest.raises(
        DamagedRunError, match=r"encoder/model\.safetensors: sha256 .* differs from the .* recorded in"
    ):
        encoder_provenance(inter)
    assert is_finished(inter) and finished_result(inter) is None  # parses, but its files no longer match

    # a later stage needs the intermediate encoder again: the grid rebuilds it first
    shutil.rmtree(target)
    (out / "stages" / f"{target_key}.json").unlink()
    inter_mtime = (inter / "result.json").stat().st_mtime_ns
    with hooks.one_thread():
        stages = execute(hooks.load_spec(reference.spec), out)
    assert {s.status for s in stages} == {"done"}
    assert (inter / "result.json").stat().st_mtime_ns != inter_mtime and sha256_file(weights) == good
    assert final_metrics(out) == reference.metrics


def test_a_damaged_run_given_by_the_user_is_refused_naming_the_file(
    grid_copy: Path, reference: Reference
) -> None:
    from xstilts.evaluate.zero_shot import evaluate_run

    out = grid_copy
    _, target = run_of(out, reference, "train", "none", "target")
    cfg = target_config(hooks.load_spec(reference.spec), "mini_nli", 1, {})
    head = next((target / "heads").glob("*.safetensors"))
    flip_byte(head)
    with pytest.raises(DamagedRunError, match=rf"heads/{head.name}: sha256"):
        evaluate_run("mini_nli", cfg, target, out / "eval", languages=["de"])
    (target / "result.json").write_text('{"run_id": ')
    with pytest.raises(DamagedRunError, match=r"result\.json: a complete run result"):
        evaluate_run("mini_nli", cfg, target, out / "eval", languages=["de"])
    assert not (out / "eval").exists() or not list((out / "eval").iterdir())
