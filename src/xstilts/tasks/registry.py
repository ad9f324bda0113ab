"""The task registry: every module in ``xstilts.tasks`` registers its tasks on import."""

from __future__ import annotations

import importlib
import pkgutil

from xstilts.tasks.base import XTREME_GROUPS, Task, set_lookup

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


set_lookup(get_task)  # a mixture task finds its components here


def xtreme_tasks() -> tuple[str, ...]:
    """XTREME's nine targets in XTREME's own order (by group, then each task's ``xtreme_order``)."""
    _load_all()
    members = [t for t in _TASKS.values() if t.xtreme]
    return tuple(t.name for t in sorted(members, key=_xtreme_position))


def _xtreme_position(task: Task) -> tuple[int, int, str]:
    return XTREME_GROUPS.index(task.xtreme_group), task.xtreme_order or 0, task.name


def xtreme_groups() -> dict[str, tuple[str, ...]]:
    """XTREME's four groups, each with its targets in XTREME's order; a group is never left out."""
    tasks = xtreme_tasks()
    return {group: tuple(t for t in tasks if _TASKS[t].xtreme_group == group) for group in XTREME_GROUPS}
