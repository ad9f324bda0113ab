"""What a stage asks of the machine it runs on, and the cluster options a Slurm grid is submitted with.

A grid spec may declare both; the command line can override either (``--resource``, ``--slurm``):

    resources:
      default: {cpus: 4, gpus: 1, memory: 32G, time: 2h}
      intermediate: {time: 12h}          # a step: intermediate, target, transfer or retrieval
      mnli: {memory: 64G}                # a task (or a multi-task intermediate's name)
    slurm:
      partition: gpu
      account: my-lab
      extra: {constraint: a100}          # any other ``#SBATCH --key=value``
      setup: ["module load cuda/12.1"]   # lines run before each job

Resources only decide where a stage runs; they are no part of its content hash, so a grid planned
with one set of resources reuses every run made with another.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

#: the steps of a grid a resource block may name (a stage's ``step``)
STEPS = ("intermediate", "target", "transfer", "retrieval")

_TIME = re.compile(r"^(?:(?P<d>\d+)-)?(?P<h>\d+):(?P<m>\d{1,2})(?::(?P<s>\d{1,2}))?$")
_UNIT_TIME = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<u>d|h|m|min|s)$")
_MEMORY = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<u>[KMGT]i?B?|B)?$", re.IGNORECASE)


def minutes(value: str | float | int) -> float:
    """A duration in minutes: a number (minutes), ``[D-]HH:MM[:SS]`` as sbatch writes it, or ``8h``/``90m``/``2d``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"a positive duration (got {value!r})")
        return float(value)
    text = str(value).strip()
    if match := _TIME.match(text):
        d, h, m, s = (int(match[k] or 0) for k in ("d", "h", "m", "s"))
        total = d * 1440 + h * 60 + m + s / 60
    elif match := _UNIT_TIME.match(text):
        total = float(match["n"]) * {"d": 1440, "h": 60, "m": 1, "min": 1, "s": 1 / 60}[match["u"]]
    else:
        raise ValueError(f"a duration such as 90 (minutes), 8h, 2d or 1-12:00:00 (got {value!r})")
    if total <= 0:
        raise ValueError(f"a positive duration (got {value!r})")
    return total


def gigabytes(value: str | float | int) -> float:
    """A memory size in GB: a number (GB) or ``16G``, ``512M``, ``1T`` (binary units, as sbatch reads them)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"a positive memory size (got {value!r})")
        return float(value)
    match = _MEMORY.match(str(value).strip())
    if not match:
        raise ValueError(f"a memory size such as 16G, 512M or 32 (GB) (got {value!r})")
    unit = (match["u"] or "G")[0].upper()
    size = float(match["n"]) * {"B": 1 / 2**30, "K": 1 / 2**20, "M": 1 / 2**10, "G": 1.0, "T": 2.0**10}[unit]
    if size <= 0:
        raise ValueError(f"a positive memory size (got {value!r})")
    return size


def _checked(parse: Any) -> Any:
    """A validator that parses a value only to refuse a malformed one, keeping it as written."""

    def check(value: Any) -> Any:
        if value is not None:
            parse(value)
        return value

    return check


#: a size (``48G``, ``512M`` or gigabytes) and a wall time (minutes, ``8h``, ``[D-]HH:MM[:SS]``), checked on load
Memory = Annotated[str | float | None, AfterValidator(_checked(gigabytes))]
Duration = Annotated[str | float | None, AfterValidator(_checked(minutes))]


class Resources(BaseModel):
    """What one stage asks for; ``None`` leaves the choice to the executor (or a wider block)."""

    model_config = ConfigDict(extra="forbid")
    cpus: int | None = Field(None, ge=1)
    gpus: int | None = Field(None, ge=0)
    #: ``16G``, ``512M`` or a number of GB
    memory: Memory = None
    #: a wall-time limit: minutes, ``8h`` or ``[D-]HH:MM[:SS]``
    time: Duration = None


    def over(self, base: Resources) -> Resources:
        """These resources, with what they leave open taken from ``base``."""
        return base.model_copy(update=self.model_dump(exclude_none=True))

    @property
    def memory_gb(self) -> float | None:
        return gigabytes(self.memory) if self.memory is not None else None

    @property
    def time_min(self) -> float | None:
        return minutes(self.time) if self.time is not None else None


class SlurmOptions(BaseModel):
    """How a grid goes to Slurm through submitit; ``time``, ``mem``, ``gpus`` and ``cpus`` are every stage's
    defaults, which a ``resources`` block overrides."""

    model_config = ConfigDict(extra="forbid")
    #: ``local`` runs each job as a local process, ``debug`` in this process (both for tests and trials)
    cluster: Literal["slurm", "local", "debug"] = "slurm"
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time: Duration = None
    mem: Memory = None
    gpus: int | None = Field(None, ge=0)
    cpus: int | None = Field(None, ge=1)
    #: lines run at the start of every job (``module load ...``, ``source .venv/bin/activate``)
    setup: list[str] = []
    #: any other sbatch option, ``{key: value}`` -> ``#SBATCH --key=value``; ``signal`` defaults to
    #: ``USR1@120``: two minutes before the time limit a phase writes a checkpoint and exits, to resume
    extra: dict[str, str | int | float | bool] = {}
    #: how many array tasks run at once (sbatch ``--array=...%N``; default: ``--jobs``)
    array_parallelism: int | None = Field(None, ge=1)
    #: how often a job that ended without a result (pre-empted, timed out, its node lost) is submitted again;
    #: each time its training phase resumes from its last checkpoint
    retries: int = Field(3, ge=0)


    def defaults(self) -> Resources:
        return Resources(cpus=self.cpus, gpus=self.gpus, memory=self.mem, time=self.time)


def check_scopes(resources: dict[str, Resources], names: set[str]) -> str | None:
    """The first scope that is not ``default``, a step or one of ``names`` (tasks, intermediates), if any."""
    known = {"default", *STEPS, *names}
    return next((scope for scope in resources if scope not in known), None)


def stage_resources(stage: Any, layers: list[dict[str, Resources]], base: Resources | None = None) -> Resources:
    """A stage's resources: ``base``, then per layer its ``default``, its step, each of its tasks, and for
    an intermediate phase the intermediate's own name (a multi-task mix's, say), the most specific.

    Later layers (the command line's) override earlier ones (the preset's), scope by scope.
    """
    scopes = ["default", stage.step, *stage.tasks, stage.config_task, stage.target,
              stage.intermediate if stage.phase == "intermediate" else None]  # fmt: skip
    merged = base or Resources()
    for layer in layers:
        for scope in dict.fromkeys(s for s in scopes if s):
            if scope in layer:
                merged = layer[scope].over(merged)
    return merged


def parse_assignments(items: list[str], what: str) -> dict[str, Any]:
    """``["gpus=1", "intermediate.time=8h"]`` -> a nested dict; values stay strings unless numeric."""
    tree: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} {item!r}: expected KEY=VALUE")
        node = tree
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{what} {item!r}: {part} is set twice")
        node[leaf] = _scalar(value.strip())
    return tree


def _scalar(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def resources_from_cli(items: list[str]) -> dict[str, Resources]:
    """``--resource [SCOPE.]FIELD=VALUE`` options as resource blocks (no scope: ``default``)."""
    tree = parse_assignments(items, "--resource")
    blocks: dict[str, dict[str, Any]] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            blocks.setdefault(key, {}).update(value)
        else:
            blocks.setdefault("default", {})[key] = value
    return {scope: Resources.model_validate(fields) for scope, fields in blocks.items()}
