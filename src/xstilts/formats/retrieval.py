"""The ``retrieval`` format (BUCC, Tatoeba): parallel corpora, prediction files and their metric.

A retrieval split is one :class:`ParallelCorpus`, not a list of examples, and the format is never
trained: BUCC and Tatoeba score the (intermediate-trained) encoder as it is (PAPER.md). So this
format has only the scoring half of the protocol and ``trainable = False``; the trainer refuses it
with a clear error instead of failing inside a missing head.

Everything else lives beside it: sentence vectors in :mod:`xstilts.models.pooling`, the exact
search in :mod:`xstilts.formats.knn`, mining and its F1 in :mod:`xstilts.formats.bucc`, top-1
retrieval in :mod:`xstilts.formats.tatoeba`. The evaluation stage
(:mod:`xstilts.evaluate.retrieval_run`) composes them.

Two kinds of corpus, told apart by their gold (:func:`is_aligned`):

* Tatoeba-like: every source sentence has a gold partner; a prediction file holds one retrieved
  target line index per source sentence; the metric is top-1 accuracy.
* BUCC-like (a mining corpus): most sentences have no partner; a prediction file holds the kept
  ``<xx-id><TAB><en-id>`` pairs; the metric is precision, recall and F1 of those pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.data.files import read_text, require
from xstilts.data.retrieval import corpus_from_pairs
from xstilts.data.schema import DataError, ParallelCorpus
from xstilts.formats.base import Format, SplitCounts, TaskSpec, Units, register_format, word_count
from xstilts.formats.bucc import prf, write_bucc_predictions
from xstilts.formats.tatoeba import top1_accuracy, write_tatoeba_predictions

#: the metric of a task scored by mining (BUCC): F1 of the mined pairs
MINING_METRIC = "f1"


def parallel_row(task: TaskSpec, row: dict[str, Any], path: Path, line: int, index: int) -> ParallelCorpus:
    """A plain parallel file row (``src``/``tgt``, or ``sentence1``/``sentence2``) as a one-pair corpus."""
    cols = ("src", "tgt") if "src" in row else ("sentence1", "sentence2")
    src, tgt = require(row, path, line, *cols)
    empty = next((c for c, text in zip(cols, (src, tgt), strict=True) if not str(text).strip()), None)
    if empty is not None:
        raise DataError(path, line, f"a sentence in column {empty}, found an empty field (a blank is never a sentence pair)")
    sid = str(index)
    return ParallelCorpus([sid], [str(src)], [sid], [str(tgt)], [(sid, sid)], src_lang=path.name.split(".")[0])


def as_corpus(examples: Sequence[Any], source: object = "retrieval split") -> ParallelCorpus:
    """A split's examples as one corpus: release readers give one, plain files one per row (merged)."""
    if not examples or not all(isinstance(ex, ParallelCorpus) for ex in examples):
        raise DataError(source, None, "parallel sentences (one corpus, or one pair per row)")
    if len(examples) == 1:
        return examples[0]
    out = ParallelCorpus([], [], [], [], [], src_lang=examples[0].src_lang, tgt_lang=examples[0].tgt_lang)
    for piece in examples:
        out.src_ids += piece.src_ids
        out.src += piece.src
        out.tgt_ids += piece.tgt_ids
        out.tgt += piece.tgt
        out.gold += piece.gold
    if len(set(out.src_ids)) != len(out.src_ids) or len(set(out.tgt_ids)) != len(out.tgt_ids):
        raise DataError(source, None, "unique sentence ids across the rows of a parallel file")
    return out


def is_aligned(corpus: ParallelCorpus) -> bool:
    """Tatoeba-like: every source sentence has a gold partner (else it is a mining corpus, BUCC)."""
    return bool(corpus.src_ids) and {a for a, _ in corpus.gold} >= set(corpus.src_ids)


def read_pair_predictions(path: Path, corpus: ParallelCorpus) -> dict[str, Any]:
    """Tatoeba lines (a retrieved target index) as {xx-id: en-id}; BUCC lines (xx-id, en-id) as {xx-id: [en-id, ...]}.

    A BUCC file may pair one source sentence with several targets (mined pairs are expanded to every
    id of a repeated sentence), so each source id keeps all of its lines.
    """
    lines = [(no, ln) for no, ln in enumerate(read_text(path).splitlines(), start=1) if ln.strip()]
    if is_aligned(corpus):
        if len(lines) != len(corpus.src_ids):
            at = lines[len(corpus.src_ids)][0] if len(lines) > len(corpus.src_ids) else (lines[-1][0] + 1 if lines else 1)
            raise DataError(path, at, f"one retrieved index per source sentence ({len(corpus.src_ids)} lines), found {len(lines)}")
        preds: dict[str, Any] = {}
        for sid, (no, line) in zip(corpus.src_ids, lines, strict=True):
            value = line.strip()
            if not (value.isascii() and value.isdigit()) or int(value) >= len(corpus.tgt_ids):
                raise DataError(path, no, f"a target line index in [0, {len(corpus.tgt_ids) - 1}], found {value!r}")
            preds[sid] = corpus.tgt_ids[int(value)]
        return preds
    pairs: dict[str, list[str]] = {}
    known_src, known_tgt = set(corpus.src_ids), set(corpus.tgt_ids)
    for no, line in lines:
        parts = line.strip().split("\t")
        if len(parts) != 2:
            raise DataError(path, no, "<xx-id><TAB><en-id>")
        unknown = next((p for p, known in zip(parts, (known_src, known_tgt), strict=True) if p not in known), None)
        if unknown is not None:
            raise DataError(path, no, f"ids that occur in the sentence files; {unknown} does not")
        pairs.setdefault(parts[0], []).append(parts[1])
    return pairs


