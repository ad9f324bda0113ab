"""Extractive QA (SQuAD v1.1/v2.0, XQuAD, MLQA, TyDiQA-GoldP): a start/end span head over context tokens.

Featurisation follows the SQuAD recipe: question first, context second, long contexts cut into
overlapping windows (``doc_stride``). A window's label is the token span of the first located answer,
or the first-token (CLS) index when the window does not hold it or the question is unanswerable.

Which metric scores a task is the task's ``metric_variant``; :meth:`QA.bind` gives the format bound
to it (``format_of(task)``):

- ``mlqa``: MLQA's own normalisation (per language articles, CJK segmentation);
- ``squad_v2``: SQuAD 2.0 (no-answer predictions, HasAns/NoAns, best threshold);
- ``squad_v1`` or none: SQuAD v1.1, as XTREME scores XQuAD and TyDiQA. A set with any unanswerable
  question is scored as SQuAD 2.0 even then, since v1.1 cannot. The readers let such a question in
  only where the file marks it ``is_impossible: true`` (a SQuAD 2.0 file); a question that merely
  lacks answers is an error, so a broken v1.1 file never turns into a SQuAD 2.0 set.

The same decision switches no-answer decoding on: only SQuAD 2.0 sets may predict ``""``.
Predictions file: the official ``{question_id: answer_text}`` JSON; SQuAD 2.0 sets also get the
official ``na_prob`` file beside it (``<name>.na_probs.json``).

Probe (``xstilts rank``): one unit per context token of a window; label = inside the gold answer span
or not (see :meth:`QA.probe_units`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from xstilts.data.files import json_key_lines, parse_json, read_json, read_text, require
from xstilts.data.plain import read_rows
from xstilts.data.schema import DataError, Example, QAExample
from xstilts.data.squad import NO_ANSWERS, answer_pairs, is_squad_json, parse_squad, qa_example
from xstilts.formats.base import (
    Feature,
    Format,
    SplitCounts,
    TaskSpec,
    TokenizeWords,
    encoder_inputs,
    register_format,
    text_counts,
)
from xstilts.formats.probe import Pooling, ProbeUnits
from xstilts.formats.qa_metric import mlqa_scores, squad_v1_scores, squad_v2_scores
from xstilts.paths import atomic_write_json

METRIC_VARIANTS = ("squad_v1", "squad_v2", "mlqa")
#: XTREME's ``max_query_length``: longer questions are cut so the context keeps its room
MAX_QUERY_LENGTH = 64
N_BEST = 20
MAX_ANSWER_LENGTH = 30
#: SQuAD 2.0: answer "" when the null score beats the best span by more than this
NULL_SCORE_DIFF_THRESHOLD = 0.0
#: probe: context tokens kept per window (a uniform draw, seeded by the window's position) to bound memory
PROBE_TOKENS_PER_WINDOW = 16
#: stands in for the null-minus-best difference when a question has no valid span at all
_NO_SPAN_DIFF = 1e6
_CHUNK = 1000


@dataclass(frozen=True)
class QAPrediction:
    """An answer text and, for SQuAD 2.0's threshold search, null score minus best span score."""

    text: str
    na_prob: float | None = None


EM_KEYS = ("exact_match", "em")


def metric_variant(examples: Sequence[QAExample], declared: str | None = None) -> str:
    """``squad_v1``, ``squad_v2`` or ``mlqa`` for a set of examples of a task that declares ``declared``."""
    if declared is not None and declared not in METRIC_VARIANTS:
        raise ValueError(f"QA metric variant {declared!r}; expected one of {METRIC_VARIANTS}")
    if declared and declared != "squad_v1":
        return declared
    return "squad_v2" if any(ex.is_impossible for ex in examples) else "squad_v1"


