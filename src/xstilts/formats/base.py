"""What every task format provides, and the registry that maps a format name to its module.

A format owns everything that depends on the kind of task: reading plain files into examples, which
examples carry gold, what ``data stats`` counts, prediction files, the metric and how a language's
score is read off it, the per-example units a bootstrap resamples, and, for formats that train, the
head, featurisation, collation and decoding. Nothing outside ``xstilts.formats`` switches on a format.

Formats sit below tasks: a task module uses its format's row readers for its release files, and a
format sees a task only through :class:`TaskSpec`, the few fields it reads.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from xstilts.config import TokenizeWords
from xstilts.data.files import read_text
from xstilts.data.plain import read_rows
from xstilts.data.schema import DataError, Example
from xstilts.formats.probe import NoProbe, Pooling, ProbeUnits

Feature = dict[str, Any]


class TaskSpec(Protocol):
    """What a format reads of a task (``xstilts.tasks.base.Task`` has it): formats import no task."""

    @property
    def name(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def labels(self) -> tuple[str, ...] | None: ...
    @property
    def metric(self) -> str: ...
    @property
    def metric_variant(self) -> str | None: ...
    @property
    def label_map(self) -> Mapping[str, str]: ...

    def canonical_label(self, raw: str) -> str | None: ...



@dataclass
class SplitCounts:
    """What ``xstilts data stats`` reports for one split: examples, labelled ones, sentences, tokens."""

    examples: int
    labeled: int
    sentences: int
    tokens: int


@dataclass
class Units:
    """One language of one run: unit ids, their statistics and how they aggregate.

    ``mean``: the language score is the mean of per-unit values (accuracy, QA's (EM+F1)/2, Tatoeba).
    ``f1``: it is 200·tp / (predicted + gold) summed over units (seqeval entities per sentence, BUCC
    pairs per source sentence), which is not a mean of per-unit F1s.
    """

    ids: tuple[str, ...]
    stats: np.ndarray  # (n, 1) for "mean", (n, 3) tp / predicted / gold for "f1"
    rule: Literal["mean", "f1"]

    def score(self) -> float:
        return float(self.resampled(np.ones((1, len(self.ids))))[0])

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        """Language score under each row of bootstrap counts (how often each unit was drawn)."""
        sums = counts @ self.stats
        if self.rule == "mean":
            return sums[:, 0] / counts.sum(axis=1)
        denom = sums[:, 1] + sums[:, 2]
        return np.divide(200.0 * sums[:, 0], denom, out=np.zeros(len(counts)), where=denom > 0)


@runtime_checkable
class Format(Protocol):
    """The part every format has, trained or not: data, gold, predictions and metric.

    A format class names this protocol as its base to take the defaults below, which fit a format
    whose examples each carry one ``label`` scored by accuracy-like means; it overrides the rest.
    """

    name: str
    #: whether the format has a head and is fine-tuned (retrieval scores an encoder as it is)
    trainable: bool
    prediction_suffix: str

    def bind(self, task: TaskSpec) -> Format:
        """The format as ``task`` uses it (QA: SQuAD v1.1, SQuAD 2.0 or MLQA scoring)."""
        return self

    def read_row(self, task: TaskSpec, row: dict[str, Any], path: Path, line: int, index: int) -> Any:
        """One row of a plain-named file as an example (None skips it); labels matched by name."""
        ...

    def read_file(self, task: TaskSpec, path: Path) -> list[Any]:
        """Examples of a plain-named file (``<lang>.<split>.<ext>``), in any extension the format reads."""
        return read_rows(task, path, self.read_row)

    def collect(self, examples: list[Any], language: str) -> list[Any]:
        """A loaded split as the format holds it (retrieval: one parallel corpus, not single pairs)."""
        return examples

    def check_training(self, examples: Sequence[Any], source: str) -> None:
        """Refuse training examples that could teach nothing (a DataError naming ``source``)."""
        return None

    def has_gold(self, example: Any) -> bool:
        """Whether an example carries a gold answer: unlabeled ones never train and are never scored."""
        return getattr(example, "label", None) is not None

    def counts(self, examples: Sequence[Any]) -> SplitCounts: ...

    def score(self, examples: Sequence[Any], predictions: dict[str, Any], language: str) -> dict[str, float]:
        """Metrics on the 0-100 scale; the task's primary metric among them."""
        ...

    def language_score(self, task: TaskSpec, metrics: Mapping[str, float]) -> float | None:
        """One language's contribution to the task score, as XTREME reads it off the metrics."""
        return metric_score(task, metrics)

    def score_rule(self, task: TaskSpec) -> str:
        """How :meth:`language_score` reads the metrics, for tables (``accuracy``, ``(EM+F1)/2``)."""
        return task.metric

    def units(self, task: TaskSpec, examples: Sequence[Any], path: Path, language: str) -> Units:
        """Per-example units of a prediction file, for the paired bootstrap (default: per-example means)."""
        return mean_units(self, task, examples, self.read_predictions(path, examples), language)

    def chance(self, task: TaskSpec) -> float | None:
        """The score of guessing uniformly, where that is a meaningful floor (0-1 scale)."""
        return None

    def write_predictions(self, path: Path, examples: Sequence[Any], predictions: dict[str, Any]) -> None: ...

    def read_predictions(self, path: Path, examples: Sequence[Any]) -> dict[str, Any]: ...

    def export_text(self, path: Path) -> str:
        """A prediction file's text, checked to have the shape XTREME's submission layout expects."""
        return line_export(path, "one label per line")

    #: what one labelled unit of :meth:`probe_units` is, as ``xstilts rank`` reports it; None for a
    #: format with no labelled English units (retrieval)
    probe_unit: str | None = None

    def probe_units(self, chunk: Sequence[Feature], batch: dict[str, torch.Tensor], hidden: torch.Tensor, pooling: Pooling) -> ProbeUnits:
        """(features, labels) of every labelled unit in one collated batch, for ``xstilts rank``.

        ``chunk`` are the batch's features as :meth:`TrainableFormat.featurize` made them, ``batch``
        their collation and ``hidden`` the frozen encoder's last hidden state over it. A unit is what
        the format's head is trained on, so the probe asks how well the encoder separates the labels
        the target phase will fit; ``pooling`` says how a sentence-level unit reads ``hidden``.
        """
        raise NoProbe(f"the {self.name} format has no labelled English units to probe")


@runtime_checkable
class TrainableFormat(Format, Protocol):
    """A format with a head: what training and zero-shot prediction need on top of :class:`Format`."""

    def head(self, hidden_size: int, num_labels: int, dropout: float) -> nn.Module:
        """A fresh head; it maps encoder hidden states (and the batch) to logits."""

    def label_list(self, task: TaskSpec, examples: Sequence[Example]) -> list[str]:
        """The label names the head predicts (the task's, or those seen in training data)."""

    def featurize(
        self, examples: Sequence[Example], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int,
        tokenize_words: TokenizeWords = "xtreme",
    ) -> list[Feature]:
        """Tokenise once; each feature remembers its example index (``ex``) and its length (``len``).

        ``doc_stride`` matters to formats with windows (QA), ``tokenize_words`` to formats of pre-split
        words (tagging); the others ignore them.
        """

    def collate(self, features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
        """Pad a batch to its own longest member (dynamic padding)."""

    def loss(self, logits: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor: ...

    def outputs(self, logits: Any, batch: dict[str, torch.Tensor]) -> list[Any]:
        """Per-feature raw outputs kept on CPU for decoding."""

    def decode(self, examples: Sequence[Example], features: Sequence[Feature], outputs: Sequence[Any], labels: list[str]) -> dict[str, Any]:
        """Per-example predictions keyed by example id."""


class NotTrainable(ValueError):
    """A task of a format without a head (retrieval) was asked to train or predict."""


_FORMATS: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    if fmt.name in _FORMATS:
        raise ValueError(f"duplicate format {fmt.name!r}")
    _FORMATS[fmt.name] = fmt
    return fmt


def format_of(task: TaskSpec) -> Format:
    """The format ``task`` declares, bound to the task (its scoring variant)."""
    return get_format(task.format).bind(task)


def trainable_format(task: TaskSpec) -> TrainableFormat:
    """The task's format if it trains a head, else a clear error naming the task."""
    fmt = format_of(task)
    if not fmt.trainable or not isinstance(fmt, TrainableFormat):
        raise NotTrainable(f"{task.name} is a {fmt.name} task: it has no head to train or predict with")
    return fmt


def get_format(name: str) -> Format:
    import importlib

    if name not in _FORMATS:
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(f"xstilts.formats.{name}")
    if name not in _FORMATS:
        raise KeyError(f"no format named {name!r}; formats register themselves in xstilts.formats.<name>")
    return _FORMATS[name]


def first_token_pool(hidden: torch.Tensor) -> torch.Tensor:
    return hidden[:, 0]


def pad_sequences(seqs: Sequence[Sequence[int]], pad: int) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


def encoder_inputs(features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    """``input_ids`` padded to the batch's longest feature and their attention mask (dynamic padding)."""
    ids = [f["input_ids"] for f in features]
    return {"input_ids": pad_sequences(ids, pad_id), "attention_mask": attention_mask(ids)}


def write_lines(path: Path, examples: Sequence[Any], predictions: Mapping[str, Any]) -> None:
    """One prediction per line, in the examples' order (the ``score`` format of label tasks)."""
    from xstilts.paths import atomic_write_text

    atomic_write_text(path, "".join(f"{predictions[ex.id]}\n" for ex in examples))


def prediction_lines(path: Path, examples: Sequence[Any], what: str) -> list[str]:
    """A one-per-line prediction file's lines, one per example: trailing blank lines and a BOM dropped,
    a bad UTF-8 byte a DataError naming its line."""
    lines = read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) != len(examples):
        line = len(examples) + 1 if len(lines) > len(examples) else max(len(lines), 1)  # the first extra or the last line
        raise DataError(path, line, f"one {what} per line for {len(examples)} examples, found {len(lines)} lines")
    return lines


def attention_mask(seqs: Sequence[Sequence[int]]) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = 1
    return out


# ---------------------------------------------------------------------------------------------------
# Pieces several formats share; each format composes the ones it needs.


def metric_score(task: TaskSpec, metrics: Mapping[str, float]) -> float | None:
    """The task's metric read off one language's metrics (an XTREME task's is the one XTREME averages)."""
    value = metrics.get(task.metric)
    return None if value is None or math.isnan(value) else float(value)


def mean_units(fmt: Format, task: TaskSpec, examples: Sequence[Any], predictions: dict[str, Any], language: str) -> Units:
    """Units whose language score is the mean of per-example scores, each scored by the format itself."""
    gold = [ex for ex in examples if fmt.has_gold(ex)]
    values = [fmt.language_score(task, fmt.score([ex], predictions, language)) for ex in gold]
    stats = np.array([[v if v is not None else math.nan] for v in values], dtype=float)
    return Units(tuple(ex.id for ex in gold), stats, "mean")


def label_accuracy(examples: Sequence[Any], predictions: Mapping[str, Any]) -> dict[str, float]:
    """Accuracy over the examples that carry a ``label``; a missing prediction counts as wrong."""
    gold = [(ex.label, predictions.get(ex.id)) for ex in examples if ex.label is not None]
    if not gold:
        return {}
    correct = sum(g == p for g, p in gold)
    return {"accuracy": 100.0 * correct / len(gold), "n": float(len(gold))}


def word_count(texts: Sequence[str]) -> int:
    """Whitespace tokens of raw text: counts that describe the data, not any model's tokenizer."""
    return sum(len(t.split()) for t in texts)


def text_counts(fmt: Format, examples: Sequence[Any], texts: Sequence[str]) -> SplitCounts:
    return SplitCounts(len(examples), sum(map(fmt.has_gold, examples)), len(texts), word_count(texts))


def line_export(path: Path, expected: str, check: Any = None) -> str:
    """A one-value-per-line prediction file's text; ``check(value)`` is False for a malformed line."""
    text = Path(path).read_text(encoding="utf-8")
    for no, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if value and ("\t" in value or (check is not None and not check(value))):
            raise DataError(path, no, expected)
    return text if text.endswith("\n") or not text else text + "\n"
