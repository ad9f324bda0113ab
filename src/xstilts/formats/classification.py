"""Single-sentence and sentence-pair classification (NLI, paraphrase, XNLI, PAWS-X).

Head: dense -> tanh -> dropout -> linear on the first token, as RoBERTa/XLM-R classifiers do.
Metric: accuracy over the labeled examples. Predictions: one label name per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from xstilts.data.schema import ClassificationExample, DataError
from xstilts.formats.base import Feature, attention_mask, pad_sequences, register_format
from xstilts.paths import atomic_write_text
from xstilts.tasks.base import Task


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


class Classification:
    name = "classification"

    def head(self, hidden_size: int, num_labels: int, dropout: float) -> nn.Module:
        return ClassificationHead(hidden_size, num_labels, dropout)

    def label_list(self, task: Task, examples: Sequence[ClassificationExample]) -> list[str]:
        if task.labels is not None:
            return list(task.labels)
        return sorted({ex.label for ex in examples if ex.label is not None})

    def featurize(self, examples: Sequence[ClassificationExample], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int) -> list[Feature]:
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
        ids = [f["input_ids"] for f in features]
        return {
            "input_ids": pad_sequences(ids, pad_id),
            "attention_mask": attention_mask(ids),
            "labels": torch.tensor([f["label"] for f in features], dtype=torch.long),
        }

    def loss(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return nn.functional.cross_entropy(logits.float(), batch["labels"], ignore_index=-100)

    def outputs(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[Any]:
        return logits.float().argmax(-1).tolist()

    def decode(self, examples: Sequence[ClassificationExample], features: Sequence[Feature], outputs: Sequence[Any], labels: list[str]) -> dict[str, str]:
        return {examples[f["ex"]].id: labels[o] for f, o in zip(features, outputs, strict=True)}

    def score(self, examples: Sequence[ClassificationExample], predictions: dict[str, str], language: str) -> dict[str, float]:
        gold = [(ex.label, predictions.get(ex.id)) for ex in examples if ex.label is not None]
        if not gold:
            return {}
        correct = sum(g == p for g, p in gold)
        return {"accuracy": 100.0 * correct / len(gold), "n": float(len(gold))}

    def write_predictions(self, path: Path, examples: Sequence[ClassificationExample], predictions: dict[str, str]) -> None:
        atomic_write_text(path, "".join(f"{predictions[ex.id]}\n" for ex in examples))

    def read_predictions(self, path: Path, examples: Sequence[ClassificationExample]) -> dict[str, str]:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        if len(lines) != len(examples):
            raise DataError(path, len(lines), f"one label per line for {len(examples)} examples, found {len(lines)} lines")
        for no, line in enumerate(lines, start=1):
            if not line.strip() or "\t" in line.strip():
                raise DataError(path, no, "a single label on the line")
        return {ex.id: line.strip() for ex, line in zip(examples, lines, strict=True)}


FORMAT = register_format(Classification())
