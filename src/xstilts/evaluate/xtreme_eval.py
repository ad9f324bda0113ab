"""XTREME's official scorer (``evaluate.py``), reproduced on the project's own metric code.

A submission folder (``xstilts export xtreme``'s, or anyone's) should get the number XTREME's
leaderboard script gives, without its repository. The script reads
``<folder>/<task>/test-<lang>.{tsv,json}`` for predictions and labels alike, and scores:

- xnli, pawsx, tatoeba: accuracy of stripped lines compared as strings;
- udpos, panx: seqeval's default (non-strict) chunk F1/precision/recall, so bare UPOS tags are read
  as chunks too (:func:`~xstilts.formats.tagging_metric.seqeval_scores`);
- xquad, tydiqa: SQuAD v1.1 EM/F1; mlqa: MLQA's per-language normalisation
  (:mod:`xstilts.formats.qa_metric`). A question without a prediction scores 0 and stays in the
  denominator; predicted ids that are not in the gold are ignored;
- bucc2018: precision/recall/F1 of the *sets* of ``xx-id<TAB>en-id`` lines (repeats count once).

A task present as a folder on both sides is scored over every one of its XTREME languages; each
metric is averaged over them (``avg_<metric>``) and ``avg_metric`` is the task score (QA: the mean
of avg EM and avg F1). A group score needs all of its tasks, ``all_task`` all nine.

Where ``evaluate.py`` crashes or silently mis-reads a file, this raises :class:`DataError` naming
file, line and what was expected instead: a missing file, differing line or sentence counts, broken
JSON, a line that is not one label / one tag / one id pair, a blank line inside a line-per-example
file (trailing blank lines are dropped; the script would count each as an example). Gold QA files
are read by the project's SQuAD reader, which also refuses duplicate ids, questions without answers
and answer starts outside the context. On well-formed files the numbers agree with
``../shared/testvectors/xtreme`` to 1e-6 (sums run in another order, so the last bits can differ).

Example:
    >>> score_folder("submission/predictions", "submission/labels")["overall_scores"]  # doctest: +SKIP
    {'all_task': 63.63..., 'classification': 69.60..., 'tagging': 61.34..., 'qa': 59.75..., 'retrieval': 65.78...}
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xstilts.config import ConfigError
from xstilts.data.files import numbered_lines, parse_json, read_text
from xstilts.data.schema import DataError
from xstilts.data.squad import parse_squad
from xstilts.formats.bucc import prf
from xstilts.formats.qa import read_answer_file
from xstilts.formats.qa_metric import mlqa_scores, squad_v1_scores
from xstilts.formats.tagging_metric import read_tag_sentences, seqeval_scores
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task, xtreme_groups, xtreme_tasks

#: ``evaluate.py``'s names for XTREME's four groups (``GROUP2TASK``), keyed by the project's names
GROUP_KEYS: dict[str, str] = {
    "classification": "classification",
    "structured prediction": "tagging",
    "question answering": "qa",
    "retrieval": "retrieval",
}

Lines = list[tuple[int, str]]


def submission_file(task: str, language: str) -> str:
    """A file's path inside a submission folder: JSON answers for QA, TSV lines for everything else
    (the rule ``xstilts export xtreme`` writes by)."""
    ext = "json" if _xtreme_task(task).fmt.prediction_suffix == ".json" else "tsv"
    return f"{task}/test-{language}.{ext}"


def score_file(task: str, language: str, prediction_path: str | Path, label_path: str | Path) -> dict[str, float]:
    """One file's scores as ``evaluate_one_task`` returns them (0-100): ``accuracy``;
    ``f1``/``precision``/``recall``; or ``exact_match``/``f1``."""
    target = _xtreme_task(task)
    if language not in target.scored_languages:
        raise ConfigError(f"language {language!r} for {task}: one of {', '.join(target.scored_languages)}")
    pred, label = Path(prediction_path), Path(label_path)
    _require_file(pred, "a prediction")
    _require_file(label, "a label")
    return _SCORERS[task](target, language, pred, label)


def score_folder(pred_dir: str | Path, label_dir: str | Path) -> dict[str, Any]:
    """``evaluate(prediction_folder, label_folder)``: ``{overall_scores, detailed_scores}``.

    Only tasks with a folder on both sides are scored, as the script does; within such a task every
    XTREME language must have both files (the script would crash on the first missing one), and
    every missing file is named at once. No task shared by both folders is an error, not ``{}``.
    """
    pred_dir, label_dir = Path(pred_dir), Path(label_dir)
    for folder, role in ((pred_dir, "prediction"), (label_dir, "label")):
        if not folder.is_dir():
            raise DataError(folder, None, f"a {role} folder with one sub-folder per XTREME task, found {'a file' if folder.exists() else 'nothing'}")
    tasks = [t for t in xtreme_tasks() if (pred_dir / t).is_dir() and (label_dir / t).is_dir()]
    if not tasks:
        raise DataError(pred_dir, None, f"a sub-folder named after an XTREME task ({', '.join(xtreme_tasks())}) here and in {label_dir}")
    missing = [str(folder / submission_file(t, lang)) for t in tasks for lang in get_task(t).scored_languages
               for folder in (pred_dir, label_dir) if not (folder / submission_file(t, lang)).is_file()]  # fmt: skip
    if missing:
        listed = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise DataError(missing[0], None, f"a file for every XTREME language of each task scored; {len(missing)} missing: {listed}")
    detailed = {
        t: task_scores(t, {lang: score_file(t, lang, pred_dir / submission_file(t, lang), label_dir / submission_file(t, lang))
                           for lang in get_task(t).scored_languages})
        for t in tasks
    }  # fmt: skip
    overall: dict[str, float] = {}
    if len(detailed) == len(xtreme_tasks()):
        overall["all_task"] = _mean([detailed[t]["avg_metric"] for t in xtreme_tasks()])
    for group, members in xtreme_groups().items():
        if all(t in detailed for t in members):
            overall[GROUP_KEYS[group]] = _mean([detailed[t]["avg_metric"] for t in members])
    return {"overall_scores": overall, "detailed_scores": detailed}


def task_scores(task: str, per_language: dict[str, dict[str, float]]) -> dict[str, Any]:
    """One task's entry of ``detailed_scores``: ``{metric: {lang: value}}``, ``avg_<metric>`` and
    ``avg_metric``, the task score read off each language by the task's format (QA: (EM+F1)/2)."""
    target = _xtreme_task(task)
    out: dict[str, Any] = {}
    for scores in per_language.values():
        for metric in scores:
            out.setdefault(metric, {})
    for lang, scores in per_language.items():
        for metric, value in scores.items():
            out[metric][lang] = value
    out.update({f"avg_{m}": _mean(list(out[m].values())) for m in list(out)})
    language_scores = [target.fmt.language_score(target, scores) for scores in per_language.values()]
    if any(v is None for v in language_scores):
        raise ValueError(f"{task}: a language's scores lack the metric its task score needs ({target.fmt.score_rule(target)})")
    out["avg_metric"] = _mean([float(v) for v in language_scores if v is not None])
    return out


