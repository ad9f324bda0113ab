"""A task is a small declarative object: where its data comes from, its languages, splits and metric.

Adding a task means adding one module under ``xstilts/tasks/`` that calls :func:`register`.
Formats (``xstilts/formats``) supply everything that depends on the kind of task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from xstilts.data.schema import Example

FormatName = Literal["classification", "multiple_choice", "qa", "tagging", "retrieval"]
Role = Literal["intermediate", "target", "evaluation", "mini"]

#: Maps one hub row (a dict following the hub dataset's features) to an example, or None to skip it.
RowMapper = Callable[[Mapping[str, Any], str, int], "Example | None"]
#: Reads a task's release-named files from ``ROOT/<folder>`` for (language, split); None if absent.
ReleaseReader = Callable[[Path, str, str], "list[Example] | None"]


@dataclass(frozen=True)
class HubSource:
    """A Hugging Face hub dataset at a pinned revision.

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

    def config_for(self, lang: str) -> str | None:
        if self.config is None:
            return None
        return self.config.format(lang=lang, Lang=self.language_names.get(lang, lang))

    def split_for(self, split: str, lang: str) -> str:
        return self.splits.get(split, split).format(lang=lang)


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
    #: whether the task is one of XTREME's nine targets
    xtreme: bool = False
    #: a split that is the concatenation of others (ANLI's ``dev`` = ``dev_r1`` + ``dev_r2`` + ``dev_r3``)
    parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: metadata set on every loaded example (``{"qa_metric": "mlqa"}`` picks MLQA's scorer)
    meta_defaults: Mapping[str, Any] = field(default_factory=dict)
    #: a mixture task reads these tasks' splits and concatenates them (ANLI+ = SNLI + MNLI + ANLI)
    components: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        return self.name

    @property
    def scored_languages(self) -> tuple[str, ...]:
        return self.average_languages or self.languages

    def canonical_label(self, raw: str) -> str | None:
        """Map a label as written in a file onto the task's label set; None if unknown."""
        if self.labels is None:
            return raw
        key = raw.strip()
        if key in self.labels:
            return key
        alias = self.label_aliases.get(key) or self.label_aliases.get(key.lower())
        return alias if alias in self.labels else None
