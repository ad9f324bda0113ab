"""Encoder loading: the embedded default, the tiny test model, any hub id or a local folder.

Weights are read from safetensors only (``use_safetensors=True``): a pickled checkpoint is never
loaded. ``trust_remote_code`` stays off unless the user turns it on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xstilts.config import ConfigError
from xstilts.model_presets import find_preset, missing_packages
from xstilts.models.embedded import EMBEDDED_NAME, ensure_embedded_model
from xstilts.models.tiny import TINY_NAME, ensure_tiny_model


def resolve_model_path(name: str) -> str:
    """``embedded`` -> the converted cache folder; a folder -> itself; a preset's name -> its hub id;
    anything else is a hub id."""
    if name == EMBEDDED_NAME:
        return str(ensure_embedded_model())
    if name == TINY_NAME:
        return str(ensure_tiny_model())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    preset = find_preset(name)
    return preset.hub_id if preset is not None and preset.hub_id else name


def check_tokenizer_needs(path: str) -> None:
    """A preset model whose tokenizer needs packages that are missing: one clear error before loading.

    mDeBERTa-v3 ships only ``spm.model``; without sentencepiece and protobuf transformers falls back to
    a tiktoken reader and fails with an error that names neither.
    """
    preset = find_preset(path)
    missing = missing_packages(preset) if preset is not None else []
    if preset is not None and missing:
        raise ConfigError(
            f"model {preset.name}: its tokenizer is built from a SentencePiece model and needs "
            f"{' and '.join(missing)}; install them (pip install {' '.join(missing)})"
        )


def quiet_transformers() -> None:
    """Logs are quiet by default: no weight-loading bars or info chatter from transformers."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_tokenizer(path: str, revision: str | None = None, trust_remote_code: bool = False) -> Any:
    from transformers import AutoTokenizer

    check_tokenizer_needs(path)
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
