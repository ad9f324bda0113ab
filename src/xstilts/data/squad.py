"""SQuAD-format JSON (v1.1 and v2.0) to :class:`QAExample`: SQuAD, XQuAD, MLQA and TyDiQA-GoldP.

Answer starts are character offsets into the context and are kept. A start that does not point at
its answer text (MLQA and TyDiQA have a few, off by some whitespace) is moved to the occurrence of the
text nearest to it and counted as ``moved``. An answer whose text does not occur in the context at all
keeps its text (it is still gold for EM/F1) with start ``-1`` and is counted as ``unlocated``: span
training must skip it, as the XTREME/transformers SQuAD processor skips answers it cannot find.

What is refused, naming the file and the question's line: an answer whose text is not a non-empty
string or whose start is not an integer inside the context (no release has one; it is a broken file,
not drift), a question id seen before, and a question without answers unless the file marks it
``is_impossible: true`` or the task is SQuAD 2.0-style (``unanswerable``). A v1.1 set must never turn
into a SQuAD 2.0 set because a question lost its answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from xstilts.data.files import json_key_lines, parse_json, read_text
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


def answer_pairs(answers: Any, context: str) -> list[tuple[str, int]]:
    """``[{text, answer_start}, ...]`` or ``{text: [...], answer_start: [...]}`` as checked (text, start) pairs.

    Raises ValueError with what was expected; the caller names the file, line and question.
    """
    if isinstance(answers, Mapping):
        texts, starts = answers.get("text"), answers.get("answer_start")
        if not isinstance(texts, list) or not isinstance(starts, list) or len(texts) != len(starts):
            raise ValueError("answers as {text: [...], answer_start: [...]} (same lengths) or [{text, answer_start}]")
        pairs = list(zip(texts, starts, strict=True))
    elif isinstance(answers, list) and all(isinstance(a, Mapping) and "text" in a and "answer_start" in a for a in answers):
        pairs = [(a["text"], a["answer_start"]) for a in answers]
    else:
        raise ValueError("answers as {text: [...], answer_start: [...]} (same lengths) or [{text, answer_start}]")
    for text, start in pairs:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"an answer text (a non-empty string), found {text!r}")
        if not isinstance(start, int) or isinstance(start, bool):
            raise ValueError(f"answer_start as an integer, found {start!r}")
        if not 0 <= start < len(context):
            raise ValueError(f"answer_start inside the context (0..{len(context) - 1}), found {start}")
    return pairs


def unanswerable_flag(value: Any) -> bool:
    """SQuAD 2.0's ``is_impossible``: a JSON boolean (a string such as "false" would read as true)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    raise ValueError(f"is_impossible as true or false, found {value!r}")


NO_ANSWERS = (
    "answers for the question (a question without answers is a no-answer question only in a SQuAD 2.0 file, "
    "which marks it is_impossible: true, or in a task scored as SQuAD 2.0)"
)


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
    unanswerable: bool = False,
    text: str = "",
) -> list[QAExample]:
    """Examples of a parsed SQuAD JSON; ``keep(id)`` selects questions (TyDiQA's language prefix).

    ``unanswerable``: the task is scored as SQuAD 2.0, so a question with no answers is a no-answer
    question even unmarked (M2QA, hub exports). ``text``, the document as read, lets errors name lines.
    """
    if not is_squad_json(data):
        raise DataError(path, 1, 'SQuAD JSON: {"data": [{"title", "paragraphs": [{"context", "qas"}]}]}')
    out: list[QAExample] = []
    seen: set[str] = set()
    for a_no, article in enumerate(data["data"], start=1):
        title = article.get("title")
        paragraphs = article["paragraphs"]
        if not isinstance(paragraphs, list):
            raise DataError(path, None, f"article {a_no}: paragraphs as a list")
        for p_no, para in enumerate(paragraphs, start=1):
            where = f"article {a_no}, paragraph {p_no}"
            if not isinstance(para, Mapping) or not isinstance(para.get("context"), str) or not isinstance(para.get("qas"), list):
                raise DataError(path, None, f"{where}: a paragraph with a context string and a qas list")
            context = para["context"]
            for qa in para["qas"]:
                qid = qa.get("id") if isinstance(qa, Mapping) else None
                if not isinstance(qid, str | int) or isinstance(qid, bool):
                    raise DataError(path, None, f"{where}: every question to have an id (a string)")
                qid = str(qid)
                if not isinstance(qa.get("question"), str):
                    raise DataError(path, _line_of(text, qid, 0), f"question {qid}: a question string, found {qa.get('question')!r}")
                if qid in seen:
                    raise DataError(path, _line_of(text, qid, 1), f"a unique question id, found {qid!r} again")
                seen.add(qid)
                if keep is not None and not keep(qid):
                    continue
                try:
                    pairs = [] if unanswerable_flag(qa.get("is_impossible")) else answer_pairs(qa.get("answers", []), context)
                    if not pairs and not unanswerable and not qa.get("is_impossible"):
                        raise ValueError(NO_ANSWERS)
                except ValueError as err:
                    raise DataError(path, _line_of(text, qid, 0), f"question {qid}: {err}") from None
                # the article is a group: a slice of the file never puts one article on both sides
                meta: dict[str, Any] = {"group": f"article-{a_no}"} | ({"title": title} if title is not None else {})
                out.append(qa_example(qid, context, qa["question"], pairs, meta, stats))
    return out


def _line_of(text: str, qid: str, occurrence: int) -> int | None:
    """The line of a question's ``"id"`` in the document (its ``occurrence``-th, counting from 0), if found."""
    lines = json_key_lines(text, "id", qid) if text else []
    return lines[occurrence] if len(lines) > occurrence else None


def read_squad(
    path: Path, keep: Callable[[str], bool] | None = None, stats: Counter[str] | None = None, unanswerable: bool = False
) -> list[QAExample]:
    """Read a SQuAD-format file; see :func:`parse_squad`."""
    text = read_text(path)
    return parse_squad(parse_json(path, text), path, keep, stats, unanswerable, text)


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
