"""Bundled claim files: a paper's statements written as comparisons a grid of runs can check.

A claim names what it compares (intermediate task, target task(s), baseline) and, where the paper
gives one, a size (``at_least``). ``xstilts claims CLAIMS RUN_DIR`` turns each into a verdict.

Example:
    >>> from xstilts.claims import load_claims
    >>> [c.id for c in load_claims("phang2020").claims][:2]  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from xstilts.config import bundled_yaml, first_error, in_file, load_yaml
from xstilts.runs import NO_INTERMEDIATE

CLAIMS_DIR = Path(__file__).parent
ClaimType = Literal["improves", "improves_mean", "best_per_target_gain", "top_k", "narrows_gap", "gap_grows_with_distance"]


class Claim(BaseModel):
    """One checkable statement.

    ``intermediate``: a task name, a list, ``all`` (every intermediate in the runs), ``single``
    (all but multi-task mixtures) or ``multitask`` (the run named so, else the one mixture ``a+b+...``). ``target``: a task name, a list,
    ``all``, ``xtreme`` (the nine) or an XTREME group (``classification``, ``structured``, ``qa``,
    ``retrieval``). ``at_least``: the effect size in points the paper states, if any.

    Domain shift: ``narrows_gap`` says the intermediate task shrinks the target's in- minus out-of-domain
    gap (``language``: one language, default the mean over languages with a gap); ``gap_grows_with_distance``
    says the gap (with ``intermediate``, default none) grows with the language's ``distance`` from English.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    type: ClaimType
    intermediate: str | list[str] | None = None
    target: str | list[str] = "all"
    baseline: str = NO_INTERMEDIATE
    metric: Literal["task_score"] = "task_score"
    at_least: float | None = None
    k: int | None = None
    expected: list[str] | None = None
    language: str = "mean"
    distance: Literal["genetic"] = "genetic"
    #: best_per_target_gain: choose each target's intermediate task on the English dev score (``dev``),
    #: on held-out seeds (``seeds``), or on the reported test scores as the paper did (``test``, optimistic)
    selection: Literal["dev", "seeds", "test"] = "dev"
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Claim:
        if self.type in ("improves", "improves_mean", "narrows_gap") and not self.intermediate:
            raise ValueError(f"claim {self.id}: type {self.type} needs 'intermediate'")
        if self.type in ("narrows_gap", "gap_grows_with_distance") and self.baseline != NO_INTERMEDIATE:
            raise ValueError(f"claim {self.id}: {self.type} compares with the '{NO_INTERMEDIATE}' baseline only")
        if self.type == "gap_grows_with_distance" and isinstance(self.intermediate, list):
            raise ValueError(f"claim {self.id}: gap_grows_with_distance takes one intermediate task (default {NO_INTERMEDIATE})")
        if self.type == "top_k" and (not self.k or not self.expected or len(self.expected) != self.k):
            raise ValueError(f"claim {self.id}: top_k needs k and a list 'expected' of k intermediate tasks")
        return self


class ClaimSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    bootstrap_samples: int = 1000
    bootstrap_seed: int = 0
    alpha: float = 0.05
    #: multiple-comparison correction that verdicts obey: a claim stays supported only if its adjusted
    #: p-value is below alpha (``holm``: family-wise; ``bh``: false discovery rate; ``none``)
    correction: Literal["holm", "bh", "none"] = "holm"
    claims: list[Claim]


def claim_names() -> list[str]:
    return sorted(p.stem for p in CLAIMS_DIR.glob("*.yaml"))


def claims_path(name_or_path: str | Path) -> Path:
    return bundled_yaml(name_or_path, CLAIMS_DIR, "claim file")


def load_claims(name_or_path: str | Path) -> ClaimSet:
    path = claims_path(name_or_path)
    raw = load_yaml(path)
    try:
        return ClaimSet.model_validate(raw)
    except ValidationError as err:
        where, msg, _ = first_error(err)
        raise in_file(path, where, f"{where}: {msg}") from None
