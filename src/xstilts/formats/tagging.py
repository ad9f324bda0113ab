"""Sequence tagging (UD-POS, PAN-X NER, CCG): one tag per word, predicted at the word's first subword.

By default (``train.tokenize_words=xtreme``) words reach the tokenizer pre-split (``is_split_into_words``)
and each with a leading space. That one space makes every tokenizer family treat each word as it treats
a word inside running text: byte-level BPE (RoBERTa, GPT-2) needs it to produce ``Ġword`` pieces,
SentencePiece turns it into the ``▁`` it would prepend anyway, and WordPiece drops it. Only the first
subword of each word carries a label (-100 elsewhere), so sub-word splitting cannot inflate the score
(PAPER.md). This is XTREME's protocol, and scores stay comparable with it.

It is not how Japanese, Chinese or Thai are written: their words follow each other with no space, and a
SentencePiece model has rarely seen ``▁`` before every word of them. ``tokenize_words=as_written`` joins
such words as they are written (:func:`xstilts.formats.scripts.written_text`), tokenises the sentence
whole with character offsets, and gives each subword to the word of its first non-space character (a
bare space piece to the word it precedes). A word's first subword is the one that starts at its first
character. Where the tokenizer fuses the end of one word with the start of the next (``への`` over the
words ``へ`` and ``の``), the later word gets its space back and the sentence is tokenised again, so every
word still has a subword of its own; those words are counted (``merged_words``). A sentence with nothing
to join is tokenised exactly as in the default.

Sentences longer than ``max_length`` are cut at the end. Words cut away, and words that tokenise to
nothing (a lone zero-width character), still get a tag: ``O`` where the label set has it, else the
tag predicted most often in the decoded set. Both are counted in the metrics (``truncated_words``,
``empty_words``) so a silent fallback cannot hide in an F1.

Probe (``xstilts rank``): one unit per word that carries a tag, at its first subword; label = the tag.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import numpy as np
import torch
from torch import nn

from xstilts.data.conllu import read_conllu
from xstilts.data.domains import map_tag
from xstilts.data.files import read_text, require
from xstilts.data.iob2 import I_WITHOUT_B, MAPPED_TAGS, check_tag, i_without_b, read_iob2, read_tagged_text
from xstilts.data.plain import read_rows
from xstilts.data.schema import DataError, Example, TaggingExample
from xstilts.formats.base import (
    Feature,
    Format,
    SplitCounts,
    TaskSpec,
    TokenizeWords,
    Units,
    encoder_inputs,
    pad_sequences,
    register_format,
)
from xstilts.formats.probe import Pooling, ProbeUnits
from xstilts.formats.scripts import written_text
from xstilts.formats.tagging_metric import (
    read_tag_predictions,
    read_tag_sentences,
    seqeval_scores,
    write_tag_predictions,
)

_CHUNK = 1000
TAG_FIELDS = ("tags", "ner_tags", "pos_tags")


def is_ner(task: TaskSpec) -> bool:
    """NER tasks have IOB2 label sets; their tags are checked for IOB2 shape."""
    return bool(task.labels) and any(lab.startswith("B-") for lab in task.labels or ())


def tagging_row(task: TaskSpec, row: dict[str, Any], path: Path, line: int, index: int) -> TaggingExample:
    """JSONL ``tokens`` with ``tags``, ``ner_tags`` or ``pos_tags`` as tag names (not class ids)."""
    (tokens,) = require(row, path, line, "tokens")
    field = next((f for f in TAG_FIELDS if f in row), None)
    tags = row.get(field) if field else None
    if isinstance(tokens, str):
        tokens = tokens.split()
    if isinstance(tags, str):
        tags = tags.split()
    if not isinstance(tokens, list) or (tags is not None and not isinstance(tags, list)):
        raise DataError(path, line, "tokens and tags as lists")
    if not tokens or any(not isinstance(t, str | int | float) or t == "" for t in tokens):
        raise DataError(path, line, "tokens as a non-empty list of words (strings, none empty)")
    meta = {k: v for k, v in row.items() if k not in {"id", "tokens", field}}
    if tags is not None:
        if len(tags) != len(tokens):
            raise DataError(path, line, f"one tag per token ({len(tokens)} tokens, {len(tags)} tags)")
        if any(not isinstance(t, str) for t in tags):
            raise DataError(path, line, f"tag names in {field} (strings such as B-PER), not class ids")
        if task.label_map:
            mapped = [map_tag(t, task.label_map) for t in tags]
            if changed := sum(a != b for a, b in zip(tags, mapped, strict=True)):
                meta[MAPPED_TAGS] = changed
            tags = mapped
        for tag in tags:
            check_tag(tag, path, line, task.labels, is_ner(task))
        if is_ner(task) and (loose := i_without_b(tags)):
            meta[I_WITHOUT_B] = loose
    return TaggingExample(str(row.get("id") or f"{path.stem}-{index}"), [str(t) for t in tokens], tags, meta)


def _lang_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


def read_conllu_file(task: TaskSpec, path: Path) -> list[Example]:
    return list(read_conllu(path, task.labels))


def read_iob2_file(task: TaskSpec, path: Path) -> list[Example]:
    return list(read_iob2(path, task.labels, lang=_lang_of(path), label_map=task.label_map))


def read_text_file(task: TaskSpec, path: Path) -> list[Example]:
    return list(read_tagged_text(path, task.labels, iob2=is_ner(task), label_map=task.label_map))


def hub_tag_row(field: str, names: tuple[str, ...] | None = None):
    """A mapper for hub rows ``tokens`` + ``field`` (ClassLabel ids mapped through ``names``)."""

    def row(r: Mapping[str, Any], lang: str, i: int) -> TaggingExample:
        tags = r[field]
        if names is not None:
            tags = [t if isinstance(t, str) else names[int(t)] for t in tags]
        ex_id = str(r["id"]) if r.get("id") is not None else f"{lang}-{i}"
        return TaggingExample(ex_id, list(r["tokens"]), list(tags))

    return row


#: whole-file readers by extension; any other extension is read as rows (JSONL ``tokens`` + tags)
FILE_READERS = {"conllu": read_conllu_file, "iob2": read_iob2_file, "txt": read_text_file}


@dataclass
class TagPrediction:
    """One tag per word, and how many of them are fallbacks rather than model predictions."""

    tags: list[str]
    truncated: int = 0
    empty: int = 0
    #: word positions that got the fallback tag (filled in by decode)
    fallback_at: list[int] = field(default_factory=list)
    #: words given back their space because a subword fused them to the word before (as_written only)
    merged: int | None = None


def tags_of(prediction: TagPrediction | list[str]) -> list[str]:
    return prediction.tags if isinstance(prediction, TagPrediction) else list(prediction)


class TokenHead(nn.Module):
    def __init__(self, hidden_size: int, num_labels: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.classifier(self.dropout(hidden))


def _split_specials(ids: list[int], word_ids: list[int | None]) -> tuple[list[int], list[int], list[int]]:
    """Leading specials, content, trailing specials of a single-sequence encoding."""
    content = [k for k, w in enumerate(word_ids) if w is not None]
    if not content:
        return ids, [], []
    first, last = content[0], content[-1]
    return ids[:first], list(range(first, last + 1)), ids[last + 1 :]


#: one tokenised sentence: its ids, the word of each subword (None for specials), words re-spaced (or None)
Encoded = tuple[list[int], list[int | None], int | None]


def _pre_split(sentences: Sequence[TaggingExample], tokenizer: Any) -> list[Encoded]:
    """XTREME's way: every word separately, each with a leading space."""
    enc = tokenizer([[" " + w for w in ex.tokens] for ex in sentences], is_split_into_words=True)
    return [(enc["input_ids"][j], enc.word_ids(j), None) for j in range(len(sentences))]