def _pairs(predictions: dict[str, Any]) -> list[tuple[str, str]]:
    """{xx-id: en-id or [en-id, ...]} as (xx-id, en-id) pairs."""
    return [(s, t) for s, ts in predictions.items() for t in ([ts] if isinstance(ts, str) else ts)]


def corpus_units(corpus: ParallelCorpus, path: Path) -> Units:
    """Per-source-sentence units of a prediction file, for the paired bootstrap.

    Tatoeba: a hit (0 or 100) per query with gold, averaged. BUCC: true positives, predicted and gold
    pairs per source sentence, since F1 over pairs is not a mean of per-sentence F1s.
    """
    partners: dict[str, set[str]] = {}
    for a, b in corpus.gold:
        partners.setdefault(a, set()).add(b)
    preds = read_pair_predictions(path, corpus)
    if is_aligned(corpus):
        ids = [s for s in corpus.src_ids if s in partners]
        stats = np.array([[100.0 * (preds.get(s) in partners[s])] for s in ids], dtype=float).reshape(-1, 1)
        return Units(tuple(ids), stats, "mean")
    gold = set(corpus.gold)
    per_src: dict[str, list[int]] = {s: [0, 0, 0] for s in dict.fromkeys(corpus.src_ids)}
    for s, t in set(_pairs(preds)):
        row = per_src.setdefault(s, [0, 0, 0])
        row[0] += (s, t) in gold
        row[1] += 1
    for s, _ in gold:
        per_src.setdefault(s, [0, 0, 0])[2] += 1
    return Units(tuple(per_src), np.array(list(per_src.values()), dtype=float).reshape(-1, 3), "f1")


def _pair_file_text(path: Path) -> str:
    """A prediction file's text if every line is a retrieved index (Tatoeba) or an id pair (BUCC)."""
    text = read_text(path)
    lines = [(no, line.strip()) for no, line in enumerate(text.splitlines(), start=1) if line.strip()]
    bucc = bool(lines) and "\t" in lines[0][1]
    expected = "xx-id<TAB>en-id" if bucc else "one retrieved index per line"
    for no, line in lines:
        parts = line.split("\t")
        if len(parts) != (2 if bucc else 1) or (not bucc and not line.lstrip("-").isdigit()):
            raise DataError(path, no, expected)
    return text if text.endswith("\n") or not text else text + "\n"


class Retrieval(Format):
    """The ``retrieval`` format: data, gold, prediction files and metric; it has no head and never trains."""

    name = "retrieval"
    trainable = False
    prediction_suffix = ".txt"
    read_row = staticmethod(parallel_row)

    def is_mining(self, task: TaskSpec) -> bool:
        """Whether ``task`` is scored by BUCC-style mining rather than Tatoeba-style top-1 retrieval.

        The task's metric names the procedure: F1 (``MINING_METRIC``) is the F1 of mined pairs, whose
        margin threshold must be tuned on the gold pairs of the task's ``dev_split``; accuracy is
        top-1 retrieval, which needs no dev split. So a mining task loads its dev split, a retrieval
        task does not.
        """
        return task.metric == MINING_METRIC

    def collect(self, examples: list[Any], language: str) -> list[Any]:
        """One corpus per split: row-wise pairs (plain files, hub rows) are merged, gold i <-> i."""
        return examples if len(examples) == 1 else [corpus_from_pairs(examples, language)]

    def has_gold(self, example: ParallelCorpus) -> bool:
        return bool(example.gold)

    def counts(self, examples: Sequence[ParallelCorpus]) -> SplitCounts:
        """An example is a gold pair; sentences are both sides' (distractors included)."""
        pairs = sum(len(c.gold) for c in examples)
        sides = [t for c in examples for t in (*c.src, *c.tgt)]
        return SplitCounts(pairs, pairs, len(sides), word_count(sides))

    def units(self, task: TaskSpec, examples: Sequence[ParallelCorpus], path: Path, language: str) -> Units:
        return corpus_units(as_corpus(examples), path)

    def export_text(self, path: Path) -> str:
        return _pair_file_text(path)

    def read_predictions(self, path: Path, examples: Sequence[ParallelCorpus]) -> dict[str, Any]:
        return read_pair_predictions(path, as_corpus(examples))

    def score(self, examples: Sequence[ParallelCorpus], predictions: dict[str, Any], language: str) -> dict[str, float]:
        """Tatoeba: top-1 accuracy of {xx-id: en-id}; BUCC: P/R/F1 of the predicted pairs."""
        corpus = as_corpus(examples)
        if is_aligned(corpus):
            index = {t: i for i, t in enumerate(corpus.tgt_ids)}
            retrieved = [index.get(predictions.get(s, ""), -1) for s in corpus.src_ids]
            return {"accuracy": top1_accuracy(retrieved, corpus.src_ids, corpus.tgt_ids, corpus.gold), "n": float(len(corpus.src_ids))}
        return {**prf(_pairs(predictions), corpus.gold), "n": float(len(set(corpus.gold)))}

    def write_predictions(self, path: Path, examples: Sequence[ParallelCorpus], predictions: dict[str, Any]) -> None:
        corpus = as_corpus(examples)
        if is_aligned(corpus):
            index = {t: i for i, t in enumerate(corpus.tgt_ids)}
            write_tatoeba_predictions(path, [index.get(predictions.get(s, ""), -1) for s in corpus.src_ids])
        else:
            write_bucc_predictions(path, _pairs(predictions))


FORMAT = Retrieval()
register_format(FORMAT)
