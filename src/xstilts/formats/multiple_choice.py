"""Multiple choice (HellaSwag, CosmosQA, CommonsenseQA): one shared scorer over (context, choice) pairs.

Each choice is encoded as the pair (context [+ " " + question], choice); a linear scorer on the first
token gives one number per pair and a softmax over the choices picks the answer. The encoder only
takes (rows, tokens), so :meth:`MultipleChoice.collate` flattens (batch, choices, tokens) into
(batch * choices, tokens) and the head folds the scores back to (batch, choices).

A feature keeps its choices concatenated in ``input_ids`` with their lengths in ``choice_lens``: the
feature cache stores flat integer lists, not lists of lists. Every example of a task must have the
same number of choices, which is also the size of the label list.

Rows: ``context`` is what stands before the choices and ``question`` the text that runs into each of
them (CosmosQA: passage / question; HellaSwag: ``ctx_a`` / ``ctx_b``; CommonsenseQA: the question /
empty). Plain JSONL uses the hub datasets' own field names, so one reader serves files and hub rows.

Probe (``xstilts rank``): one unit per (context, choice) row, pooled as the scorer reads it; label =
whether the choice is the correct one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from xstilts.data.plain import UNLABELED, read_rows
from xstilts.data.schema import DataError, MultipleChoiceExample
from xstilts.formats.base import (
    Feature,
    Format,
    SplitCounts,
    TaskSpec,
    TokenizeWords,
    attention_mask,
    label_accuracy,
    pad_sequences,
    prediction_lines,
    register_format,
    text_counts,
    write_lines,
)
from xstilts.formats.probe import Pooling, ProbeUnits, sentence_vectors

_ANSWER_PREFIXES = ("answer", "ending")


def _choice_index(raw: Any, n: int, path: object, line: int | None) -> int | None:
    if raw is None or str(raw).strip() in UNLABELED:
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise DataError(path, line, f"a choice index 0..{n - 1} as the label, found {raw!r}") from None
    if not 0 <= value < n:
        raise DataError(path, line, f"a choice index 0..{n - 1} as the label, found {value}")
    return value


def _letter_index(key: Any, labels: list[str], path: object, line: int | None) -> int | None:
    if key is None or str(key).strip() in UNLABELED:
        return None
    key = str(key).strip()
    if key not in labels:
        raise DataError(path, line, f"an answerKey among the choice labels {', '.join(labels)}, found {key!r}")
    return labels.index(key)


def choice_example(row: Mapping[str, Any], path: object, line: int | None, default_id: str) -> MultipleChoiceExample:
    """One multiple-choice row in any of the supported layouts (see the module docstring)."""
    meta: dict[str, Any] = {}
    if isinstance(row.get("choices"), list) and "context" in row:
        # the generic JSONL layout: context, question (optional), choices as a list, label as an index
        choices = [str(c) for c in row["choices"]]
        if not choices:
            raise DataError(path, line, "choices as a non-empty list")
        label = _choice_index(row.get("label"), len(choices), path, line)
        return MultipleChoiceExample(str(row.get("id") or default_id), str(row["context"]), str(row.get("question") or ""), choices, label, meta)
    if "choices" in row or isinstance(row.get("question"), Mapping):
        # CommonsenseQA: the hub's flat layout or the release's nested {stem, choices: [{label, text}]}
        q = row["question"]
        if isinstance(q, Mapping):
            stem, choices, concept = q.get("stem"), q.get("choices"), q.get("question_concept")
            labels = [str(c["label"]) for c in choices or []]
            texts = [str(c["text"]) for c in choices or []]
        else:
            stem, choices, concept = q, row.get("choices"), row.get("question_concept")
            if not isinstance(choices, Mapping):
                raise DataError(path, line, "choices as {label: [...], text: [...]}")
            labels, texts = [str(x) for x in choices.get("label", [])], [str(x) for x in choices.get("text", [])]
        if not isinstance(stem, str) or not texts or len(labels) != len(texts):
            raise DataError(path, line, "a question string and choices with one label per text")
        if concept is not None:
            meta["question_concept"] = concept
        label = _letter_index(row.get("answerKey"), labels, path, line)
        return MultipleChoiceExample(str(row.get("id") or default_id), stem, "", texts, label, meta)
    if "endings" in row:
        # HellaSwag: ctx_a is the context, ctx_b the start of the sentence every ending completes
        endings = row["endings"]
        if not isinstance(endings, list) or not endings:
            raise DataError(path, line, "endings as a non-empty list")
        if row.get("ctx_a") is not None and row.get("ctx_b") is not None:
            context, question = str(row["ctx_a"]), str(row["ctx_b"])
        elif row.get("ctx") is not None:
            context, question = str(row["ctx"]), ""
        else:
            raise DataError(path, line, "ctx_a and ctx_b, or ctx")
        for key in ("activity_label", "split_type", "source_id"):
            if row.get(key) is not None:
                meta[key] = row[key]
        ex_id = str(row["ind"]) if row.get("ind") is not None else str(row.get("id") or default_id)
        label = _choice_index(row.get("label"), len(endings), path, line)
        return MultipleChoiceExample(ex_id, context, question, [str(e) for e in endings], label, meta)
    # columns: context (or SWAG's sent1), question (or sent2, optional), answer0..N (or ending0..N), label
    prefix = next((p for p in _ANSWER_PREFIXES if f"{p}0" in row), None)
    if prefix is None:
        have = ", ".join(row)
        raise DataError(path, line, f"answer0..answerN columns (or endings/choices in JSONL); the row has {have}")
    n = 0
    while f"{prefix}{n}" in row:
        n += 1
    choices = [str(row[f"{prefix}{i}"]) for i in range(n)]
    context = row.get("context", row.get("sent1"))
    if context is None:
        raise DataError(path, line, f"a context column; the row has {', '.join(row)}")
    question = row.get("question", row.get("sent2")) or ""
    label = _choice_index(row.get("label"), n, path, line)
    return MultipleChoiceExample(str(row.get("id") or default_id), str(context), str(question), choices, label, meta)


def choice_row(task: TaskSpec, row: dict[str, Any], path: Path, line: int, index: int) -> MultipleChoiceExample:
    return choice_example(row, path, line, f"{path.stem}-{index}")


def read_choice_file(task: TaskSpec, path: Path) -> list[MultipleChoiceExample]:
    """A plain-named file whose rows all have the first row's number of choices (the head's size)."""
    first: list[int] = []

    def row(task: TaskSpec, r: dict[str, Any], path: Path, line: int, index: int) -> MultipleChoiceExample:
        ex = choice_row(task, r, path, line, index)
        if not first:
            first.append(len(ex.choices))
        elif len(ex.choices) != first[0]:
            raise DataError(path, line, f"{first[0]} choices, as the first row has, found {len(ex.choices)}")
        return ex

    return read_rows(task, path, row)


def hub_choice_row(row: Mapping[str, Any], lang: str, i: int) -> MultipleChoiceExample:
    """Hub rows of Rowan/hellaswag, allenai/cosmos_qa and tau/commonsense_qa (label -1/"" = unlabeled)."""
    return choice_example(row, "hub row", i, f"{lang}-{i}")




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


class MultipleChoice(Format):
    name = "multiple_choice"
    trainable = True
    prediction_suffix = ".txt"
    read_row = staticmethod(choice_row)
    probe_unit = "choice (correct or not)"

    def read_file(self, task: TaskSpec, path: Path) -> list[MultipleChoiceExample]:
        return read_choice_file(task, path)

    def counts(self, examples: Sequence[MultipleChoiceExample]) -> SplitCounts:
        return text_counts(self, examples, [t for ex in examples for t in (ex.context, ex.question, *ex.choices) if t])

    def head(self, hidden_size: int, num_labels: int, dropout: float) -> nn.Module:
        return ChoiceHead(hidden_size, dropout)

    def label_list(self, task: TaskSpec, examples: Sequence[MultipleChoiceExample]) -> list[str]:
        return [str(i) for i in range(choice_count(examples))]

    def featurize(self, examples: Sequence[MultipleChoiceExample], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int, tokenize_words: TokenizeWords = "xtreme") -> list[Feature]:
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

    def probe_units(self, chunk: Sequence[Feature], batch: dict[str, torch.Tensor], hidden: torch.Tensor, pooling: Pooling) -> ProbeUnits:
        """One unit per (context, choice) row of a labelled example, pooled as for classification; label
        = 1 for the correct choice, 0 for the others. The collated batch holds each example's choices in turn."""
        rows = sentence_vectors(hidden, batch["attention_mask"], pooling)
        n = int(batch["n_choices"][0])
        gold = batch["labels"]
        correct = (torch.arange(n).expand(len(chunk), n) == gold[:, None]).long().flatten()
        keep = (gold != -100).repeat_interleave(n)
        return rows[keep], correct[keep]

    def score(self, examples: Sequence[MultipleChoiceExample], predictions: dict[str, int], language: str) -> dict[str, float]:
        return label_accuracy(examples, predictions)

    def write_predictions(self, path: Path, examples: Sequence[MultipleChoiceExample], predictions: dict[str, int]) -> None:
        write_lines(path, examples, predictions)

    def read_predictions(self, path: Path, examples: Sequence[MultipleChoiceExample]) -> dict[str, int]:
        lines = prediction_lines(path, examples, "choice index")
        out: dict[str, int] = {}
        for no, (ex, line) in enumerate(zip(examples, lines, strict=True), start=1):
            value = line.strip()
            if not (value.isascii() and value.isdigit()) or int(value) >= len(ex.choices):
                raise DataError(path, no, f"a choice index 0..{len(ex.choices) - 1}, found {value!r}")
            out[ex.id] = int(value)
        return out


FORMAT = register_format(MultipleChoice())