def _align(text: str, spans: Sequence[tuple[int, int]], offsets: Sequence[tuple[int, int]], sequence: Sequence[int | None]) -> tuple[list[int | None], set[int]]:
    """The word of each subword, and the words whose first character a subword from an earlier word covers.

    A subword belongs to the word of its first non-space character; a piece that is only space (a bare
    ``▁``) belongs to the word it precedes, as it does when words are fed one by one.
    """
    owner: list[int] = []
    for w, (_, end) in enumerate(spans):
        owner += [w] * (end - len(owner))  # a word owns its leading space
    words: list[int | None] = []
    fused: set[int] = set()
    for (start, end), seq in zip(offsets, sequence, strict=True):
        if seq is None or not owner:
            words.append(None)
            continue
        chars = [c for c in range(start, end) if not text[c].isspace()]
        first = owner[min(chars[0] if chars else start, len(owner) - 1)]
        words.append(first)
        if chars:
            fused.update(range(first + 1, owner[chars[-1]] + 1))
    return words, fused


def _as_written(sentences: Sequence[TaggingExample], tokenizer: Any) -> list[Encoded]:
    """Whitespace-free words joined as written, tokenised whole, subwords mapped back by offsets.

    Sentences with nothing to join go XTREME's way, so they come out exactly as in the default.
    """
    written = {j: any(written_text(ex.tokens)[2]) for j, ex in enumerate(sentences)}
    plain = [j for j, joined in written.items() if not joined]
    out: dict[int, Encoded] = dict(zip(plain, _pre_split([sentences[j] for j in plain], tokenizer), strict=True)) if plain else {}
    spaced: dict[int, frozenset[int]] = {j: frozenset() for j, joined in written.items() if joined}
    if spaced and not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"tokenize_words=as_written maps subwords to words by character offsets: {type(tokenizer).__name__} is not a fast tokenizer")
    while spaced:  # each pass spaces at least one more word of every sentence it keeps: it ends
        todo = sorted(spaced)
        texts = [written_text(sentences[j].tokens, spaced[j]) for j in todo]
        enc = tokenizer([text for text, _, _ in texts], return_offsets_mapping=True)
        for n, (j, (text, spans, joined)) in enumerate(zip(todo, texts, strict=True)):
            words, fused = _align(text, spans, enc["offset_mapping"][n], enc.sequence_ids(n))
            out[j] = (enc["input_ids"][n], words, len(spaced[j]))
            respace = {w for w in fused if joined[w]}
            if respace:
                spaced[j] |= respace
            else:
                del spaced[j]
    return [out[j] for j in range(len(sentences))]


