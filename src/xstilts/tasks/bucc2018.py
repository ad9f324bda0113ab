"""BUCC 2018: mining parallel sentences from comparable corpora (de/fr/ru/zh with en), no training."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.retrieval import bucc_files, read_bucc
from xstilts.data.schema import ParallelCorpus
from xstilts.tasks.base import Task
from xstilts.tasks.registry import register

LANGUAGES = ("de", "fr", "ru", "zh")


def read_release(folder: Path, lang: str, split: str) -> tuple[list[ParallelCorpus], list[Path]] | None:
    """``<lang>-en.<name>.{<lang>,en,gold}``: ``dev`` = the release's ``sample`` (or XTREME's ``dev``),
    ``test`` = its ``training`` files (or XTREME's ``test``), which hold gold. One corpus in a list."""
    files = bucc_files(folder, lang, split)
    if files is None:
        return None
    src, tgt, gold = files
    return [read_bucc(src, tgt, gold, lang)], [p for p in (src, tgt, gold) if p is not None]


TASK = Task(
    name="bucc2018",
    format="retrieval",
    role="target",
    languages=LANGUAGES,
    splits={"dev": True, "test": True},
    metric="f1",
    description=(
        "BUCC 2018 bitext mining: F1 of mined (xx, en) pairs, threshold tuned on dev (release 'sample') and "
        "reused on test (release 'training'). Local files only: the hub's bucc18 configs hold just the gold "
        "pairs, without the distractor sentences, so mining on them is not BUCC. A split is one ParallelCorpus, "
        "held as the only element of Split.examples."
    ),
    citation="Zweigenbaum, Sharoff, Rapp. Overview of the Third BUCC Shared Task: Spotting Parallel Sentences in Comparable Corpora. BUCC 2018.",
    release=read_release,
    dev_split="dev",
    eval_split="test",
    xtreme_group="retrieval",
    xtreme_order=8,
)
register(TASK)
