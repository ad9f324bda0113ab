"""Plain-file readers for the QA, multiple-choice and tagging formats, and their hub row mappers.

Importing this module registers them with :mod:`xstilts.data.plain` (row converters) and
:data:`xstilts.data.load.FILE_READERS` (whole-file formats: CoNLL-U, IOB2, ``word|tag`` text and
SQuAD JSON). Plain JSONL uses the hub datasets' own field names, so one function serves both.

Multiple choice: ``context`` is what stands before the choices and ``question`` the text that runs
into each of them (CosmosQA: passage / question; HellaSwag: ``ctx_a`` / ``ctx_b``; CommonsenseQA:
the question / empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xstilts.data.conllu import read_conllu
from xstilts.data.files import read_json, require
from xstilts.data.iob2 import check_tag, read_iob2, read_tagged_text
from xstilts.data.load import FILE_READERS
from xstilts.data.plain import UNLABELED, read_plain, register_converter
from xstilts.data.schema import (
    DataError,
    Example,
    MultipleChoiceExample,
    ParallelCorpus,
    QAExample,
    TaggingExample,
)
from xstilts.data.squad import is_squad_json, parse_squad, qa_example

if TYPE_CHECKING:
    from xstilts.tasks.base import Task

TAG_FIELDS = ("tags", "ner_tags", "pos_tags")
_ANSWER_PREFIXES = ("answer", "ending")


# --------------------------------------------------------------------------- QA


def qa_row(task: Task, row: dict[str, Any], path: Path, line: int, index: int) -> QAExample:
    """``id, context, question, answers`` with answers as ``{text: [...], answer_start: [...]}`` or a list."""
    context, question = require(row, path, line, "context", "question")
    answers = row.get("answers") or []
    if row.get("is_impossible") in (True, "true", "True", 1):
        answers = []
    try:
        if isinstance(answers, Mapping):
            texts, starts = list(answers.get("text") or []), list(answers.get("answer_start") or [])
            if len(texts) != len(starts):
                raise ValueError
            pairs = [(str(t), int(s)) for t, s in zip(texts, starts, strict=True)]
        else:
            pairs = [(str(a["text"]), int(a["answer_start"])) for a in answers]
    except (KeyError, TypeError, ValueError):
        raise DataError(path, line, "answers as {text: [...], answer_start: [...]} (same lengths) or [{text, answer_start}]") from None
    qid = str(row.get("id") or f"{path.stem}-{index}")
    meta = {"title": row["title"]} if row.get("title") is not None else {}
    return qa_example(qid, str(context), str(question), pairs, meta)


def read_json_file(task: Task, path: Path) -> list[Example]:
    """A ``.json`` plain file: SQuAD layout for QA tasks, otherwise a JSON list of records."""
    if task.format == "qa":
        data = read_json(path)
        if is_squad_json(data):
            return list(parse_squad(data, path))
    return read_plain(task, path)


# --------------------------------------------------------------------------- multiple choice


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


def choice_row(task: Task, row: dict[str, Any], path: Path, line: int, index: int) -> MultipleChoiceExample:
    return choice_example(row, path, line, f"{path.stem}-{index}")


def hub_choice_row(row: Mapping[str, Any], lang: str, i: int) -> MultipleChoiceExample:
    """Hub rows of Rowan/hellaswag, allenai/cosmos_qa and tau/commonsense_qa (label -1/"" = unlabeled)."""
    return choice_example(row, "hub row", i, f"{lang}-{i}")


# --------------------------------------------------------------------------- tagging


def is_ner(task: Task) -> bool:
    """NER tasks have IOB2 label sets; their tags are checked for IOB2 shape."""
    return bool(task.labels) and any(lab.startswith("B-") for lab in task.labels or ())


def tagging_row(task: Task, row: dict[str, Any], path: Path, line: int, index: int) -> TaggingExample:
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
    if tags is not None:
        if len(tags) != len(tokens):
            raise DataError(path, line, f"one tag per token ({len(tokens)} tokens, {len(tags)} tags)")
        if any(not isinstance(t, str) for t in tags):
            raise DataError(path, line, f"tag names in {field} (strings such as B-PER), not class ids")
        for tag in tags:
            check_tag(tag, path, line, task.labels, is_ner(task))
    meta = {k: v for k, v in row.items() if k not in {"id", "tokens", field}}
    return TaggingExample(str(row.get("id") or f"{path.stem}-{index}"), [str(t) for t in tokens], tags, meta)


def _require_tagging(task: Task, path: Path) -> None:
    if task.format != "tagging":
        raise DataError(path, None, f"a tagging task for a {path.suffix} file; {task.name} is {task.format}")


def _lang_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


def read_conllu_file(task: Task, path: Path) -> list[Example]:
    _require_tagging(task, path)
    return list(read_conllu(path, task.labels))


def read_iob2_file(task: Task, path: Path) -> list[Example]:
    _require_tagging(task, path)
    return list(read_iob2(path, task.labels, lang=_lang_of(path)))


def read_text_file(task: Task, path: Path) -> list[Example]:
    _require_tagging(task, path)
    return list(read_tagged_text(path, task.labels, iob2=is_ner(task)))


def hub_tag_row(field: str, names: tuple[str, ...] | None = None):
    """A mapper for hub rows ``tokens`` + ``field`` (ClassLabel ids mapped through ``names``)."""

    def row(r: Mapping[str, Any], lang: str, i: int) -> TaggingExample:
        tags = r[field]
        if names is not None:
            tags = [t if isinstance(t, str) else names[int(t)] for t in tags]
        ex_id = str(r["id"]) if r.get("id") is not None else f"{lang}-{i}"
        return TaggingExample(ex_id, list(r["tokens"]), list(tags))

    return row


register_converter("qa", qa_row)
register_converter("multiple_choice", choice_row)
register_converter("tagging", tagging_row)
FILE_READERS.update({"conllu": read_conllu_file, "iob2": read_iob2_file, "txt": read_text_file, "json": read_json_file})


def parallel_row(task: Task, row: dict[str, Any], path: Path, line: int, index: int) -> ParallelCorpus:
    """A plain parallel file row (``src``/``tgt``, or ``sentence1``/``sentence2``) as a one-pair corpus."""
    cols = ("src", "tgt") if "src" in row else ("sentence1", "sentence2")
    src, tgt = require(row, path, line, *cols)
    sid = str(index)
    return ParallelCorpus([sid], [str(src)], [sid], [str(tgt)], [(sid, sid)], src_lang=path.name.split(".")[0])


register_converter("retrieval", parallel_row)
