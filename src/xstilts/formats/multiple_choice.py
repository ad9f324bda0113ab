"""Multiple choice (HellaSwag, CosmosQA, CommonsenseQA): one shared scorer over (context, choice) pairs.

Each choice is encoded as the pair (context [+ " " + question], choice); a linear scorer on the first
token gives one number per pair and a softmax over the choices picks the answer. The encoder only
takes (rows, tokens), so :meth:`MultipleChoice.collate` flattens (batch, choices, tokens) into
(batch * choices, tokens) and the head folds the scores back to (batch, choices).

A feature keeps its choices concatenated in ``input_ids`` with their lengths in ``choice_lens``: the
feature cache stores flat integer lists, not lists of lists. Every example of a task must have the
same number of choices, which is also the size of the label list.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from xstilts.data.schema import DataError, MultipleChoiceExample
from xstilts.formats.base import Feature, attention_mask, pad_sequences, register_format
from xstilts.paths import atomic_write_text
from xstilts.tasks.base import Task


def choice_count(examples: Sequence[MultipleChoiceExample]) -> int:
    """The one number of choices shared by all examples; a mix is an error, not something to pad."""
    counts = {len(ex.choices) for ex in examples}
    if len(counts) != 1:
        by_count = {n: next(ex.id for ex in examples if len(ex.choices) == n) for n in sorted(counts)}
        raise ValueError(f"multiple-choice examples must all have the same number of choices; found {by_count} (count: example id)")
    return counts.pop()


class ChoiceHead(nn.Module):
    def __init__(self, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.scorer = nn.Linear(hidden_size, 1)

    def forward(self, hidden: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        scores = self.scorer(self.dropout(hidden[:, 0])).squeeze(-1)
        return scores.view(batch["n_choices"].shape[0], -1)


class MultipleChoice:
    name = "multiple_choice"
    prediction_suffix = ".txt"

    def head(self, hidden_size: int, num_labels: int, dropout: float) -> nn.Module:
        return ChoiceHead(hidden_size, dropout)

    def label_list(self, task: Task, examples: Sequence[MultipleChoiceExample]) -> list[str]:
        return [str(i) for i in range(choice_count(examples))]

    def featurize(self, examples: Sequence[MultipleChoiceExample], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int) -> list[Feature]:
        n = choice_count(examples) if examples else len(labels)
        if n != len(labels):
            raise ValueError(f"examples have {n} choices but the head was built for {len(labels)}")
        firsts = [" ".join(part for part in (ex.context, ex.question) if part) for ex in examples for _ in ex.choices]
        seconds = [choice for ex in examples for choice in ex.choices]
        enc = tokenizer(firsts, seconds, truncation=True, max_length=max_length) if firsts else {"input_ids": []}
        feats: list[Feature] = []
        for i, ex in enumerate(examples):
            rows = enc["input_ids"][i * n : (i + 1) * n]
            feats.append({
                "input_ids": [t for row in rows for t in row],
                "choice_lens": [len(row) for row in rows],
                "label": ex.label if ex.label is not None else -100,
                "ex": i,
                "len": max(len(row) for row in rows),
            })
        return feats

    def collate(self, features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
        counts = {len(f["choice_lens"]) for f in features}
        if len(counts) != 1:
            raise ValueError(f"a batch mixes examples with {sorted(counts)} choices")
        rows: list[list[int]] = []
        for f in features:
            pos = 0
            for n in f["choice_lens"]:
                rows.append(list(f["input_ids"][pos : pos + n]))
                pos += n
        return {
            "input_ids": pad_sequences(rows, pad_id),
            "attention_mask": attention_mask(rows),
            "labels": torch.tensor([f["label"] for f in features], dtype=torch.long),
            "n_choices": torch.full((len(features),), counts.pop(), dtype=torch.long),
        }

    def loss(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        target = batch["labels"]
        total = nn.functional.cross_entropy(logits.float(), target, ignore_index=-100, reduction="sum")
        return total / (target != -100).sum().clamp(min=1)

    def outputs(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[Any]:
        return logits.float().argmax(-1).tolist()

    def decode(self, examples: Sequence[MultipleChoiceExample], features: Sequence[Feature], outputs: Sequence[Any], labels: list[str]) -> dict[str, int]:
        return {examples[f["ex"]].id: int(o) for f, o in zip(features, outputs, strict=True)}

    def score(self, examples: Sequence[MultipleChoiceExample], predictions: dict[str, int], language: str) -> dict[str, float]:
        gold = [(ex.label, predictions.get(ex.id)) for ex in examples if ex.label is not None]
        if not gold:
            return {}
        correct = sum(g == p for g, p in gold)
        return {"accuracy": 100.0 * correct / len(gold), "n": float(len(gold))}

    def write_predictions(self, path: Path, examples: Sequence[MultipleChoiceExample], predictions: dict[str, int]) -> None:
        atomic_write_text(path, "".join(f"{predictions[ex.id]}\n" for ex in examples))

    def read_predictions(self, path: Path, examples: Sequence[MultipleChoiceExample]) -> dict[str, int]:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        if len(lines) != len(examples):
            raise DataError(path, None, f"one choice index per line for {len(examples)} examples, found {len(lines)} lines")
        out: dict[str, int] = {}
        for no, (ex, line) in enumerate(zip(examples, lines, strict=True), start=1):
            value = line.strip()
            if not value.isdigit() or int(value) >= len(ex.choices):
                raise DataError(path, no, f"a choice index 0..{len(ex.choices) - 1}")
            out[ex.id] = int(value)
        return out


FORMAT = register_format(MultipleChoice())
