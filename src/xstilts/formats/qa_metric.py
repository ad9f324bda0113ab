"""Extractive-QA scores that equal the official scripts number for number.

Three definitions are in use and they differ in small ways that move published numbers:

- SQuAD v1.1 (XTREME's copy; XQuAD and TyDiQA-GoldP): ASCII punctuation, English articles,
  whitespace tokens, an unanswered question scores 0 and still counts in the mean.
- MLQA (``evaluate_mlqa.py``): all Unicode punctuation, per-language articles, and Chinese split
  into single CJK characters ("mixed segmentation").
- SQuAD 2.0: v1.1 normalisation, but empty gold/prediction handling, HasAns/NoAns splits and the
  no-answer threshold search.

Each function here is written from those definitions and checked against the shared test vectors.
"""

from __future__ import annotations

import json
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

_ASCII_PUNCT = frozenset(string.punctuation)
_EN_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)

# MLQA's article patterns. Arabic is not a whole-word match: the official script substitutes every
# occurrence of "ال" (its first alternative, ``\sال^``, can never match), so we do the same.
_MLQA_ARTICLES: dict[str, re.Pattern[str] | None] = {
    "en": _EN_ARTICLES,
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "ar": re.compile(r"\sال^|ال"),
    "hi": None,
    "zh": None,
}
_MLQA_MIXED_SEGMENTATION = frozenset({"zh"})
_CJK = re.compile(r"[\u4e00-\u9fa5]")

Gold = Mapping[str, list[str]]
Predictions = Mapping[str, str]


# --------------------------------------------------------------------------- shared pieces


def _token_f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    """Token-overlap F1 as in SQuAD v1.1 / MLQA: zero when nothing overlaps (also for two empties)."""
    num_same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _max_over_gold(metric: Callable[[str, str], float], prediction: str, golds: list[str]) -> float:
    """Best score against any gold answer; an empty gold list is an error, as in the official script."""
    if not golds:
        raise ValueError("a question has no gold answers; SQuAD v1.1/MLQA scoring needs at least one")
    return max(metric(prediction, gold) for gold in golds)


def _average(
    gold: Gold,
    predictions: Predictions,
    metric_em: Callable[[str, str], float],
    metric_f1: Callable[[str, str], float],
) -> dict[str, float]:
    """Mean EM/F1 over every gold question; a missing prediction scores 0 but counts in the total."""
    if not gold:
        raise ValueError("no gold questions to score")
    em = f1 = 0.0
    for qid, golds in gold.items():
        if qid not in predictions:
            print(f"Unanswered question {qid} will receive score 0.", file=sys.stderr)
            continue
        em += _max_over_gold(metric_em, predictions[qid], golds)
        f1 += _max_over_gold(metric_f1, predictions[qid], golds)
    return {"exact_match": 100.0 * em / len(gold), "f1": 100.0 * f1 / len(gold)}


# --------------------------------------------------------------------------- SQuAD v1.1


def normalize_squad(text: str) -> str:
    """SQuAD normalisation: lower, drop ASCII punctuation, drop a/an/the, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCT)
    return " ".join(_EN_ARTICLES.sub(" ", text).split())


def _squad_v1_em(prediction: str, gold: str) -> float:
    return float(normalize_squad(prediction) == normalize_squad(gold))


def _squad_v1_f1(prediction: str, gold: str) -> float:
    return _token_f1(normalize_squad(prediction).split(), normalize_squad(gold).split())


def squad_v1_scores(gold: Gold, predictions: Predictions) -> dict[str, float]:
    """SQuAD v1.1 EM/F1 (0-100), the score XTREME reports for XQuAD and TyDiQA-GoldP."""
    return _average(gold, predictions, _squad_v1_em, _squad_v1_f1)


# --------------------------------------------------------------------------- MLQA


@lru_cache(maxsize=1)
def mlqa_punctuation() -> frozenset[str]:
    """Every code point whose Unicode category starts with P, plus ASCII punctuation (as MLQA builds it)."""
    uni = (chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P"))
    return frozenset(uni) | _ASCII_PUNCT


def mixed_segmentation(text: str) -> list[str]:
    """Split CJK ideographs (U+4E00-U+9FA5) and punctuation into single tokens; whitespace-split the rest."""
    punct = mlqa_punctuation()
    tokens: list[str] = []
    run = ""
    for char in text:
        if _CJK.match(char) or char in punct:
            tokens.extend(run.split())
            run = ""
            tokens.append(char)
        else:
            run += char
    tokens.extend(run.split())
    return tokens


def normalize_mlqa(text: str, lang: str) -> str:
    """MLQA normalisation: lower, drop Unicode punctuation, drop the language's articles, re-tokenise."""
    if lang not in _MLQA_ARTICLES:
        raise ValueError(f"MLQA scoring has no rules for language {lang!r}; known: {sorted(_MLQA_ARTICLES)}")
    punct = mlqa_punctuation()
    text = "".join(ch for ch in text.lower() if ch not in punct)
    articles = _MLQA_ARTICLES[lang]
    if articles is not None:
        text = articles.sub(" ", text)
    tokens = mixed_segmentation(text) if lang in _MLQA_MIXED_SEGMENTATION else text.split()
    return " ".join(t for t in tokens if t.strip())


