"""Encoder loading: the embedded default, any hub id, a local folder, or an earlier run's encoder.

Weights are read from safetensors only (``use_safetensors=True``): a pickled checkpoint is never
loaded. ``trust_remote_code`` stays off unless the user turns it on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.models.embedded import EMBEDDED_NAME, ensure_embedded_model
from xstilts.models.tiny import TINY_NAME, ensure_tiny_model

ENCODER_DIR = "encoder"


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


def resolve_model_path(name: str) -> str:
    """``embedded`` -> the converted cache folder; a folder -> itself; anything else is a hub id."""
    if name == EMBEDDED_NAME:
        return str(ensure_embedded_model())
    if name == TINY_NAME:
        return str(ensure_tiny_model())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    return name


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def quiet_transformers() -> None:
    """Logs are quiet by default: no weight-loading bars or info chatter from transformers."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_tokenizer(path: str, revision: str | None = None, trust_remote_code: bool = False) -> Any:
    from transformers import AutoTokenizer

    quiet_transformers()
    return AutoTokenizer.from_pretrained(path, revision=revision, trust_remote_code=trust_remote_code)


def load_encoder(path: str, revision: str | None = None, trust_remote_code: bool = False, dropout: float | None = None) -> Any:
    """An ``AutoModel`` without a pooler (we never use it, and the embedded model has none)."""
    from transformers import AutoConfig, AutoModel

    quiet_transformers()
    config = AutoConfig.from_pretrained(path, revision=revision, trust_remote_code=trust_remote_code)
    if dropout is not None:
        for key in ("hidden_dropout_prob", "attention_probs_dropout_prob", "dropout", "attention_dropout"):
            if hasattr(config, key):
                setattr(config, key, dropout)
    kwargs: dict[str, Any] = {"config": config, "revision": revision, "trust_remote_code": trust_remote_code, "use_safetensors": True}
    try:
        return AutoModel.from_pretrained(path, add_pooling_layer=False, **kwargs)
    except TypeError:
        return AutoModel.from_pretrained(path, **kwargs)


def run_encoder_path(run_dir: Path) -> Path:
    """The encoder folder inside a finished run, checked to exist and hold safetensors weights."""
    folder = Path(run_dir) / ENCODER_DIR
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"{run_dir}: no finished encoder ({ENCODER_DIR}/model.safetensors) in this run")
    return folder


def encoder_provenance(run_dir: Path) -> Provenance:
    folder = run_encoder_path(run_dir)
    result = json.loads((Path(run_dir) / "result.json").read_text()) if (Path(run_dir) / "result.json").is_file() else {}
    return Provenance(
        model=result.get("model", str(folder)),
        parent_run=result.get("run_id", Path(run_dir).name),
        parent_task=result.get("task"),
        checkpoint_sha256=sha256_file(folder / "model.safetensors"),
    )
