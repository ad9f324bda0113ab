"""The task registry: every module in ``xstilts.tasks`` registers its tasks on import."""

from __future__ import annotations

import importlib
import pkgutil

from xstilts.tasks.base import Task

_TASKS: dict[str, Task] = {}
_LOADED = False


def register(*tasks: Task) -> None:
    """Add tasks; a second task under a taken name is a programming error."""
    for task in tasks:
        if task.name in _TASKS:
            raise ValueError(f"duplicate task name {task.name!r}")
        _TASKS[task.name] = task


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import xstilts.tasks as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in {"base", "registry"}:
            importlib.import_module(f"xstilts.tasks.{mod.name}")


def all_tasks() -> dict[str, Task]:
    _load_all()
    return dict(sorted(_TASKS.items()))


def get_task(name: str) -> Task:
    _load_all()
    try:
        return _TASKS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(_TASKS))}") from None
