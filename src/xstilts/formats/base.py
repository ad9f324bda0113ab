"""What every task format provides, and the registry that maps a format name to its module.

A format owns its head, its featurisation and collation, its decoding and its metric. Training and
evaluation code call these hooks and never switch on the format themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from xstilts.data.schema import Example
from xstilts.tasks.base import Task

Feature = dict[str, Any]


class Format(Protocol):
    name: str

    def head(self, hidden_size: int, num_labels: int, dropout: float) -> nn.Module:
        """A fresh head; it maps encoder hidden states (and the batch) to logits."""

    def label_list(self, task: Task, examples: Sequence[Example]) -> list[str]:
        """The label names the head predicts (the task's, or those seen in training data)."""

    def featurize(self, examples: Sequence[Example], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int) -> list[Feature]:
        """Tokenise once; each feature remembers its example index (``ex``) and its length (``len``)."""

    def collate(self, features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
        """Pad a batch to its own longest member (dynamic padding)."""

    def loss(self, logits: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor: ...

    def outputs(self, logits: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        """Per-feature raw outputs kept on CPU for decoding."""

    def decode(self, examples: Sequence[Example], features: Sequence[Feature], outputs: Sequence[Any], labels: list[str]) -> dict[str, Any]:
        """Per-example predictions keyed by example id."""

    def score(self, examples: Sequence[Example], predictions: dict[str, Any], language: str) -> dict[str, float]:
        """Metrics on the 0-100 scale; the task's primary metric among them."""

    def write_predictions(self, path: Path, examples: Sequence[Example], predictions: dict[str, Any]) -> None: ...

    def read_predictions(self, path: Path, examples: Sequence[Example]) -> dict[str, Any]: ...


_FORMATS: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    if fmt.name in _FORMATS:
        raise ValueError(f"duplicate format {fmt.name!r}")
    _FORMATS[fmt.name] = fmt
    return fmt


def get_format(name: str) -> Format:
    import importlib

    if name not in _FORMATS:
        try:
            importlib.import_module(f"xstilts.formats.{name}")
        except ModuleNotFoundError:
            raise KeyError(f"no format module for {name!r}") from None
    return _FORMATS[name]


def first_token_pool(hidden: torch.Tensor) -> torch.Tensor:
    return hidden[:, 0]


def pad_sequences(seqs: Sequence[Sequence[int]], pad: int) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


def attention_mask(seqs: Sequence[Sequence[int]]) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = 1
    return out
