"""SQuAD-format JSON (v1.1 and v2.0) to :class:`QAExample`: SQuAD, XQuAD, MLQA and TyDiQA-GoldP.

Answer starts are character offsets into the context and are kept. A start that does not point at
its answer text (MLQA and TyDiQA have a few, off by some whitespace) is moved to the occurrence of the
text nearest to it and counted as ``moved``. An answer whose text does not occur in the context at all
keeps its text (it is still gold for EM/F1) with start ``-1`` and is counted as ``unlocated``: span
training must skip it, as the XTREME/transformers SQuAD processor skips answers it cannot find.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from xstilts.data.files import read_json
from xstilts.data.schema import DataError, QAExample

#: TyDiQA ids start with the language's English name (``arabic-2387...``); XTREME code -> prefix
TYDIQA_PREFIXES = {
    "ar": "arabic",
    "bn": "bengali",
    "en": "english",
    "fi": "finnish",
    "id": "indonesian",
    "ja": "japanese",
    "ko": "korean",
    "ru": "russian",
    "sw": "swahili",
    "te": "telugu",
    "th": "thai",
}


def align_answer(context: str, text: str, start: int) -> tuple[str, int, str]:
    """Return ``(text, start, how)`` with ``how`` one of ``exact``, ``moved``, ``unlocated``."""
    if start >= 0 and context[start : start + len(text)] == text:
        return text, start, "exact"
    for candidate in (text, text.strip()):
        if not candidate:
            continue
        positions = []
        pos = context.find(candidate)
        while pos != -1:
            positions.append(pos)
            pos = context.find(candidate, pos + 1)
        if positions:
            best = min(positions, key=lambda p: abs(p - start))
            return candidate, best, "moved"
    return text, -1, "unlocated"


def qa_example(
    qid: str,
    context: str,
    question: str,
    answers: Iterable[tuple[str, int]],
    meta: dict[str, Any],
    stats: Counter[str] | None = None,
) -> QAExample:
    """Build one example with every answer aligned to the context (see the module docstring)."""
    aligned: list[tuple[str, int]] = []
    for text, start in answers:
        text, start, how = align_answer(context, text, int(start))
        aligned.append((text, start))
        if stats is not None:
            stats[how] += 1
    if stats is not None:
        stats["questions"] += 1
    return QAExample(id=qid, context=context, question=question, answers=aligned, meta=meta)


def is_squad_json(data: Any) -> bool:
    """Whether parsed JSON looks like a SQuAD file (``{"data": [{"paragraphs": [...]}, ...]}``)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
        return False
    return all(isinstance(a, Mapping) and "paragraphs" in a for a in data["data"])


def parse_squad(
    data: Any,
    path: Path | str,
    keep: Callable[[str], bool] | None = None,
    stats: Counter[str] | None = None,
) -> list[QAExample]:
    """Examples of a parsed SQuAD JSON; ``keep(id)`` selects questions (TyDiQA's language prefix)."""
    if not is_squad_json(data):
        raise DataError(path, 1, 'SQuAD JSON: {"data": [{"title", "paragraphs": [{"context", "qas"}]}]}')
    out: list[QAExample] = []
    for a_no, article in enumerate(data["data"], start=1):
        title = article.get("title")
        for p_no, para in enumerate(article["paragraphs"], start=1):
            where = f"article {a_no}, paragraph {p_no}"
            if not isinstance(para, Mapping) or not isinstance(para.get("context"), str) or not isinstance(para.get("qas"), list):
                raise DataError(path, None, f"{where}: a paragraph with a context string and a qas list")
            context = para["context"]
            for qa in para["qas"]:
                qid = qa.get("id") if isinstance(qa, Mapping) else None
                if qid is None or not isinstance(qa.get("question"), str):
                    raise DataError(path, None, f"{where}: every question to have an id and a question string")
                qid = str(qid)
                if keep is not None and not keep(qid):
                    continue
                answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                try:
                    pairs = [(str(ans["text"]), int(ans["answer_start"])) for ans in answers]
                except (KeyError, TypeError, ValueError):
                    raise DataError(path, None, f"question {qid}: answers as {{text, answer_start}}") from None
                meta: dict[str, Any] = {"title": title} if title is not None else {}
                out.append(qa_example(qid, context, qa["question"], pairs, meta, stats))
    return out


def read_squad(path: Path, keep: Callable[[str], bool] | None = None, stats: Counter[str] | None = None) -> list[QAExample]:
    """Read a SQuAD-format file; see :func:`parse_squad`."""
    return parse_squad(read_json(path), path, keep, stats)


def tydiqa_language(qid: str) -> str | None:
    """The XTREME language code of a TyDiQA id, from its ``<language name>-`` prefix."""
    name = qid.split("-", 1)[0].lower()
    return next((code for code, prefix in TYDIQA_PREFIXES.items() if prefix == name), None)


def hub_qa_row(row: Mapping[str, Any], lang: str, i: int) -> QAExample:
    """A hub SQuAD-style row (``id, context, question, answers: {text: [...], answer_start: [...]}``)."""
    answers = row.get("answers") or {}
    if isinstance(answers, Mapping):
        texts, starts = list(answers.get("text") or []), list(answers.get("answer_start") or [])
    else:  # a list of {text, answer_start}, as SQuAD files write it
        texts = [a["text"] for a in answers]
        starts = [a["answer_start"] for a in answers]
    if len(texts) != len(starts):
        raise DataError(row.get("id", f"row {i}"), None, "as many answer starts as answer texts")
    meta = {"title": row["title"]} if row.get("title") is not None else {}
    qid = str(row["id"]) if row.get("id") is not None else f"{lang}-{i}"
    return qa_example(qid, row["context"], row["question"], zip(texts, starts, strict=True), meta)
