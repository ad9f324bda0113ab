"""Sentence vectors from an encoder as it is: one hidden layer, pooled, L2-normalised.

BUCC and Tatoeba score the (intermediate-trained) encoder with no head (PAPER.md): mean pooling over
the attention mask, or the first token, of one configurable hidden layer. Published retrieval numbers
hinge on exactly these choices, so each is a parameter here and nothing is hidden: which layer
(``check_layer``), which pooling (``pool``) and which input prefix (``resolve_prefix``).

Example:
    >>> vecs = embed(["Der Hund schläft."], encoder, tokenizer, layer=14)  # doctest: +SKIP
    >>> vecs.shape  # doctest: +SKIP
    (1, 1024)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from xstilts.config import ConfigError
from xstilts.formats.base import attention_mask, pad_sequences
from xstilts.models.embedded import EMBEDDED_NAME
from xstilts.models.embedded import MANIFEST as EMBEDDED_MANIFEST

E5_PREFIX = "query: "
_E5_NAME = re.compile(r"(^|[^a-z0-9])e5([^a-z0-9]|$)")


def is_e5_model(names: Iterable[str], folder: str | Path | None = None) -> bool:
    """Whether the encoder is an e5 model, which expects a ``query: ``/``passage: `` prefix.

    The embedded model (name ``embedded``, or a folder carrying its manifest) is e5-small; any other
    model counts as e5 when one of its names has ``e5`` as a word (``intfloat/multilingual-e5-large``).
    """
    for name in names:
        low = str(name).lower()
        if low == EMBEDDED_NAME or _E5_NAME.search(low):
            return True
    return folder is not None and (Path(folder) / EMBEDDED_MANIFEST).is_file()


def resolve_prefix(prefix: str, names: Iterable[str], folder: str | Path | None = None) -> str:
    """The text put before every sentence, on both sides.

    ``auto``: ``query: `` for e5 models (e5's advice for symmetric tasks such as bitext retrieval,
    and the same on both sides so neither language is embedded differently), nothing otherwise.
    ``""`` turns prefixes off; any other string is used verbatim.
    """
    if prefix != "auto":
        return prefix
    return E5_PREFIX if is_e5_model(names, folder) else ""


def num_hidden_states(encoder: Any) -> int:
    """Embeddings plus one per layer: the length of ``output_hidden_states``."""
    return int(encoder.config.num_hidden_layers) + 1


def check_layer(layer: int, n_states: int) -> int:
    """``layer`` as a non-negative index into the hidden states, or a clear error."""
    if not -n_states <= layer < n_states:
        raise ConfigError(
            f"retrieval.layer={layer}: the encoder has {n_states - 1} layers, so a layer in "
            f"[{-n_states}, {n_states - 1}] (0 = embeddings, -1 = last)"
        )
    return layer % n_states


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """Mean over the attention mask (special tokens included, as jiant did) or the first token."""
    if pooling == "cls":
        return hidden[..., 0, :]
    if pooling != "mean":
        raise ConfigError(f"retrieval.pooling={pooling!r}: mean or cls")
    m = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * m).sum(-2) / m.sum(-2).clamp(min=1.0)


def embed(
    texts: Sequence[str],
    encoder: Any,
    tokenizer: Any,
    layer: int | Literal["all"] = -1,
    pooling: str = "mean",
    max_length: int = 128,
    batch_size: int = 64,
    prefix: str = "",
    device: torch.device | str | None = None,
    progress: Any = None,
    description: str = "embed",
) -> np.ndarray:
    """L2-normalised pooled vectors, float32: ``(n, d)``, or ``(layers + 1, n, d)`` for ``layer="all"``.

    ``"all"`` pools every hidden state of the same forward pass, so a layer sweep costs one pass.
    Batches are formed from length-sorted inputs (little padding) and the original order is restored.
    Runs in fp32 so that numbers do not depend on the card.
    """
    n_states = num_hidden_states(encoder)
    index = None if layer == "all" else check_layer(int(layer), n_states)
    device = torch.device(device) if device is not None else next(encoder.parameters()).device
    width = int(encoder.config.hidden_size)
    shape = (n_states, len(texts), width) if index is None else (len(texts), width)
    out = np.zeros(shape, dtype=np.float32)
    if not texts:
        return out
    ids = tokenizer([prefix + t for t in texts], truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    task_id = progress.add_task(description, total=len(order)) if progress is not None else None
    encoder.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            seqs = [ids[i] for i in rows]
            mask = attention_mask(seqs).to(device)
            hidden = encoder(input_ids=pad_sequences(seqs, pad_id).to(device), attention_mask=mask, output_hidden_states=True).hidden_states
            if index is None:
                vecs = pool(torch.stack(hidden), mask, pooling)  # (states, batch, d)
                out[:, rows] = torch.nn.functional.normalize(vecs.float(), dim=-1).cpu().numpy()
            else:
                vecs = pool(hidden[index], mask, pooling)
                out[rows] = torch.nn.functional.normalize(vecs.float(), dim=-1).cpu().numpy()
            if task_id is not None:
                progress.advance(task_id, len(rows))
    if task_id is not None:
        progress.remove_task(task_id)
    return out