def qa_row(task: TaskSpec, row: dict[str, Any], path: Path, line: int, index: int) -> QAExample:
    """``id, context, question, answers`` with answers as ``{text: [...], answer_start: [...]}`` or a list.

    A row without answers is a no-answer question only when it says ``is_impossible`` or the task is
    scored as SQuAD 2.0 (see :mod:`xstilts.data.squad`).
    """
    context, question = require(row, path, line, "context", "question")
    if not isinstance(context, str) or not isinstance(question, str):
        raise DataError(path, line, "context and question as strings")
    impossible = row.get("is_impossible") in (True, "true", "True", 1)
    try:
        pairs = [] if impossible else answer_pairs(row.get("answers") or [], context)
        if not pairs and not impossible and not _unanswerable(task):
            raise ValueError(NO_ANSWERS)
    except ValueError as err:
        raise DataError(path, line, str(err)) from None
    qid = str(row.get("id") or f"{path.stem}-{index}")
    meta = {"title": row["title"]} if row.get("title") is not None else {}
    return qa_example(qid, context, question, pairs, meta)


def _unanswerable(task: TaskSpec) -> bool:
    """Whether the task scores as SQuAD 2.0, where a question may have no answer without saying so."""
    return getattr(task, "metric_variant", None) == "squad_v2"


def read_qa_file(task: TaskSpec, path: Path) -> list[Example]:
    """A plain-named QA file: SQuAD JSON layout, or rows of ``id, context, question, answers``."""
    if path.suffix == ".json":
        text = read_text(path)
        data = parse_json(path, text)
        if is_squad_json(data):
            examples = parse_squad(data, path, unanswerable=_unanswerable(task), text=text)
            if not examples:
                raise DataError(path, 1, "at least one question, found none")
            return list(examples)
    return read_rows(task, path, qa_row)


def read_answer_file(path: Path) -> tuple[dict[str, str], str]:
    """A ``{question_id: answer_text}`` file and its text; a non-string answer names its line."""
    text = read_text(path)
    data = parse_json(path, text)
    if not isinstance(data, dict):
        raise DataError(path, 1, "a JSON object {question_id: answer_text}")
    for qid, answer in data.items():
        if not isinstance(answer, str):
            lines = json_key_lines(text, qid)
            raise DataError(path, lines[0] if lines else None, f"an answer string for question {qid!r}, found {answer!r}")
    return data, text


def answer_text(prediction: QAPrediction | str) -> str:
    return prediction.text if isinstance(prediction, QAPrediction) else str(prediction)


class SpanHead(nn.Module):
    """Start and end logits per token, as BERT/XLM-R QA heads have (no dropout there either)."""

    def __init__(self, hidden_size: int, num_labels: int) -> None:
        super().__init__()
        self.qa_outputs = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.qa_outputs(hidden)


