"""One entry point for examples: ``load_split(task, language, split, data_dir)``.

Sources, in order: the task's packaged data (mini benchmark); with ``data_dir``, plain-named files
``ROOT/<task>/<lang>.<split>.<ext>`` and then the release file names; without it, the hub at the
task's pinned revision. Every split carries a fingerprint of exactly the bytes it came from.

A split may select by domain or treebank (``test@treebank=gum``, ``train@domain!=travel``; see
``xstilts.data.domains``); every example has a domain, stated by its file or the task's.

The loader is handed the task and asks it for everything else: its format reads plain-named files
and gathers a split (``task.fmt``), and a mixture names its component tasks. So this module, at the
bottom of the house, imports neither the task registry nor any format.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from xstilts.data.domains import PER_DOMAIN, SELECTION_VERSION, cut, parse_selection, select, task_domain
from xstilts.data.schema import DataError
from xstilts.paths import safe_name


class Reader(Protocol):
    """What the loader asks of a task's format: read a plain-named file, gather a split, count it."""

    def read_file(self, task: Any, path: Path) -> list[Any]: ...
    def collect(self, examples: list[Any], language: str) -> list[Any]: ...
    def counts(self, examples: Sequence[Any]) -> Any: ...


class Source(Protocol):
    """What the loader reads of a task (``xstilts.tasks.base.Task`` has it): data imports no task."""

    @property
    def name(self) -> str: ...
    @property
    def folder(self) -> str: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def fmt(self) -> Reader: ...
    @property
    def hub(self) -> Any: ...
    @property
    def release(self) -> Callable[[Path, str, str], Any] | None: ...
    @property
    def builtin_root(self) -> Path | None: ...
    @property
    def parts(self) -> Mapping[str, tuple[str, ...]]: ...
    @property
    def components(self) -> tuple[str, ...]: ...
    @property
    def domain(self) -> str | None: ...

    def component_tasks(self) -> Sequence[Source]: ...


PLAIN_EXTS = ("tsv", "csv", "jsonl", "json", "conllu", "iob2", "txt")


@dataclass
class Split:
    """Examples of one (task, language, split) and where exactly they came from."""

    task: str
    language: str
    split: str
    examples: list[Any]
    source: str
    fingerprint: str


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def plain_files(folder: Path, lang: str, split: str) -> list[Path]:
    return [folder / f"{lang}.{split}.{ext}" for ext in PLAIN_EXTS if (folder / f"{lang}.{split}.{ext}").is_file()]


def _read_plain_file(task: Source, path: Path) -> list[Any]:
    fmt = task.fmt
    return fmt.collect(fmt.read_file(task, path), path.name.split(".")[0])


def load_local(task: Source, root: Path, lang: str, split: str) -> Split:
    folder = Path(root) / task.folder
    if not folder.is_dir():
        raise DataError(folder, None, f"a folder with {task.name} data under the data root {root}")
    files = plain_files(folder, lang, split)
    if len(files) > 1:
        raise DataError(folder, None, f"one file for {lang}.{split}, found {', '.join(f.name for f in files)}")
    if files:
        examples = _read_plain_file(task, files[0])
        return Split(task.name, lang, split, examples, str(files[0]), _hash_files(files))
    if task.release is not None:
        found = task.release(folder, lang, split)
        if found is not None:
            examples, used = found if isinstance(found, tuple) else (found, sorted(folder.rglob("*")))
            used_files = [p for p in used if Path(p).is_file()]
            return Split(task.name, lang, split, examples, str(folder), _hash_files(used_files))
    raise DataError(
        folder, None, f"{lang}.{split}.<{'|'.join(PLAIN_EXTS)}> or the {task.name} release files for {lang}/{split}"
    )


def load_hub(task: Source, lang: str, split: str) -> Split:
    if task.hub is None:
        raise DataError(task.name, None, f"a --data-dir: {task.name} has no hub source")
    import datasets

    hub = task.hub
    config = hub.config_for(lang)
    hub_split = hub.split_for(split, lang)
    ds = datasets.load_dataset(hub.dataset, config, split=hub_split, revision=hub.revision)
    examples = hub_rows_to_examples(task, ds, lang)
    fp = hashlib.sha256(f"{hub.dataset}@{hub.revision}/{config}/{hub_split}/{ds._fingerprint}".encode()).hexdigest()[:16]
    return Split(task.name, lang, split, examples, f"hf://{hub.dataset}@{hub.revision}/{config}/{hub_split}", fp)


