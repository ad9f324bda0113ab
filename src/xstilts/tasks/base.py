"""A task is a small declarative object: where its data comes from, its languages, splits and metric.

Adding a task means adding one module under ``xstilts/tasks/`` that calls :func:`register`.
Formats (``xstilts/formats``) supply everything that depends on the kind of task.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from xstilts.data.schema import Example
    from xstilts.formats.base import Format

FormatName = Literal["classification", "multiple_choice", "qa", "tagging", "retrieval"]
Role = Literal["intermediate", "target", "evaluation", "mini"]
XtremeGroup = Literal["classification", "structured prediction", "question answering", "retrieval"]
#: XTREME's four task groups, in the order its paper reports them
XTREME_GROUPS: tuple[XtremeGroup, ...] = (
    "classification",
    "structured prediction",
    "question answering",
    "retrieval",
)

#: Maps one hub row (a dict following the hub dataset's features) to an example, or None to skip it.
RowMapper = Callable[[Mapping[str, Any], str, int], "Example | None"]
#: Reads a task's release-named files from ``ROOT/<folder>`` for (language, split); None if absent.
ReleaseReader = Callable[[Path, str, str], "list[Example] | None"]


@dataclass(frozen=True)
class HubSource:
    """A Hugging Face hub dataset at a pinned revision.

    ``revision`` is a full 40-hex commit sha, or ``main`` with ``unpinned_reason`` saying why no
    sha could be pinned (evidence: ``docs/hub_revisions.md``); a run records the revision it resolved.
    ``config`` and every value of ``splits`` may contain ``{lang}``, filled per language.
    ``language_column`` names a column that selects the language inside one config.
    """

    dataset: str
    revision: str
    row: RowMapper
    config: str | None = None
    splits: Mapping[str, str] = field(default_factory=dict)
    language_column: str | None = None
    language_names: Mapping[str, str] = field(default_factory=dict)
    unpinned_reason: str = ""

    @property
    def pinned(self) -> bool:
        """Whether ``revision`` names one immutable commit (a branch such as ``main`` moves)."""
        return re.fullmatch(r"[0-9a-f]{40}", self.revision) is not None

    def config_for(self, lang: str) -> str | None:
        if self.config is None:
            return None
        return self.config.format(lang=lang, Lang=self.language_names.get(lang, lang))

    def split_for(self, split: str, lang: str) -> str:
        return self.splits.get(split, split).format(lang=lang)


#: how a task name becomes a task; the registry installs it (it imports this module, never the reverse)
_lookup: Callable[[str], Task] | None = None


def set_lookup(lookup: Callable[[str], Task]) -> None:
    global _lookup
    _lookup = lookup


@dataclass(frozen=True)
class Task:
    """Everything that defines a task, and nothing about how to run it."""

    name: str
    format: FormatName
    role: Role
    languages: tuple[str, ...]
    #: split name -> whether it ships gold labels
    splits: Mapping[str, bool]
    metric: str
    description: str
    citation: str = ""
    labels: tuple[str, ...] | None = None
    #: aliases accepted for label names in files (``e`` -> ``entailment``)
    label_aliases: Mapping[str, str] = field(default_factory=dict)
    hub: HubSource | None = None
    release: ReleaseReader | None = None
    #: the task whose English training data trains this target (``xnli`` -> ``mnli``)
    train_task: str | None = None
    train_split: str = "train"
    dev_split: str = "dev"
    eval_split: str = "test"
    #: languages counted in the task's XTREME average (default: all)
    average_languages: tuple[str, ...] | None = None
    #: a packaged data root the task always reads (mini benchmark), else None
    builtin_root: Path | None = None
    #: fields of ``meta`` worth slicing metrics by (XNLI's genre)
    slice_fields: tuple[str, ...] = ()
    #: per-task overrides of training hyperparameters, as dotted config keys
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: examples in the task's English training set (its hub source's): costs a grid before any download
    train_size: int | None = None
    #: the XTREME group of one of XTREME's nine targets; None for every other task
    xtreme_group: XtremeGroup | None = None
    #: the task's column in XTREME's tables (1-9): fixes the order of reports and submissions
    xtreme_order: int | None = None
    #: a split that is the concatenation of others (ANLI's ``dev`` = ``dev_r1`` + ``dev_r2`` + ``dev_r3``)
    parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: which variant of the format's metric scores the task (QA: ``squad_v1``, ``squad_v2`` or ``mlqa``)
    metric_variant: str | None = None
    #: a mixture task reads these tasks' splits and concatenates them (ANLI+ = SNLI + MNLI + ANLI)
    components: tuple[str, ...] = ()
    #: the domain of an example whose file names none (no genre, no treebank): XQuAD's ``wikipedia``
    domain: str | None = None
    #: tags (``-``) or entity types (``OTH``) read as another tag or type, e.g. to ``O`` for PER/LOC/ORG;
    #: recorded in every evaluation result that used it
    label_map: Mapping[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return self.name

    @property
    def scored_languages(self) -> tuple[str, ...]:
        return self.average_languages or self.languages

    @property
    def fmt(self) -> Format:
        """The task's format, bound to it: it reads the task's files, scores and writes its predictions."""
        from xstilts.formats.base import format_of

        return format_of(self)

    def component_tasks(self) -> list[Task]:
        """The tasks a mixture concatenates (ANLI+ = SNLI + MNLI + ANLI), looked up in the registry."""
        if _lookup is None:
            raise RuntimeError(f"{self.name}: its components are looked up in xstilts.tasks.registry, not imported yet")
        return [_lookup(name) for name in self.components]

    @property
    def xtreme(self) -> bool:
        """Whether the task is one of XTREME's nine targets."""
        return self.xtreme_group is not None

    def english_training_task(self, override: str | None = None) -> str:
        """The task whose English training data trains this target (``xnli`` -> ``mnli``).

        ``override`` is a run's ``data.train_task``; without one, a task trains on its own data.
        """
        return override or self.train_task or self.name

    def canonical_label(self, raw: str) -> str | None:
        """Map a label as written in a file onto the task's label set; None if unknown."""
        if self.labels is None:
            return raw
        key = raw.strip()
        if key in self.labels:
            return key
        alias = self.label_aliases.get(key) or self.label_aliases.get(key.lower())
        return alias if alias in self.labels else None
