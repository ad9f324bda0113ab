"""Single-sentence and sentence-pair classification (NLI, paraphrase, XNLI, PAWS-X).

Head: dense -> tanh -> dropout -> linear on the first token, as RoBERTa/XLM-R classifiers do.
Metric: accuracy over the labeled examples. Predictions: one label name per line, read as the gold
reader reads labels: by name or by one of the task's aliases (NLI's ``e``/``n``/``c``), so a file the
gold reader would accept scores the same, and a name outside the label set is an error, never a
silent miss.

Probe (``xstilts rank``): one unit per labelled example, pooled as the head reads it; label = the class.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from xstilts.data.plain import LABEL_COLUMNS, UNLABELED, LabelCheck
from xstilts.data.schema import ClassificationExample, DataError, Example
from xstilts.formats.base import (
    Feature,
    Format,
    SplitCounts,
    TaskSpec,
    TokenizeWords,
    encoder_inputs,
    label_accuracy,
    prediction_lines,
    register_format,
    text_counts,
    write_lines,
)
from xstilts.formats.probe import Pooling, ProbeUnits, sentence_vectors

#: (first text, second text) column pairs accepted for classification, first match wins
TEXT_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("premise", "hypothesis"),
    ("context", "statement"),
    ("context", "hypothesis"),
    ("sentence1", "sentence2"),
    ("question1", "question2"),
    ("sentence", None),
    ("text", None),
)


def classification_row(task: TaskSpec, row: dict[str, Any], path: Path, line: int, index: int) -> ClassificationExample | None:
    """One row with a text column pair (see TEXT_COLUMNS) and a label matched by name, never position."""
    pair = next(((a, b) for a, b in TEXT_COLUMNS if a in row and (b is None or b in row)), None)
    if pair is None:
        wanted = "; ".join(f"{a}, {b}" if b else a for a, b in TEXT_COLUMNS)
        raise DataError(path, line, f"text columns for a {task.name} row ({wanted}); the row has {', '.join(row)}")
    a, b = pair
    lab = next((c for c in LABEL_COLUMNS if c in row), "label")
    text_a = row[a]
    text_b = row[b] if b else None
    raw_label = row.get(lab)
    label = None
    if raw_label is not None and str(raw_label).strip() not in UNLABELED:
        label = task.canonical_label(str(raw_label))
        if label is None:
            allowed = ", ".join(task.labels or ())
            raise DataError(path, line, f"a label in {{{allowed}}} (or an alias), found {raw_label!r}")
    if not isinstance(text_a, str) or (b and not isinstance(text_b, str)):
        raise DataError(path, line, f"text in columns {a}" + (f" and {b}" if b else ""))
    used = {a, b, lab}
    meta = {k: v for k, v in row.items() if k not in used and k not in {"id", "uid", "pairID"}}
    ex_id = str(row.get("id") or row.get("uid") or row.get("pairID") or f"{path.stem}-{index}")
    return ClassificationExample(id=ex_id, text_a=text_a, text_b=text_b, label=label, meta=meta)


def classification_rows(task: TaskSpec, rows: Iterable[tuple[int, dict[str, Any]]], path: Path) -> list[Example]:
    """Release files: numbered rows through :func:`classification_row`; an empty label among labels fails."""
    out: list[Example] = []
    labels = LabelCheck(path)
    for i, (line, row) in enumerate(rows):
        ex = classification_row(task, row, path, line, i)
        if ex is not None:
            labels.see(ex, row, line)
            out.append(ex)
    return out


def label_name(task: TaskSpec | None, raw: str, path: Path, line: int) -> str:
    """A predicted label as the gold reader reads labels (aliases mapped); outside the set, an error."""
    if task is None or task.labels is None:
        return raw
    label = task.canonical_label(raw)
    if label is None:
        raise DataError(path, line, f"a label in {{{', '.join(task.labels)}}} (or an alias), found {raw!r}")
    return label


class ClassificationHead(nn.Module):
    def __init__(self, hidden_size: int, num_labels: int, dropout: float) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = self.dropout(hidden[:, 0])
        x = self.dropout(torch.tanh(self.dense(x)))
        return self.out_proj(x)


class Classification(Format):
    name = "classification"
    trainable = True
    prediction_suffix = ".txt"
    read_row = staticmethod(classification_row)
    probe_unit = "example"

    def __init__(self, task: TaskSpec | None = None) -> None:
        self.task = task

    def bind(self, task: TaskSpec) -> Classification:
        """The format reading predictions against ``task``'s label names and aliases."""
        return self if task is self.task else Classification(task)

    def counts(self, examples: Sequence[ClassificationExample]) -> SplitCounts:
        return text_counts(self, examples, [t for ex in examples for t in (ex.text_a, ex.text_b) if t])

    def chance(self, task: TaskSpec) -> float | None:
        return 1.0 / len(task.labels) if task.labels else None

    def head(self, hidden_size: int, num_labels: int, dropout: float) -> nn.Module:
        return ClassificationHead(hidden_size, num_labels, dropout)

    def label_list(self, task: TaskSpec, examples: Sequence[ClassificationExample]) -> list[str]:
        if task.labels is not None:
            return list(task.labels)
        return sorted({ex.label for ex in examples if ex.label is not None})

    def featurize(self, examples: Sequence[ClassificationExample], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int, tokenize_words: TokenizeWords = "xtreme") -> list[Feature]:
        index = {name: i for i, name in enumerate(labels)}
        pairs = any(ex.text_b is not None for ex in examples)
        firsts = [ex.text_a for ex in examples]
        seconds = [ex.text_b or "" for ex in examples] if pairs else None
        enc = tokenizer(firsts, seconds, truncation=True, max_length=max_length)
        feats: list[Feature] = []
        for i, ex in enumerate(examples):
            ids = enc["input_ids"][i]
            label = index.get(ex.label, -100) if ex.label is not None else -100
            feats.append({"input_ids": ids, "label": label, "ex": i, "len": len(ids)})
        return feats

    def collate(self, features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
        return {**encoder_inputs(features, pad_id), "labels": torch.tensor([f["label"] for f in features], dtype=torch.long)}

    def loss(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return nn.functional.cross_entropy(logits.float(), batch["labels"], ignore_index=-100)

    def outputs(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[Any]:
        return logits.float().argmax(-1).tolist()

    def decode(self, examples: Sequence[ClassificationExample], features: Sequence[Feature], outputs: Sequence[Any], labels: list[str]) -> dict[str, str]:
        return {examples[f["ex"]].id: labels[o] for f, o in zip(features, outputs, strict=True)}

    def probe_units(self, chunk: Sequence[Feature], batch: dict[str, torch.Tensor], hidden: torch.Tensor, pooling: Pooling) -> ProbeUnits:
        """One unit per labelled example: the first token's state (what the head reads), or the mean
        over the attention mask with ``pooling="mean"``; label = the class index."""
        keep = batch["labels"] != -100
        return sentence_vectors(hidden, batch["attention_mask"], pooling)[keep], batch["labels"][keep]

    def score(self, examples: Sequence[ClassificationExample], predictions: dict[str, str], language: str) -> dict[str, float]:
        return label_accuracy(examples, predictions)

    def write_predictions(self, path: Path, examples: Sequence[ClassificationExample], predictions: dict[str, str]) -> None:
        write_lines(path, examples, predictions)

    def read_predictions(self, path: Path, examples: Sequence[ClassificationExample]) -> dict[str, str]:
        lines = prediction_lines(path, examples, "label")
        out: dict[str, str] = {}
        for no, (ex, line) in enumerate(zip(examples, lines, strict=True), start=1):
            if not line.strip() or "\t" in line.strip():
                raise DataError(path, no, "a single label on the line")
            out[ex.id] = label_name(self.task, line.strip(), path, no)
        return out


FORMAT = register_format(Classification())