# --------------------------------------------------------------------------- one scorer per file layout


def _accuracy(task: Task, language: str, pred: Path, label: Path) -> dict[str, float]:
    """xnli, pawsx, tatoeba: a label (or retrieved index) per line, compared as text."""
    what = "retrieved index" if task.name == "tatoeba" else "label"
    gold = _single_values(label, what)
    if not gold:
        raise DataError(label, 1, f"at least one {what}, found an empty file")
    guess = _single_values(pred, what)
    _same_count(pred, label, guess, len(gold), f"one {what} per line")
    correct = sum(p == g for (_, p), (_, g) in zip(guess, gold, strict=True))
    return {"accuracy": correct / len(guess) * 100}


def _chunk_f1(task: Task, language: str, pred: Path, label: Path) -> dict[str, float]:
    """udpos, panx: a tag per line, a blank line after each sentence; seqeval's default chunk F1."""
    gold = read_tag_sentences(label)
    if not gold:
        raise DataError(label, 1, "at least one sentence of tags, found an empty file")
    guess = read_tag_sentences(pred)
    if len(guess) != len(gold):
        line = guess[len(gold)][0] if len(guess) > len(gold) else (guess[-1][0] + len(guess[-1][1]) + 1 if guess else 1)
        raise DataError(pred, line, f"{len(gold)} sentences of tags as in {label} (a blank line after each), found {len(guess)}")
    for no, ((start, p), (_, g)) in enumerate(zip(guess, gold, strict=True), start=1):
        if len(p) != len(g):
            raise DataError(pred, start, f"sentence {no}: {len(g)} tags as in {label}, found {len(p)}")
    scores = seqeval_scores([g for _, g in gold], [p for _, p in guess])
    return {k: scores[k] for k in ("f1", "precision", "recall")}


