"""Strict JSON out, no pickle and no unsafe YAML in, and no path built from data leaves its folder."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from tests.faults.conftest import Reference, stage_records
from tests.report.synthetic import write_run
from xstilts.config import ConfigError
from xstilts.experiment import store
from xstilts.experiment.grid import plan
from xstilts.paths import UnsafePathError, atomic_write_json, safe_child, safe_name, strict_json_dumps
from xstilts.runs import RunResult, read_result

SRC = Path(__file__).resolve().parents[2] / "src" / "xstilts"


def strict_load(text: str) -> object:
    """``json.loads`` that refuses NaN and ±Infinity, as strict parsers do."""
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))


def test_json_writers_turn_nan_and_inf_into_null(tmp_path: Path) -> None:
    obj = {
        "a": math.nan,
        "b": [math.inf, -math.inf, 1.5],
        "c": np.float32("nan"),
        "d": np.int64(3),
        "e": (1, None),
    }
    atomic_write_json(tmp_path / "x.json", obj)
    assert strict_load((tmp_path / "x.json").read_text()) == {
        "a": None,
        "b": [None, None, 1.5],
        "c": None,
        "d": 3,
        "e": [1, None],
    }
    assert strict_json_dumps([math.nan], indent=None) == "[null]"


def test_a_nan_metric_is_written_as_null_and_read_back_as_nan(tmp_path: Path) -> None:
    rid = write_run(tmp_path, "pawsx", "none", 0, {"en": {"accuracy": math.nan}, "de": {"accuracy": 50.0}})
    raw = strict_load((tmp_path / rid / "result.json").read_text())
    assert raw["metrics"]["en"]["accuracy"] is None and raw["average"]["accuracy"] is None
    result = read_result(tmp_path / rid)
    assert math.isnan(result.metrics["en"]["accuracy"]) and result.metrics["de"]["accuracy"] == 50.0
    rows = store.query(tmp_path).to_dict(orient="records")  # what `results --format json` prints
    assert any(
        isinstance(r["value"], float) and math.isnan(r["value"]) for r in rows
    )  # pandas holds the NULL as NaN
    printed = {(r["language"], r["metric"]): r["value"] for r in strict_load(strict_json_dumps(rows))}
    assert printed == {("de", "accuracy"): 50.0, ("en", "accuracy"): None, ("average", "accuracy"): None}


def test_every_json_file_a_grid_writes_is_strict(reference: Reference) -> None:
    files = [p for p in reference.out.rglob("*.json")]
    assert any(p.name == "result.json" for p in files) and any(p.parent.name == "stages" for p in files)
    for path in files:
        strict_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["en", "zh-Hant", "run-abc_1.2", "<script>"])
def test_plain_names_pass(name: str) -> None:
    assert safe_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", "/etc", "C:x", "a\0b"])
def test_names_that_would_leave_their_folder_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError, match="a plain name"):
        safe_name(name, "language")


@pytest.mark.parametrize(
    "rel", ["../outside", "a/../../b", "/etc/passwd", "\\\\server\\share", "C:\\x", "", "."]
)
def test_relative_paths_that_leave_their_folder_are_refused(rel: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError, match="a relative path inside"):
        safe_child(tmp_path, rel)


def test_safe_child_keeps_nested_relative_paths(tmp_path: Path) -> None:
    assert safe_child(tmp_path, "predictions/en.tsv") == tmp_path / "predictions" / "en.tsv"


def test_paths_read_from_run_files_stay_inside_the_run_folder(tmp_path: Path) -> None:
    rid = write_run(
        tmp_path, "pawsx", "none", 0, {"en": {"accuracy": 1.0}}, predictions={"en": "../../secret.txt"}
    )
    with pytest.raises(UnsafePathError, match="prediction file for en"):
        store.prediction_paths(tmp_path, rid)


def test_a_stage_record_naming_a_path_outside_is_ignored(reference: Reference, tmp_path: Path) -> None:
    from tests.faults import hooks

    spec = hooks.load_spec(reference.spec)
    key = plan(spec, tmp_path)[0].key
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / f"{key}.json").write_text(json.dumps({"run_id": "../" + reference.out.name}))
    assert plan(spec, tmp_path)[0].status == "todo"
    assert stage_records(tmp_path)  # the record is there, and was not followed


@pytest.mark.parametrize("loader", ["preset", "claims"])
def test_yaml_object_tags_are_refused_never_run(loader: str, tmp_path: Path) -> None:
    from xstilts.claims import load_claims
    from xstilts.presets import load_preset

    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f'name: !!python/object/apply:os.system ["touch {marker}"]\nclaims: []\n')
    with pytest.raises(ConfigError, match=r"evil\.yaml:1: valid YAML"):
        (load_preset if loader == "preset" else load_claims)(str(path))
    assert not marker.exists()


def test_no_pickle_anywhere_in_the_package() -> None:
    """Checkpoints are safetensors, caches are plain arrays, YAML is safe-loaded: nothing can run code on load."""
    banned = re.compile(r"(?:import|from)\s+(?:pickle|cPickle|dill|joblib|shelve|marshal)\b|pickle\.loads?\(|torch\.load\((?!.*weights_only\s*=\s*True)"
                        r"|allow_pickle\s*=\s*True|weights_only\s*=\s*False|use_safetensors\s*=\s*False|trust_remote_code\s*=\s*True"
                        r"|yaml\.(?:load|unsafe_load|full_load)\(|Loader\s*=\s*yaml\.(?:Loader|UnsafeLoader|FullLoader)")  # fmt: skip
    found = [f"{p.relative_to(SRC)}:{i}: {line.strip()}" for p in SRC.rglob("*.py")
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if banned.search(line)]  # fmt: skip
    assert found == []
    from xstilts.config import ModelConfig

    assert ModelConfig().trust_remote_code is False


def test_results_record_a_checksum_for_every_file(reference: Reference) -> None:
    for rec in stage_records(reference.out).values():
        run = reference.out / rec["run_id"]
        result: RunResult = read_result(run)
        on_disk = {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()} - {"result.json"}
        assert set(result.checksums) == on_disk and on_disk
