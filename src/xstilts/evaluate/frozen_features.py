"""Frozen-encoder features of a task's English training data, for ranking intermediate tasks cheaply.

``xstilts rank`` asks, before any target phase is trained, how well each intermediate encoder's
features already separate the target's labels (LogME, H-score) and how close the intermediate
task's texts sit to the target's. Both read the encoder as it is, with no head and no training.

Examples go through the format's own ``featurize`` and ``collate``, so the encoder sees exactly the
inputs the target phase would give it (same pairing, truncation, windows, first-subword labels,
``train.tokenize_words``), and the features are the last hidden layer, the one a head reads. What one
labelled *unit* is, and its label, is the format's to say: :attr:`Format.probe_unit` names it and
:meth:`Format.probe_units` takes the units out of one batch's hidden states (an example, a word at its
first subword, a (context, choice) row, a context token; see each format). A format without labelled
English units (retrieval) has none, so asking raises :class:`NoProbe`: retrieval targets are scored
on the intermediate encoder directly, and a grid measures that at no training cost.

A task's text embedding (for task similarity) is the mean over its model inputs (one per example, or
per choice, or per QA window) of the L2-normalised mean-pooled last hidden state.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from xstilts.config import TokenizeWords
from xstilts.data.load import load_split
from xstilts.data.schema import DataError, Example
from xstilts.formats.base import Feature, TrainableFormat, format_of
from xstilts.formats.probe import NoProbe, Pooling
from xstilts.models import pooling
from xstilts.models.encoder import load_encoder, load_tokenizer
from xstilts.runtime.batches import sorted_batches
from xstilts.tasks.base import Task

#: a probe never holds more units than this (a seeded uniform draw beyond it), so LogME's SVD stays cheap
MAX_UNITS = 20000


@dataclass
class TaskData:
    """Labelled English training examples of one task, as the encoder will see them."""

    task: Task
    examples: list[Example]
    source: str
    max_length: int
    doc_stride: int
    #: the run config's ``train.tokenize_words``: units come from the tokenisation the target phase trains on
    tokenize_words: TokenizeWords = "xtreme"


@dataclass
class Probe:
    """Features of every labelled unit and its label (class index), from one encoder."""

    features: np.ndarray
    labels: np.ndarray
    unit: str
    examples: int


def training_examples(
    task: Task, data_dir: str | None, split: str | None, language: str, max_examples: int | None, seed: int,
    max_length: int, doc_stride: int, tokenize_words: TokenizeWords = "xtreme",
) -> TaskData:
    """The task's labelled training examples, a seeded sample of ``max_examples`` when there are more."""
    fmt = format_of(task)
    loaded = load_split(task, language, split or task.train_split, data_dir)
    examples = [ex for ex in loaded.examples if fmt.has_gold(ex)]
    if not examples:
        raise DataError(loaded.source, None, f"labelled {task.name} training examples, found none")
    if max_examples and len(examples) > max_examples:
        examples = random.Random(seed).sample(examples, max_examples)
    return TaskData(task, examples, loaded.source, max_length, doc_stride, tokenize_words)


# ---------------------------------------------------------------------------------------------------
# The encoder over a format's own batches


@dataclass
class FrozenEncoder:
    """An encoder folder loaded once, in eval mode, fp32, on ``device``."""

    encoder: Any
    tokenizer: Any
    device: torch.device
    batch_size: int = 32

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    def batches(self, fmt: TrainableFormat, feats: Sequence[Feature]) -> Iterator[tuple[list[Feature], dict[str, torch.Tensor], torch.Tensor]]:
        """(features, collated batch, last hidden state) in length-sorted batches."""
        with torch.inference_mode():
            for idx in sorted_batches(feats, self.batch_size):
                chunk = [feats[i] for i in idx]
                batch = fmt.collate(chunk, self.pad_id)
                hidden = self.encoder(
                    input_ids=batch["input_ids"].to(self.device), attention_mask=batch["attention_mask"].to(self.device)
                ).last_hidden_state.float().cpu()
                yield chunk, batch, hidden


def load_frozen(folder: str, device: torch.device, batch_size: int = 32, revision: str | None = None, trust_remote_code: bool = False) -> FrozenEncoder:
    tokenizer = load_tokenizer(folder, revision=revision, trust_remote_code=trust_remote_code)
    encoder = load_encoder(folder, revision=revision, trust_remote_code=trust_remote_code)
    encoder.to(device).eval()
    return FrozenEncoder(encoder, tokenizer, device, batch_size)


def featurize(data: TaskData, frozen: FrozenEncoder) -> tuple[TrainableFormat, list[Feature]]:
    fmt = format_of(data.task)
    if not fmt.trainable or not isinstance(fmt, TrainableFormat):
        raise NoProbe(f"{data.task.name} is a {fmt.name} task: it has no labelled English units to probe")
    labels = fmt.label_list(data.task, data.examples)
    return fmt, fmt.featurize(data.examples, frozen.tokenizer, labels, data.max_length, data.doc_stride, tokenize_words=data.tokenize_words)


# ---------------------------------------------------------------------------------------------------
# Units and labels: the format's own (see :meth:`Format.probe_units`)


def unit_of(task: Task) -> str:
    """What one probed unit is for ``task``; :class:`NoProbe` for a format without one."""
    unit = format_of(task).probe_unit
    if unit is None:
        raise NoProbe(f"{task.name} is a {task.format} task: it has no English training labels to probe")
    return unit


def probe(data: TaskData, frozen: FrozenEncoder, how: Pooling = "first", max_units: int = MAX_UNITS, seed: int = 0) -> Probe:
    """Every labelled unit's last-layer features from one encoder, as the task's format defines a unit."""
    unit = unit_of(data.task)
    fmt, feats = featurize(data, frozen)
    vecs, labels = [], []
    for chunk, batch, hidden in frozen.batches(fmt, feats):
        v, lab = fmt.probe_units(chunk, batch, hidden, how)
        vecs.append(v)
        labels.append(lab)
    features = torch.cat(vecs).numpy() if vecs else np.zeros((0, int(frozen.encoder.config.hidden_size)), dtype=np.float32)
    y = torch.cat(labels).numpy() if labels else np.zeros(0, dtype=np.int64)
    if len(y) > max_units:  # the same draw for every encoder: the units and their order do not depend on it
        keep = np.sort(np.random.default_rng(seed).choice(len(y), max_units, replace=False))
        features, y = features[keep], y[keep]
    return Probe(features, y, unit, len(data.examples))


def text_embedding(datasets: Sequence[TaskData], frozen: FrozenEncoder) -> np.ndarray:
    """Mean over every model input of the tasks of its L2-normalised, mean-pooled last hidden state."""
    total, count = None, 0
    for data in datasets:
        fmt, feats = featurize(data, frozen)
        for _, batch, hidden in frozen.batches(fmt, feats):
            rows = torch.nn.functional.normalize(pooling.pool(hidden, batch["attention_mask"], "mean"), dim=-1)
            total = rows.sum(0) if total is None else total + rows.sum(0)
            count += len(rows)
    if total is None or count == 0:
        raise DataError(", ".join(d.source for d in datasets), None, "at least one text to embed")
    return (total / count).double().numpy()
