"""Adversarial NLI, rounds 1-3; a split without a round suffix is the three rounds together."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_jsonl
from xstilts.data.schema import Example
from xstilts.formats.classification import classification_rows
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.common import NLI_ALIASES, NLI_LABELS, pair_row
from xstilts.tasks.registry import register

ROUNDS = ("r1", "r2", "r3")


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """The ANLI v1.0 release: ``R1/{train,dev,test}.jsonl`` with context, hypothesis, label (e/n/c)."""
    base, _, rnd = split.partition("_")
    path = folder / rnd.upper() / f"{base}.jsonl"
    if lang != "en" or not rnd or not path.is_file():
        return None
    keep = ("uid", "context", "hypothesis", "label", "genre")
    rows = ((line, {k: r[k] for k in keep if k in r}) for line, r in read_jsonl(path))
    return classification_rows(TASK, rows, path), [path]


TASK = Task(
    name="anli",
    format="classification",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True, "test": True} | {f"{s}_{r}": True for s in ("train", "dev", "test") for r in ROUNDS},
    metric="accuracy",
    description="Adversarial NLI rounds 1-3 (train/dev/test = the three rounds concatenated).",
    citation="Nie, Williams, Dinan, Bansal, Weston, Kiela. Adversarial NLI. ACL 2020.",
    train_size=162865,
    labels=NLI_LABELS,
    label_aliases=NLI_ALIASES,
    hub=HubSource(
        dataset="facebook/anli",
        revision="8e4813d81f46d313dac7892e1c28076917cfcdf9",
        config="plain_text",
        row=pair_row("premise", "hypothesis", "label", NLI_LABELS, id_field="uid"),
    ),
    release=read_release,
    parts={s: tuple(f"{s}_{r}" for r in ROUNDS) for s in ("train", "dev", "test")},
)
register(TASK)

ANLI_PLUS = Task(
    name="anli_plus",
    format="classification",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True},
    metric="accuracy",
    description="ANLI+: ANLI rounds 1-3 + SNLI + MNLI under one NLI head, as in the paper.",
    citation="Phang et al. 2020, after Nie et al. 2020.",
    labels=NLI_LABELS,
    label_aliases=NLI_ALIASES,
    components=("anli", "snli", "mnli"),
)
register(ANLI_PLUS)