def mlqa_scores(gold: Gold, predictions: Predictions, lang: str) -> dict[str, float]:
    """MLQA's official EM/F1 (0-100) with language-aware normalisation."""

    def em(prediction: str, answer: str) -> float:
        return float(normalize_mlqa(prediction, lang) == normalize_mlqa(answer, lang))

    def f1(prediction: str, answer: str) -> float:
        return _token_f1(normalize_mlqa(prediction, lang).split(), normalize_mlqa(answer, lang).split())

    normalize_mlqa("", lang)  # fail fast on an unknown language, even with no predictions
    return _average(gold, predictions, em, f1)


# --------------------------------------------------------------------------- SQuAD 2.0


def _squad_v2_tokens(text: str) -> list[str]:
    return normalize_squad(text).split() if text else []


def _squad_v2_f1(gold: str, prediction: str) -> float:
    """v2 F1: if either side is empty (no-answer), 1 when both are empty, else 0."""
    gold_toks, pred_toks = _squad_v2_tokens(gold), _squad_v2_tokens(prediction)
    if not gold_toks or not pred_toks:
        return float(gold_toks == pred_toks)
    return _token_f1(pred_toks, gold_toks)


def _iter_qas(dataset_json: Mapping[str, Any] | list[Any]) -> Iterator[Mapping[str, Any]]:
    articles = dataset_json["data"] if isinstance(dataset_json, Mapping) else dataset_json
    for article in articles:
        for paragraph in article["paragraphs"]:
            yield from paragraph["qas"]


def _best_thresh(
    predictions: Predictions,
    scores: Mapping[str, float],
    na_probs: Mapping[str, float],
    has_ans: Mapping[str, bool],
) -> tuple[float, float]:
    """SQuAD 2.0's threshold search: start from 'answer nothing', then, in order of rising no-answer
    probability, answer one more question; keep the first threshold that strictly improves the total."""
    cur = best = float(sum(1 for v in has_ans.values() if not v))
    best_thresh = 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        if qid not in scores:
            continue
        if has_ans[qid]:
            cur += scores[qid]
        else:
            cur += -1 if predictions[qid] else 0
        if cur > best:
            best, best_thresh = cur, na_probs[qid]
    return 100.0 * best / len(scores), best_thresh


def _split(exact: Mapping[str, float], f1: Mapping[str, float], qids: list[str]) -> dict[str, float]:
    return {
        "exact": 100.0 * sum(exact[q] for q in qids) / len(qids),
        "f1": 100.0 * sum(f1[q] for q in qids) / len(qids),
        "total": len(qids),
    }


def squad_v2_scores(
    gold_dataset_json: Mapping[str, Any] | list[Any],
    predictions: Predictions,
    na_probs: Mapping[str, float] | None = None,
    na_prob_thresh: float = 1.0,
) -> dict[str, float]:
    """The SQuAD 2.0 official evaluation. ``''`` is the no-answer prediction; gold answers that
    normalise to nothing are dropped and an unanswerable question's gold becomes ``['']``.
    best_* keys appear only when ``na_probs`` is given, as in the official script.

    The official script crashes on a missing prediction for an answerable question, so a missing
    prediction is a ValueError here rather than a silent zero.
    """
    qas = list(_iter_qas(gold_dataset_json))
    missing = [qa["id"] for qa in qas if qa["id"] not in predictions]
    if missing:
        raise ValueError(f"{len(missing)} questions have no prediction, e.g. {missing[:5]}")
    has_ans = {qa["id"]: bool(qa["answers"]) for qa in qas}
    probs = dict(na_probs) if na_probs is not None else {qid: 0.0 for qid in predictions}
    exact_raw: dict[str, float] = {}
    f1_raw: dict[str, float] = {}
    for qa in qas:
        golds = [a["text"] for a in qa["answers"] if normalize_squad(a["text"])] or [""]
        pred = predictions[qa["id"]]
        exact_raw[qa["id"]] = max(float(normalize_squad(g) == normalize_squad(pred)) for g in golds)
        f1_raw[qa["id"]] = max(_squad_v2_f1(g, pred) for g in golds)

    def thresholded(raw: dict[str, float]) -> dict[str, float]:
        return {q: float(not has_ans[q]) if probs[q] > na_prob_thresh else s for q, s in raw.items()}

    exact, f1 = thresholded(exact_raw), thresholded(f1_raw)
    out: dict[str, float] = _split(exact, f1, list(exact))
    for prefix, wanted in (("HasAns", True), ("NoAns", False)):
        qids = [q for q, v in has_ans.items() if v is wanted]
        if qids:
            out.update({f"{prefix}_{k}": v for k, v in _split(exact, f1, qids).items()})
    if na_probs is not None:
        out["best_exact"], out["best_exact_thresh"] = _best_thresh(predictions, exact_raw, probs, has_ans)
        out["best_f1"], out["best_f1_thresh"] = _best_thresh(predictions, f1_raw, probs, has_ans)
    return out


# --------------------------------------------------------------------------- reading gold


def read_squad_dataset(path: str | Path) -> dict[str, Any]:
    """The SQuAD-format JSON as loaded (``{"version", "data"}``); SQuAD 2.0 scoring takes this."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_squad_gold(path: str | Path) -> dict[str, list[str]]:
    """Question id -> gold answer texts from a SQuAD-format file. Duplicate ids are refused, since a
    dict would silently drop one and change the denominator the official script uses."""
    gold: dict[str, list[str]] = {}
    for qa in _iter_qas(read_squad_dataset(path)):
        if qa["id"] in gold:
            raise ValueError(f"{path}: duplicate question id {qa['id']!r}")
        gold[qa["id"]] = [a["text"] for a in qa["answers"]]
    return gold