def hub_rows_to_examples(task: Source, rows: Any, lang: str) -> list[Any]:
    """Map hub rows (a ``datasets.Dataset`` or any iterable of dicts) through the task's row mapper."""
    assert task.hub is not None
    out: list[Any] = []
    col = task.hub.language_column
    for i, row in enumerate(rows):
        if col and row.get(col) != lang:
            continue
        ex = task.hub.row(row, lang, i)
        if ex is not None:
            out.append(ex)
    return task.fmt.collect(out, lang)


def _combine(task: Source, lang: str, split: str, pieces: list[Split]) -> Split:
    examples = [ex for piece in pieces for ex in piece.examples]
    fp = hashlib.sha256("".join(p.fingerprint for p in pieces).encode()).hexdigest()[:16]
    return Split(task.name, lang, split, examples, " + ".join(p.source for p in pieces), fp)


SLICE = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<start>-?\d+%?)?:(?P<stop>-?\d+%?)?\]$")


def load_split(task: Source, lang: str, split: str, data_dir: Path | str | None = None) -> Split:
    """Load one split; ``dev[:80%]`` slices it in file order, never cutting a group (an article, a premise).

    ``@key=a,b`` / ``@key!=a,b`` after the split keeps or drops examples by ``meta[key]`` (domain,
    treebank, genre). Mixtures and multi-part splits are concatenations of their pieces.
    """
    safe_name(lang, "language")  # a language code from a config or a file becomes a file name
    base, filters = parse_selection(split)
    if filters:
        whole = load_split(task, lang, base, data_dir)
        kept = select(whole.examples, filters, f"{whole.source} ({lang}/{split})", task_domain(task))
        fp = hashlib.sha256(f"{whole.fingerprint}{split}v{SELECTION_VERSION}".encode()).hexdigest()[:16]
        return Split(task.name, lang, split, kept, f"{whole.source}@{split.split('@', 1)[1]}", fp)
    match = SLICE.match(split)
    if match:
        whole = load_split(task, lang, match["name"], data_dir)
        part = cut(whole.examples, match["start"], match["stop"])
        fp = hashlib.sha256(f"{whole.fingerprint}{split}v{SELECTION_VERSION}".encode()).hexdigest()[:16]
        return Split(task.name, lang, split, part, f"{whole.source}[{split}]", fp)
    safe_name(split, "split")
    return _load_whole(task, lang, split, data_dir)


def _load_whole(task: Source, lang: str, split: str, data_dir: Path | str | None) -> Split:
    if task.components:
        parts = [load_split(part, lang, split, data_dir) for part in task.component_tasks()]
        return _combine(task, lang, split, parts)
    if split in task.parts:
        return _combine(task, lang, split, [load_split(task, lang, p, data_dir) for p in task.parts[split]])
    if task.builtin_root is not None:
        return load_local(task, task.builtin_root, lang, split)
    if data_dir is not None:
        return load_local(task, Path(data_dir), lang, split)
    return load_hub(task, lang, split)


def pool_split(split: str) -> str:
    """The split a slice is drawn from, its selection kept (``dev[:80%]@treebank=ewt`` -> ``dev@treebank=ewt``;
    ``@per_domain`` rules are dropped).

    What a model was trained on is drawn from this pool: its domains are the training domains, even
    those a slice or a sample happened to leave out.
    """
    base, *selection = split.split("@")
    match = SLICE.match(base)
    kept = [part for part in selection if not part.strip().startswith(PER_DOMAIN)]  # a sampling rule, not a choice
    return "@".join([match["name"] if match else base, *kept])


def base_split(split: str) -> str:
    """The split a selection or slice is taken from (``test[50%:]@domain=news`` -> ``test``)."""
    base = parse_selection(split)[0]
    match = SLICE.match(base)
    return match["name"] if match else base


def available_languages(task: Source, split: str, data_dir: Path | str | None) -> list[str]:
    """Languages of ``task`` for which ``split`` exists locally (all task languages for the hub)."""
    split = base_split(split)
    root = task.builtin_root or (Path(data_dir) if data_dir else None)
    if root is None:
        return list(task.languages)
    folder = root / task.folder
    found = []
    for lang in task.languages:
        if plain_files(folder, lang, split):
            found.append(lang)
        elif task.release is not None and folder.is_dir():
            try:
                if task.release(folder, lang, split) is not None:
                    found.append(lang)
            except DataError:
                found.append(lang)  # present but broken: let the real load report it
    return found