def _labelled(ex: TaggingExample, ids: list[int], words: list[int | None], index: Mapping[str, int], max_length: int) -> Feature:
    """Labels on first subwords, content cut (never the special tokens) to ``max_length``.

    Cutting here rather than in the tokenizer tells us exactly which words were lost.
    """
    head, content, tail = _split_specials(ids, words)
    content = content[: max(0, max_length - len(head) - len(tail))]
    seen: set[int] = set()
    word_ids, label_ids = [-1] * len(head), [-100] * len(head)
    for k in content:
        w = words[k]
        first = w not in seen
        seen.add(w)
        word_ids.append(w if first else -1)
        tag = ex.tags[w] if ex.tags is not None and first else None
        label_ids.append(index.get(tag, -100) if tag is not None else -100)
    word_ids += [-1] * len(tail)
    label_ids += [-100] * len(tail)
    input_ids = head + [ids[k] for k in content] + tail
    last = max(seen) if seen else -1
    lost = len({w for w in words if w is not None and w > last})
    return {"input_ids": input_ids, "labels": label_ids, "word_ids": word_ids, "truncated": lost, "len": len(input_ids)}


class Tagging(Format):
    name = "tagging"
    trainable = True
    prediction_suffix = ".txt"
    read_row = staticmethod(tagging_row)
    probe_unit = "word (first subword)"

    def __init__(self, task: TaskSpec | None = None) -> None:
        self.task = task

    def bind(self, task: TaskSpec) -> Tagging:
        """The format reading predictions against ``task``'s tag set."""
        return self if task is self.task else Tagging(task)

    def read_file(self, task: TaskSpec, path: Path) -> list[Example]:
        reader = FILE_READERS.get(path.suffix.lstrip("."))
        return reader(task, path) if reader else read_rows(task, path, self.read_row)

    def has_gold(self, example: TaggingExample) -> bool:
        return example.tags is not None

    def counts(self, examples: Sequence[TaggingExample]) -> SplitCounts:
        """A sentence per example; tokens are its words."""
        words = sum(len(ex.tokens) for ex in examples)
        return SplitCounts(len(examples), sum(map(self.has_gold, examples)), len(examples), words)

    def units(self, task: TaskSpec, examples: Sequence[TaggingExample], path: Path, language: str) -> Units:
        """Seqeval entities per sentence: true positives, predicted and gold chunks."""
        from seqeval.metrics.sequence_labeling import get_entities

        predicted = self.read_predictions(path, examples)
        rows, ids = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # bare POS tags: seqeval's reading is the intended one
            for ex in examples:
                if ex.tags is None:
                    continue
                true, pred = set(get_entities(list(ex.tags))), set(get_entities(predicted[ex.id].tags))
                rows.append([len(true & pred), len(pred), len(true)])
                ids.append(ex.id)
        return Units(tuple(ids), np.array(rows, dtype=float).reshape(-1, 3), "f1")

    def export_text(self, path: Path) -> str:
        read_tag_predictions(path)  # raises on a malformed line
        text = read_text(path)
        return text if text.endswith("\n") or not text else text + "\n"

    def head(self, hidden_size: int, num_labels: int, dropout: float) -> nn.Module:
        return TokenHead(hidden_size, num_labels, dropout)

    def label_list(self, task: TaskSpec, examples: Sequence[TaggingExample]) -> list[str]:
        if task.labels is not None:
            return list(task.labels)
        return sorted({tag for ex in examples for tag in ex.tags or ()})

    def featurize(
        self, examples: Sequence[TaggingExample], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int,
        tokenize_words: TokenizeWords = "xtreme",
    ) -> list[Feature]:
        """Tokenise whole sentences (words pre-split, or ``as_written``), then label first subwords."""
        if tokenize_words not in get_args(TokenizeWords):
            raise ValueError(f"tokenize_words={tokenize_words!r}: expected one of {', '.join(get_args(TokenizeWords))}")
        index = {name: i for i, name in enumerate(labels)}
        encode = _as_written if tokenize_words == "as_written" else _pre_split
        feats: list[Feature] = []
        for lo in range(0, len(examples), _CHUNK):
            chunk = examples[lo : lo + _CHUNK]
            for j, (ex, (ids, words, merged)) in enumerate(zip(chunk, encode(chunk, tokenizer), strict=True)):
                feat = _labelled(ex, ids, words, index, max_length)
                feat["ex"] = lo + j
                if tokenize_words == "as_written":
                    feat["merged"] = merged or 0
                feats.append(feat)
        return feats

    def collate(self, features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
        return {
            **encoder_inputs(features, pad_id),
            "labels": pad_sequences([f["labels"] for f in features], -100),
        }

    def loss(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        target = batch["labels"]
        total = nn.functional.cross_entropy(logits.float().flatten(0, 1), target.flatten(), ignore_index=-100, reduction="sum")
        return total / (target != -100).sum().clamp(min=1)

    def outputs(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[Any]:
        best = logits.float().argmax(-1).cpu()
        lengths = batch["attention_mask"].sum(-1).tolist()
        return [best[i, :n].tolist() for i, n in enumerate(lengths)]

    def decode(self, examples: Sequence[TaggingExample], features: Sequence[Feature], outputs: Sequence[Any], labels: list[str]) -> dict[str, TagPrediction]:
        """One tag per word from its first subword; words without one get the fallback tag."""
        per_word: dict[int, dict[int, str]] = {}
        truncated: dict[int, int] = {}
        merged: dict[int, int] = {}
        for f, out in zip(features, outputs, strict=True):
            tags = per_word.setdefault(f["ex"], {})
            for w, label in zip(f["word_ids"], out, strict=True):
                if w >= 0:
                    tags[w] = labels[label]
            truncated[f["ex"]] = truncated.get(f["ex"], 0) + int(f.get("truncated", 0))
            if "merged" in f:
                merged[f["ex"]] = merged.get(f["ex"], 0) + int(f["merged"])
        fallback = self._fallback(labels, per_word)
        preds: dict[str, TagPrediction] = {}
        for i, ex in enumerate(examples):
            tags = per_word.get(i, {})
            missing = [w for w in range(len(ex.tokens)) if w not in tags]
            n_truncated = truncated.get(i, 0)
            preds[ex.id] = TagPrediction(
                tags=[tags.get(w, fallback) for w in range(len(ex.tokens))],
                truncated=n_truncated,
                empty=len(missing) - n_truncated,
                fallback_at=missing,
                merged=merged.get(i, 0) if merged else None,
            )
        return preds

    @staticmethod
    def _fallback(labels: list[str], per_word: dict[int, dict[int, str]]) -> str:
        """``O`` if it is a label, else the tag predicted most often (a proxy for the majority class)."""
        if "O" in labels:
            return "O"
        counts = Counter(tag for tags in per_word.values() for tag in tags.values())
        if not counts:
            return labels[0]
        return max(labels, key=lambda lab: counts.get(lab, 0))

    def probe_units(self, chunk: Sequence[Feature], batch: dict[str, torch.Tensor], hidden: torch.Tensor, pooling: Pooling) -> ProbeUnits:
        """One unit per tagged word, at its first subword (as the head is trained and scored); label =
        the tag index. ``pooling`` does not apply: a word is one token's state."""
        keep = batch["labels"] != -100  # first subwords of words with a tag
        return hidden[keep], batch["labels"][keep]

    def score(self, examples: Sequence[TaggingExample], predictions: dict[str, Any], language: str) -> dict[str, float]:
        scored = [ex for ex in examples if ex.tags is not None]
        if not scored:
            return {}
        missing = [ex.id for ex in scored if ex.id not in predictions]
        if missing:
            raise ValueError(f"{len(missing)} sentences have no prediction, e.g. {missing[:3]}")
        gold = [list(ex.tags or ()) for ex in scored]
        pred = [tags_of(predictions[ex.id]) for ex in scored]
        out = seqeval_scores(gold, pred)
        out["n"] = float(len(scored))
        out["truncated_words"] = float(sum(getattr(predictions[ex.id], "truncated", 0) for ex in scored))
        out["empty_words"] = float(sum(getattr(predictions[ex.id], "empty", 0) for ex in scored))
        merged = [getattr(predictions[ex.id], "merged", None) for ex in scored]
        if any(m is not None for m in merged):  # tokenised as written: words a subword fused are counted
            out["merged_words"] = float(sum(m or 0 for m in merged))
        return out

    def write_predictions(self, path: Path, examples: Sequence[TaggingExample], predictions: dict[str, Any]) -> None:
        write_tag_predictions(path, [tags_of(predictions[ex.id]) for ex in examples])

    def read_predictions(self, path: Path, examples: Sequence[TaggingExample]) -> dict[str, TagPrediction]:
        """A sentence of tags per example, a tag per word, every tag in the task's tag set."""
        sentences = read_tag_sentences(path)
        if len(sentences) != len(examples):
            # the first extra sentence, or where the first missing one should start
            start, tags = sentences[min(len(sentences), len(examples)) - 1] if sentences else (0, [])
            line = sentences[len(examples)][0] if len(sentences) > len(examples) else start + len(tags) + 1
            raise DataError(path, line, f"{len(examples)} sentences of tags (a blank line after each), found {len(sentences)}")
        labels = self.task.labels if self.task is not None else None
        for no, (ex, (start, tags)) in enumerate(zip(examples, sentences, strict=True), start=1):
            if len(tags) != len(ex.tokens):
                raise DataError(path, start, f"sentence {no} ({ex.id}): {len(ex.tokens)} tags, found {len(tags)}")
            if labels is not None:
                at = next((k for k, tag in enumerate(tags) if tag not in labels), None)
                if at is not None:
                    raise DataError(path, start + at, f"a tag in {{{', '.join(labels)}}}, found {tags[at]!r}")
        return {ex.id: TagPrediction(tags) for ex, (_, tags) in zip(examples, sentences, strict=True)}


FORMAT = register_format(Tagging())
