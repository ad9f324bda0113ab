"""Synthetic runs for report, claim and export tests: RunResult JSONs with chosen scores.

``write_run`` writes a result with given metrics (no predictions); ``DataRoot`` writes small gold
files for a few XTREME tasks and ``scored_run`` writes a run whose predictions and metrics come from
the real format modules, so per-example re-scoring and export can be checked against them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xstilts.data.load import load_split
from xstilts.formats.base import get_format
from xstilts.runs import RunResult
from xstilts.tasks.registry import get_task


def config(data_dir: str | None = None, split: str = "test", max_examples: int | None = None) -> dict[str, Any]:
    return {"data": {"data_dir": data_dir, "eval_split": split}, "eval": {"max_examples": max_examples}}


def write_run(
    run_dir: Path, task: str, intermediate: str | None, seed: int, metrics: Mapping[str, Mapping[str, float]],
    kind: str = "transfer", model: str = "tiny", run_id: str | None = None, created: str = "2024-01-01T00:00:00+00:00",
    predictions: dict[str, str] | None = None, data_dir: str | None = None, split: str = "test",
) -> str:  # fmt: skip
    rid = run_id or f"{kind}-{task}-{intermediate}-{seed}"
    keys = {k for m in metrics.values() for k in m if k != "n"}
    average = {k: sum(m[k] for m in metrics.values() if k in m) / sum(k in m for m in metrics.values()) for k in keys}
    RunResult(
        run_id=rid, kind=kind, task=task, intermediate=intermediate, model=model, seed=seed,
        config=config(data_dir, split), versions={}, git_commit=None, metrics={k: dict(v) for k, v in metrics.items()},
        average=average, predictions=predictions or {}, notes=[f"split {split}; synthetic"], created=created,
    ).write(Path(run_dir) / rid)  # fmt: skip
    return rid


def uniform(task: str, **metrics: float) -> dict[str, dict[str, float]]:
    """The same metrics in every scored language of ``task``."""
    return {lang: dict(metrics) for lang in get_task(task).scored_languages}


class DataRoot:
    """Small gold files in an xstilts data root (plain names, or release names for retrieval)."""

    def __init__(self, root: Path, seed: int = 0) -> None:
        self.root = Path(root)
        self.rng = random.Random(seed)

    def pawsx(self, lang: str, n: int) -> None:
        rows = ["id\tsentence1\tsentence2\tlabel"] + [f"p{i}\tsentence {i} a\tsentence {i} b\t{self.rng.choice('01')}" for i in range(n)]
        self._write(f"pawsx/{lang}.test.tsv", "\n".join(rows) + "\n")

    def udpos(self, lang: str, n: int) -> None:
        tags = ["NOUN", "VERB", "DET", "ADJ", "PROPN"]
        lines = []
        for i in range(n):
            k = self.rng.randint(2, 6)
            lines.append(json.dumps({"id": f"s{i}", "tokens": [f"w{i}_{j}" for j in range(k)], "pos_tags": [self.rng.choice(tags) for _ in range(k)]}))
        self._write(f"udpos/{lang}.test.jsonl", "\n".join(lines) + "\n")

    def xquad(self, lang: str, n: int) -> None:
        lines = []
        for i in range(n):
            context = f"The answer number {i} is blue sky {i} today."
            answer = f"blue sky {i}"
            lines.append(json.dumps({"id": f"q{i}", "context": context, "question": f"What is {i}?",
                                     "answers": {"text": [answer], "answer_start": [context.index(answer)]}}))  # fmt: skip
        self._write(f"xquad/{lang}.test.jsonl", "\n".join(lines) + "\n")

    def tatoeba(self, lang: str, iso3: str, n: int) -> None:
        self._write(f"tatoeba/tatoeba.{iso3}-eng.{iso3}", "".join(f"satz {i}\n" for i in range(n)))
        self._write(f"tatoeba/tatoeba.{iso3}-eng.eng", "".join(f"sentence {i}\n" for i in range(n)))

    def bucc(self, lang: str, n: int) -> None:
        self._write(f"bucc2018/{lang}-en.test.{lang}", "".join(f"{lang}-{i:06d}\tsatz {i}\n" for i in range(n)))
        self._write(f"bucc2018/{lang}-en.test.en", "".join(f"en-{i:06d}\tsentence {i}\n" for i in range(n)))
        self._write(f"bucc2018/{lang}-en.test.gold", "".join(f"{lang}-{i:06d}\ten-{i:06d}\n" for i in range(0, n, 2)))

    def _write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def corrupt(task: str, examples: list[Any], wrong: float, rng: random.Random) -> dict[str, Any]:
    """Predictions for ``examples`` with exactly ``round(wrong * n)`` of them wrong (gold otherwise)."""
    fmt = get_task(task).format
    if fmt == "retrieval":
        corpus = examples[0]
        gold = dict(corpus.gold)
        bad = set(rng.sample(corpus.src_ids, round(wrong * len(corpus.src_ids))))
        out = {}
        for s in corpus.src_ids:
            t = gold.get(s, corpus.tgt_ids[0])
            out[s] = t if s not in bad else corpus.tgt_ids[(corpus.tgt_ids.index(t) + 1) % len(corpus.tgt_ids)]
        return out
    bad = set(rng.sample([ex.id for ex in examples], round(wrong * len(examples))))
    out = {}
    for ex in examples:
        if fmt == "classification":
            out[ex.id] = ex.label if ex.id not in bad else ("1" if ex.label == "0" else "0")
        elif fmt == "tagging":
            out[ex.id] = [t if not (ex.id in bad and j == 0) else ("VERB" if t != "VERB" else "NOUN") for j, t in enumerate(ex.tags)]
        elif fmt == "qa":
            out[ex.id] = ex.answers[0][0] if ex.id not in bad else ("the answer" if rng.random() < 0.5 else ex.answers[0][0].split()[0])
    return out


def scored_run(
    run_dir: Path, root: Path, task: str, intermediate: str, seed: int, wrong: Mapping[str, float], rng_seed: int = 0,
    kind: str = "transfer",
) -> str:  # fmt: skip
    """A run whose prediction files and metrics come from the real format modules."""
    t, fmt = get_task(task), get_format(get_task(task).format)
    rid = f"{kind}-{task}-{intermediate}-{seed}"
    folder = Path(run_dir) / rid
    metrics, preds_rel = {}, {}
    rng = random.Random(f"{task}/{intermediate}/{seed}/{rng_seed}")
    for lang, share in wrong.items():
        examples = load_split(t, lang, "test", str(root)).examples
        preds = corrupt(task, examples, share, rng)
        rel = f"predictions/{lang}{getattr(fmt, 'prediction_suffix', '.txt')}"
        fmt.write_predictions(folder / rel, examples, preds)
        gold = [ex for ex in examples if t.fmt.has_gold(ex)]
        metrics[lang] = fmt.score(gold, preds, lang)
        preds_rel[lang] = rel
    write_run(run_dir, task, intermediate, seed, metrics, kind=kind, run_id=rid, predictions=preds_rel, data_dir=str(root))
    return rid
