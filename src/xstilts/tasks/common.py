"""Label sets, aliases and hub row mappers shared by several task definitions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xstilts.data.schema import ClassificationExample

NLI_LABELS = ("entailment", "neutral", "contradiction")
NLI_ALIASES = {
    "e": "entailment",
    "n": "neutral",
    "c": "contradiction",
    "contradictory": "contradiction",
    "entails": "entailment",
}
BINARY_LABELS = ("0", "1")

NLI_CITATION_MNLI = "Williams, Nangia, Bowman. A Broad-Coverage Challenge Corpus for Sentence Understanding through Inference. NAACL 2018."


def class_label_name(value: Any, names: tuple[str, ...]) -> str | None:
    """A hub ClassLabel integer to its name; -1 (unlabeled) to None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return None if int(value) < 0 else names[int(value)]


def pair_row(a: str, b: str, label: str, names: tuple[str, ...], meta: tuple[str, ...] = (), id_field: str | None = None):
    """A row mapper for hub pair-classification datasets whose label is a ClassLabel over ``names``."""

    def row(r: Mapping[str, Any], lang: str, i: int) -> ClassificationExample | None:
        lab = class_label_name(r.get(label), names)
        ex_id = str(r[id_field]) if id_field and r.get(id_field) is not None else f"{lang}-{i}"
        return ClassificationExample(ex_id, r[a], r[b], lab, {k: r[k] for k in meta if k in r})

    return row
