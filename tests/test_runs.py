"""Run records: one path from a spec to a finished run, and old result files that still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xstilts.experiment import store
from xstilts.paths import sha256_file
from xstilts.runs import (
    RESULT_FILE,
    SCHEMA_VERSION,
    DamagedRunError,
    Run,
    encoder_provenance,
    is_finished,
    read_result,
    run_encoder_path,
    upgrade,
    verify_run,
)


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


def finished_run(out: Path) -> Run:
    run = Run(out, "train", "mnli", {"seed": 1})
    with run.writing() as tmp:
        (tmp / "encoder").mkdir()
        (tmp / "encoder" / "model.safetensors").write_bytes(b"weights" * 100)
        (tmp / "heads").mkdir()
        (tmp / "heads" / "mnli.safetensors").write_bytes(b"head")
        run.write(tmp, {"seed": 1}, model="m")
    return run


def test_a_run_records_the_sha256_of_every_file_it_wrote(tmp_path: Path) -> None:
    run = finished_run(tmp_path)
    result = read_result(run.dir)
    assert set(result.checksums) == {"encoder/model.safetensors", "heads/mnli.safetensors"}
    assert result.checksums["heads/mnli.safetensors"] == sha256_file(run.dir / "heads" / "mnli.safetensors")
    assert encoder_provenance(run.dir).checkpoint_sha256 == result.checksums["encoder/model.safetensors"]


def test_a_truncated_result_means_not_finished(tmp_path: Path) -> None:
    run = finished_run(tmp_path)
    path = run.dir / RESULT_FILE
    path.write_bytes(path.read_bytes()[:50])
    assert not is_finished(run.dir) and Run(tmp_path, "train", "mnli", {"seed": 1}).finished is None
    with pytest.raises(DamagedRunError, match=r"result\.json: a complete run result \(the file is truncated or damaged"):
        read_result(run.dir)
    with pytest.raises(DamagedRunError, match=r"result\.json"):
        encoder_provenance(run.dir)  # a run given as --init or --run is refused, never used blind


@pytest.mark.parametrize("damage", ["flip", "delete"])
def test_a_changed_or_missing_file_is_found_before_use(tmp_path: Path, damage: str) -> None:
    run = finished_run(tmp_path)
    weights = run.dir / "encoder" / "model.safetensors"
    if damage == "flip":
        data = bytearray(weights.read_bytes())
        data[10] ^= 1
        weights.write_bytes(bytes(data))
    else:
        (run.dir / "heads" / "mnli.safetensors").unlink()
        (run.dir / "heads" / "other.safetensors").write_bytes(b"")  # an extra file is not damage
    assert is_finished(run.dir)  # it parses: planning stays cheap
    assert Run(tmp_path, "train", "mnli", {"seed": 1}).finished is None  # reuse checks the hashes: rebuilt
    expected = r"model\.safetensors: sha256 \w+… differs from the \w+… recorded in" if damage == "flip" else r"mnli\.safetensors: missing"
    with pytest.raises(DamagedRunError, match=expected):
        run_encoder_path(run.dir)
    with pytest.raises(DamagedRunError, match=expected):
        verify_run(run.dir)
    # rebuilding replaces the damaged folder whole
    again = Run(tmp_path, "train", "mnli", {"seed": 1})
    with again.writing() as tmp:
        (tmp / "encoder").mkdir()
        (tmp / "encoder" / "model.safetensors").write_bytes(b"new")
        again.write(tmp, {"seed": 1}, model="m")
    assert sorted(p.relative_to(run.dir).as_posix() for p in run.dir.rglob("*") if p.is_file()) == ["encoder/model.safetensors", RESULT_FILE]
    assert again.finished is not None and not list(tmp_path.glob(".*"))


def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    import errno
    import os

    from xstilts.paths import DiskFullError, atomic_dir, atomic_write_bytes

    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError, match=r"x\.json: could not be written \(No space left on device: disk full"):
        atomic_write_bytes(tmp_path / "x.json", b"{}")
    monkeypatch.setattr(os, "fsync", real_fsync)
    with pytest.raises(DiskFullError, match=r"run-1: could not be written \(File too large"), atomic_dir(tmp_path / "run-1") as tmp:
        (tmp / "a").write_text("partial")
        raise RuntimeError("Error while serializing: I/O error: File too large (os error 27)")  # as safetensors says it
    assert list(tmp_path.iterdir()) == []


def test_a_run_id_never_leaves_its_folder(tmp_path: Path) -> None:
    from xstilts.paths import UnsafePathError

    with pytest.raises(UnsafePathError, match="run id"):
        Run(tmp_path, "train", "../outside", {"seed": 1})


def test_a_later_config_key_at_its_neutral_value_keeps_run_ids() -> None:
    from xstilts.runs import run_id

    before = {"train": {"lr": 1e-4}, "max_length": 128}
    same = {"train": {"lr": 1e-4, "tokenize_words": "xtreme"}, "max_length": 128, "tokenize_words": "xtreme"}
    assert run_id("train", "udpos", before) == run_id("train", "udpos", same)
    other = {"train": {"lr": 1e-4, "tokenize_words": "as_written"}, "max_length": 128}
    assert run_id("train", "udpos", before) != run_id("train", "udpos", other)