def _qa(task: Task, language: str, pred: Path, label: Path) -> dict[str, float]:
    """xquad, tydiqa (SQuAD v1.1) and mlqa (MLQA, per language): ``{question_id: answer}`` JSON
    against SQuAD-format gold (``{"data": [...]}``, or the bare list of articles the script also takes)."""
    answers, _ = read_answer_file(pred)
    text = read_text(label)
    data = parse_json(label, text)
    examples = parse_squad({"data": data} if isinstance(data, list) else data, label, text=text)
    if not examples:
        raise DataError(label, None, "at least one question, found none")
    gold = {ex.id: [t for t, _ in ex.answers] for ex in examples}
    raw = mlqa_scores(gold, answers, language) if task.metric_variant == "mlqa" else squad_v1_scores(gold, answers)
    return {"exact_match": raw["exact_match"], "f1": raw["f1"]}


def _pair_f1(task: Task, language: str, pred: Path, label: Path) -> dict[str, float]:
    """bucc2018: ``xx-id<TAB>en-id`` per line, scored as sets of lines."""
    scores = prf(_pairs(pred), _pairs(label))
    return {k: scores[k] for k in ("f1", "precision", "recall")}


_SCORERS: dict[str, Callable[[Task, str, Path, Path], dict[str, float]]] = {
    "xnli": _accuracy,
    "pawsx": _accuracy,
    "udpos": _chunk_f1,
    "panx": _chunk_f1,
    "xquad": _qa,
    "mlqa": _qa,
    "tydiqa": _qa,
    "bucc2018": _pair_f1,
    "tatoeba": _accuracy,
}


# --------------------------------------------------------------------------- reading


def _xtreme_task(task: str) -> Task:
    if task not in _SCORERS or task not in xtreme_tasks():
        raise ConfigError(f"task {task!r}: one of XTREME's {', '.join(xtreme_tasks())}")
    return get_task(task)


def _require_file(path: Path, role: str) -> None:
    if not path.is_file():
        raise DataError(path, None, f"{role} file, found {'a folder' if path.is_dir() else 'nothing'}")


def _lines(path: Path) -> Lines:
    """Stripped lines with their numbers, as ``[l.strip() for l in f]`` reads them, less trailing blanks."""
    lines = [(no, text.strip()) for no, text in numbered_lines(path)]
    while lines and not lines[-1][1]:
        lines.pop()
    return lines


def _single_values(path: Path, what: str) -> Lines:
    """Lines holding exactly one whitespace-free value (a blank one would be scored as the label '')."""
    lines = _lines(path)
    for no, value in lines:
        if len(value.split()) != 1:
            raise DataError(path, no, f"one {what} on the line, found {value!r}")
    return lines


def _pairs(path: Path) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for no, value in _lines(path):
        parts = value.split("\t")
        if len(parts) != 2 or not all(parts):
            raise DataError(path, no, f"<xx-id><TAB><en-id>, found {value!r}")
        pairs.add((parts[0], parts[1]))
    return pairs


def _same_count(pred: Path, label: Path, lines: Lines, n_gold: int, expected: str) -> None:
    """Refuse files of unequal length: the script asserts, and zip would silently pair wrong lines."""
    if len(lines) != n_gold:
        line = lines[n_gold][0] if len(lines) > n_gold else (lines[-1][0] + 1 if lines else 1)
        raise DataError(pred, line, f"{expected}: {n_gold} lines as in {label}, found {len(lines)}")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