def _span_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over windows with a label; windows of unlocated answers (-100) add nothing."""
    total = nn.functional.cross_entropy(logits, target, ignore_index=-100, reduction="sum")
    return total / (target != -100).sum().clamp(min=1)


def _cut_questions(questions: list[str], tokenizer: Any, limit: int) -> list[str]:
    """Questions cut to ``limit`` tokens (at a token's character end), left-stripped as in run_qa."""
    questions = [q.lstrip() for q in questions]
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for q, offsets in zip(questions, enc["offset_mapping"], strict=True):
        out.append(q[: offsets[limit - 1][1]] if len(offsets) > limit else q)
    return out


def _window_labels(ex: QAExample, offsets: list[tuple[int, int] | None], cls: int) -> tuple[int, int]:
    """Token start/end of the first located answer inside this window, else the CLS index."""
    located = [(text, start) for text, start in ex.answers if start >= 0]
    if ex.answers and not located:
        return -100, -100  # the reader could not find the answer text: no span to learn
    if not located:
        return cls, cls
    text, s_char = located[0]
    e_char = s_char + len(text)
    ctx = [k for k, o in enumerate(offsets) if o is not None]
    if not ctx or offsets[ctx[0]][0] > s_char or offsets[ctx[-1]][1] < e_char:  # type: ignore[index]
        return cls, cls
    start = max(k for k in ctx if offsets[k][0] <= s_char)  # type: ignore[index]
    end = min(k for k in ctx if offsets[k][1] >= e_char)  # type: ignore[index]
    return start, max(start, end)


class QA(Format):
    name = "qa"
    trainable = True
    prediction_suffix = ".json"
    n_best = N_BEST
    max_answer_length = MAX_ANSWER_LENGTH
    null_threshold = NULL_SCORE_DIFF_THRESHOLD
    probe_unit = "context token (in answer or not)"

    def __init__(self, variant: str | None = None) -> None:
        if variant is not None and variant not in METRIC_VARIANTS:
            raise ValueError(f"QA metric variant {variant!r}; expected one of {METRIC_VARIANTS}")
        self.variant = variant

    def bind(self, task: TaskSpec) -> QA:
        variant = getattr(task, "metric_variant", None)
        return self if variant == self.variant else QA(variant)

    read_row = staticmethod(qa_row)

    def read_file(self, task: TaskSpec, path: Path) -> list[Example]:
        return read_qa_file(task, path)

    def has_gold(self, example: QAExample) -> bool:
        return True  # an empty answer list is SQuAD 2.0's gold "no answer"

    def check_training(self, examples: Sequence[QAExample], source: str) -> None:
        """Refuse a training set where no question can teach a span or a no-answer.

        Answers whose text is not in their context are kept for EM/F1 but give no span to learn; a set
        made only of those would train on nothing (loss 0.0) and still report a model.
        """
        if any(ex.is_impossible or any(start >= 0 for _, start in ex.answers) for ex in examples):
            return
        n = sum(len(ex.answers) for ex in examples)
        raise DataError(
            source, None, f"training questions whose answers occur in their context; none of the {n} answers "
            f"of the {len(examples)} questions does, so there is no span to learn"
        )

    def counts(self, examples: Sequence[QAExample]) -> SplitCounts:
        contexts = list(dict.fromkeys(ex.context for ex in examples))  # a shared context is one text
        return text_counts(self, examples, [ex.question for ex in examples if ex.question] + contexts)

    def language_score(self, task: TaskSpec, metrics: Mapping[str, float]) -> float | None:
        """XTREME scores QA as (EM + F1) / 2."""
        em = next((metrics[k] for k in EM_KEYS if k in metrics), None)
        f1 = metrics.get("f1")
        value = None if em is None or f1 is None else (em + f1) / 2
        return None if value is None or math.isnan(value) else float(value)

    def score_rule(self, task: TaskSpec) -> str:
        return "(EM+F1)/2"

    def export_text(self, path: Path) -> str:
        data, _ = read_answer_file(path)
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    def head(self, hidden_size: int, num_labels: int, dropout: float) -> nn.Module:
        return SpanHead(hidden_size, num_labels)

    def label_list(self, task: TaskSpec, examples: Sequence[QAExample]) -> list[str]:
        return ["start", "end"]

    def featurize(self, examples: Sequence[QAExample], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int, tokenize_words: TokenizeWords = "xtreme") -> list[Feature]:
        room = max_length - tokenizer.num_special_tokens_to_add(pair=True) - doc_stride - 1
        if room < 1:
            raise ValueError(f"max_length {max_length} leaves no room for a question beside doc_stride {doc_stride}")
        limit = min(MAX_QUERY_LENGTH, room)
        feats: list[Feature] = []
        for lo in range(0, len(examples), _CHUNK):
            chunk = examples[lo : lo + _CHUNK]
            enc = tokenizer(
                _cut_questions([ex.question for ex in chunk], tokenizer, limit),
                [ex.context for ex in chunk],
                truncation="only_second",
                max_length=max_length,
                stride=doc_stride,
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
            )
            for j, ids in enumerate(enc["input_ids"]):
                i = lo + enc["overflow_to_sample_mapping"][j]
                seq = enc.sequence_ids(j)
                offsets = [tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][j], seq, strict=True)]
                cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else 0
                start, end = _window_labels(examples[i], offsets, cls)
                feats.append({"input_ids": ids, "offsets": offsets, "start": start, "end": end, "cls": cls, "ex": i, "len": len(ids)})
        return feats

    def collate(self, features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
        return {
            **encoder_inputs(features, pad_id),
            "start_positions": torch.tensor([f["start"] for f in features], dtype=torch.long),
            "end_positions": torch.tensor([f["end"] for f in features], dtype=torch.long),
        }

    def loss(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = logits.float()
        start = _span_loss(logits[..., 0], batch["start_positions"])
        end = _span_loss(logits[..., 1], batch["end_positions"])
        return (start + end) / 2

    def outputs(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[Any]:
        scores = logits.detach().float().cpu().numpy()
        lengths = batch["attention_mask"].sum(-1).tolist()
        return [(scores[i, :n, 0].copy(), scores[i, :n, 1].copy()) for i, n in enumerate(lengths)]

    def decode(self, examples: Sequence[QAExample], features: Sequence[Feature], outputs: Sequence[Any], labels: list[str]) -> dict[str, QAPrediction]:
        """Best span over every window of a question; SQuAD 2.0 sets may answer "" instead."""
        allow_null = metric_variant(examples, self.variant) == "squad_v2"
        windows: dict[int, list[int]] = defaultdict(list)
        for k, f in enumerate(features):
            windows[f["ex"]].append(k)
        out: dict[str, QAPrediction] = {}
        for i, ex in enumerate(examples):
            null = float("inf")
            best, span = -float("inf"), (0, 0)
            for k in windows.get(i, []):
                start, end = (np.asarray(x, dtype=np.float32) for x in outputs[k])
                offsets = features[k]["offsets"]
                cls = features[k].get("cls", 0)
                null = min(null, float(start[cls] + end[cls]))
                score, candidate = self._best_span(start, end, offsets)
                if score > best:
                    best, span = score, candidate
            text = ex.context[span[0] : span[1]].strip() if best > -float("inf") else ""
            diff = null - best if best > -float("inf") else _NO_SPAN_DIFF
            if allow_null and diff > self.null_threshold:
                text = ""
            out[ex.id] = QAPrediction(text, float(diff) if null < float("inf") else None)
        return out

    def _best_span(self, start: np.ndarray, end: np.ndarray, offsets: list[Any]) -> tuple[float, tuple[int, int]]:
        """Highest start+end among the n-best starts and ends that form a valid context span."""
        best, span = -float("inf"), (0, 0)
        starts = np.argsort(start)[::-1][: self.n_best]
        ends = np.argsort(end)[::-1][: self.n_best]
        for s in starts.tolist():
            if offsets[s] is None:
                continue
            for e in ends.tolist():
                if offsets[e] is None or e < s or e - s + 1 > self.max_answer_length:
                    continue
                score = float(start[s] + end[e])
                if score > best:
                    best, span = score, (offsets[s][0], offsets[e][1])
        return best, span

    def probe_units(self, chunk: Sequence[Feature], batch: dict[str, torch.Tensor], hidden: torch.Tensor, pooling: Pooling) -> ProbeUnits:
        """One unit per context token of a window; label = 1 inside the gold answer span, else 0.

        A window without the answer gives only 0s; a window whose answer text was not located in the
        context is skipped (no span to label). At most :data:`PROBE_TOKENS_PER_WINDOW` tokens per
        window are kept, drawn with a seed from the window itself, so every encoder gets the same
        tokens. ``pooling`` does not apply: a token is one state.
        """
        vecs, labels = [], []
        for j, f in enumerate(chunk):
            context = [k for k, o in enumerate(f["offsets"]) if o is not None]
            if f["start"] == -100 or not context:  # the answer text is not in the context: no span to label
                continue
            if len(context) > PROBE_TOKENS_PER_WINDOW:
                rng = np.random.default_rng([f["ex"], f["offsets"][context[0]][0]])
                context = sorted(rng.choice(context, PROBE_TOKENS_PER_WINDOW, replace=False).tolist())
            answered = f["start"] != f["cls"]
            vecs.append(hidden[j, context])
            labels.append(torch.tensor([int(answered and f["start"] <= k <= f["end"]) for k in context], dtype=torch.long))
        if not vecs:
            return hidden.new_zeros((0, hidden.shape[-1])), torch.zeros(0, dtype=torch.long)
        return torch.cat(vecs), torch.cat(labels)

    def score(self, examples: Sequence[QAExample], predictions: dict[str, Any], language: str) -> dict[str, float]:
        if not examples:
            return {}
        variant = metric_variant(examples, self.variant)
        texts = {ex.id: answer_text(predictions[ex.id]) for ex in examples if ex.id in predictions}
        if variant == "squad_v2":
            return self._score_v2(examples, predictions, texts)
        gold = {ex.id: [text for text, _ in ex.answers] for ex in examples}
        raw = mlqa_scores(gold, texts, language) if variant == "mlqa" else squad_v1_scores(gold, texts)
        return {"f1": raw["f1"], "exact_match": raw["exact_match"], "n": float(len(gold))}

    def _score_v2(self, examples: Sequence[QAExample], predictions: dict[str, Any], texts: dict[str, str]) -> dict[str, float]:
        qas = [{"id": ex.id, "answers": [{"text": text} for text, _ in ex.answers]} for ex in examples]
        probs = {qid: getattr(predictions[qid], "na_prob", None) for qid in texts}
        na_probs = probs if probs and all(p is not None for p in probs.values()) else None
        raw = squad_v2_scores([{"paragraphs": [{"qas": qas}]}], texts, na_probs)
        out = {"f1": raw["f1"], "exact_match": raw["exact"], "n": float(raw["total"])}
        out.update({k: float(v) for k, v in raw.items() if k not in ("f1", "exact", "total")})
        return out

    def write_predictions(self, path: Path, examples: Sequence[QAExample], predictions: dict[str, Any]) -> None:
        atomic_write_json(path, {ex.id: answer_text(predictions[ex.id]) for ex in examples})
        if metric_variant(examples, self.variant) == "squad_v2":
            probs = {ex.id: getattr(predictions[ex.id], "na_prob", None) for ex in examples}
            if all(p is not None for p in probs.values()):
                atomic_write_json(_na_probs_path(path), probs)

    def read_predictions(self, path: Path, examples: Sequence[QAExample]) -> dict[str, QAPrediction]:
        """An answer for every gold question and none for another; SQuAD 2.0's ``na_probs`` file if present."""
        data, text = read_answer_file(path)
        known = {ex.id for ex in examples}
        unknown = [qid for qid in data if qid not in known]
        if unknown:
            lines = json_key_lines(text, unknown[0])
            raise DataError(
                path, lines[0] if lines else None,
                f"answers to the {len(known)} gold questions only, found {len(unknown)} unknown question id(s), e.g. {unknown[0]!r}",
            )
        missing = [ex.id for ex in examples if ex.id not in data]
        if missing:
            end = len(text.splitlines()) or 1  # the object's end, where the answers should have been
            raise DataError(path, end, f"an answer for every question; {len(missing)} missing, e.g. {missing[:3]}")
        na_path = _na_probs_path(path)
        probs = read_json(na_path) if na_path.is_file() else {}
        if not isinstance(probs, dict):
            raise DataError(na_path, 1, "a JSON object {question_id: no-answer probability}")
        for qid, value in probs.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise DataError(na_path, None, f"a number as the no-answer probability of {qid!r}, found {value!r}")
        return {ex.id: QAPrediction(data[ex.id], probs.get(ex.id)) for ex in examples}


def _na_probs_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.na_probs.json")


FORMAT = register_format(QA())
