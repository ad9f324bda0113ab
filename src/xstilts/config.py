"""The typed run configuration, YAML files and ``key=value`` overrides on top of it.

Defaults follow the paper's released jiant settings (PAPER.md); a model preset may override some of
them (retrieval layer and pooling, pinned revision: ``xstilts.model_presets``), then a task
(``Task.defaults``: epochs and batch size per target), and the user overrides anything after that.
Values are range-checked here, where they are typed, so a batch size of 0 or a NaN learning rate is a
one-line :class:`ConfigError` naming the key, not a crash or a hang deep inside training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xstilts.model_presets import preset_defaults


class ConfigError(ValueError):
    """A bad configuration key or value; the message says what was expected.

    ``key`` is the dotted key at fault, when one is, so a file's reader can point at its line.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


#: value ranges, checked where the config is typed so a bad value fails before any work starts
Positive = Annotated[int, Field(gt=0)]
#: a count where 0 (like None) keeps its meaning: "no limit" or "the default"
Count = Annotated[int, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Dropout = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(_Strict):
    name: str = "embedded"
    revision: str | None = None
    trust_remote_code: bool = False


class DataConfig(_Strict):
    data_dir: str | None = None
    #: the task whose English data trains a target (default: the target's own ``train_task``)
    train_task: str | None = None
    #: a split name, optionally sliced: ``dev[:80%]``, ``train[:2000]``
    train_split: str | None = None
    dev_split: str | None = None
    eval_split: str | None = None
    train_language: str = "en"
    #: a random sample of N training examples (None or 0: all of them)
    max_train_examples: Count | None = None


#: how tagging feeds pre-split words to the tokenizer: one by one with a leading space (XTREME), or
#: words of whitespace-free scripts (Han, kana, Thai, …) joined as written (xstilts.formats.tagging)
TokenizeWords = Literal["xtreme", "as_written"]


class TrainConfig(_Strict):
    lr: PositiveFloat = 1e-5
    epochs: PositiveFloat = 3.0
    max_steps: Positive | None = None
    batch_size: Positive = 32
    grad_accum: Positive = 1
    max_length: Positive = 256
    doc_stride: Count = 128
    #: tagging only; zero-shot evaluation reads it too (as it reads doc_stride), so one trained run scores either way
    tokenize_words: TokenizeWords = "xtreme"
    warmup_ratio: Fraction = 0.1
    weight_decay: NonNegativeFloat = 0.01
    adam_eps: PositiveFloat = 1e-8
    max_grad_norm: PositiveFloat = 1.0
    #: evaluate on the English dev subset every N optimiser steps (None or 0: 10 times per phase)
    eval_every: Count | None = None
    #: size of the English dev subset used for checkpoint selection (None or 0: the whole dev split)
    eval_examples: Count | None = 500
    #: evaluations without improvement before stopping early (0 = never stop early)
    patience: Count = 5
    #: ``auto`` picks bf16 where the hardware has it, fp16 with loss scaling on older GPUs, else fp32
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    dropout: Dropout | None = None
    #: keep the word-embedding matrix fixed (a speed/zero-shot trade-off; off by default, as in the paper)
    freeze_embeddings: bool = False
    #: exact sparse AdamW for the word embeddings (``train.sparse_adamw``): the same maths as dense AdamW, but
    #: optimiser state and work only for the rows a batch has touched so far; the others decay in closed form
    sparse_embeddings: bool = False
    group_by_length: bool = True
    #: ``auto`` (CUDA if available, else CPU) or a torch device such as ``cpu``, ``cuda:1``, ``mps``
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda|mps|xpu|hpu|npu|mtia)(:\d+)?$")
    #: multi-task sampling: proportional, capped (proportional to min(size, cap)) or temperature
    sampling: Literal["proportional", "capped", "temperature", "uniform"] = "capped"
    sampling_cap: Positive = 20000
    sampling_temperature: PositiveFloat = 2.0
    #: write a resumable checkpoint every N optimiser steps (None or 0: by time only); results do not
    #: depend on it, so it is no part of a run's id
    checkpoint_every_steps: Count | None = None
    #: ... and every M minutes of training (0: by steps only); SIGTERM/SIGUSR1 write one regardless
    checkpoint_every_minutes: NonNegativeFloat = 10.0


#: the seeded test-set perturbations (``xstilts.data.perturb``), for robustness curves over a noise rate
PerturbKind = Literal["swap", "drop", "insert", "diacritics", "case", "punct"]


class EvalConfig(_Strict):
    batch_size: Positive = 64
    #: the first N examples per language (None or 0: all of them)
    max_examples: Count | None = None
    #: None or 0: the same as ``train.max_length``
    max_length: Count | None = None
    write_predictions: bool = True
    #: also score every language under each of these perturbations at each rate (slices ``perturb:<kind>``)
    perturb: list[PerturbKind] = []
    perturb_rates: list[Fraction] = [0.05, 0.1, 0.2, 0.4]
    perturb_seed: int = 0


class RetrievalConfig(_Strict):
    #: hidden layer to pool (0 = embeddings, -1 = last; jiant used 14 of 24 for XLM-R Large)
    layer: int = -1
    pooling: Literal["mean", "cls"] = "mean"
    #: input prefixes for models trained with them (e5: ``query: ``/``passage: ``); ``auto`` asks the model
    prefix: str = "auto"
    batch_size: Positive = 64
    max_length: Positive = 128
    k: Positive = 4
    backend: Literal["auto", "faiss", "torch"] = "auto"
    #: also score every hidden layer (one forward pass) into ``slices["layer"]``; ``layer`` stays the reported one
    sweep: bool = False


class IntermediateConfig(_Strict):
    """Overrides of ``train.*`` and the splits for the intermediate phase of a transfer (None = same)."""

    lr: PositiveFloat | None = None
    epochs: PositiveFloat | None = None
    max_steps: Positive | None = None
    batch_size: Positive | None = None
    grad_accum: Positive | None = None
    max_length: Positive | None = None
    eval_every: Count | None = None
    eval_examples: Count | None = None
    patience: Count | None = None
    train_split: str | None = None
    dev_split: str | None = None
    max_train_examples: Count | None = None


class RunConfig(_Strict):
    seed: int = 42
    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()
    intermediate: IntermediateConfig = IntermediateConfig()
    eval: EvalConfig = EvalConfig()
    retrieval: RetrievalConfig = RetrievalConfig()


def valid_keys(model: type[BaseModel] = RunConfig, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys += valid_keys(ann, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def parse_value(raw: str) -> Any:
    """YAML scalars, so ``2e-5``, ``true``, ``null`` and ``[a, b]`` mean what they look like."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, str):  # YAML 1.1 reads "2e-5" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            return value
    return value


def set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    if key not in valid_keys():
        raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(valid_keys())}", key)
    node = tree
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def parse_overrides(items: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected key=value, e.g. train.lr=2e-5")
        set_dotted(tree, key.strip(), parse_value(raw))
    return tree


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def dotted_to_tree(flat: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        set_dotted(tree, key, value)
    return tree


def build_config(*layers: dict[str, Any]) -> RunConfig:
    """Merge layers (defaults first, user overrides last) and validate them."""
    tree: dict[str, Any] = {}
    for layer in layers:
        tree = merge(tree, layer)
    try:
        return RunConfig.model_validate(tree)
    except ValidationError as err:
        loc, msg, got = first_error(err)
        raise ConfigError(f"config {loc}: {msg} (got {got!r})", loc) from None


def first_error(err: ValidationError) -> tuple[str, str, Any]:
    """The first problem pydantic found: its dotted location, its message and the value it got."""
    first = err.errors()[0]
    return ".".join(str(p) for p in first["loc"]), str(first["msg"]), first.get("input")


def phase_config(task_defaults: dict[str, Any], user: dict[str, Any], intermediate: bool = False) -> RunConfig:
    """The config of one phase: package defaults, then the model preset's, then the task's, then the user's.

    This is the one place a model preset's defaults (pinned revision, retrieval layer, pooling, prefix;
    :mod:`xstilts.model_presets`) enter a config, so every run records them in its resolved config and an
    explicit user value always wins. For an intermediate phase the user's ``intermediate.*`` values
    replace ``train.*`` and the splits, so one transfer command can give the two phases different budgets.
    """
    model = user.get("model") if isinstance(user.get("model"), dict) else {}
    preset = dotted_to_tree(preset_defaults(model.get("name", ModelConfig().name)))
    cfg = build_config(preset, dotted_to_tree(dict(task_defaults)), user)
    if not intermediate:
        return cfg
    over = {k: v for k, v in cfg.intermediate.model_dump().items() if v is not None}
    data = {k: over.pop(k) for k in ("train_split", "dev_split", "max_train_examples") if k in over}
    # the target's split choices never leak into the intermediate task
    data = {"train_split": None, "dev_split": None, "train_task": None, **data}
    return build_config(cfg.model_dump(), {"train": over, "data": data})


def bundled_yaml(name_or_path: str | Path, folder: Path, what: str) -> Path:
    """A YAML path as given, or ``<folder>/<name>.yaml`` for a bundled name (presets, claim files)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    bundled = folder / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    names = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
    raise ConfigError(f"{name_or_path}: not a bundled {what} ({names}) or a YAML file")


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as err:
        line = err.object[: err.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: UTF-8 text (byte 0x{err.object[err.start]:02x} is not UTF-8)") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else "?"
        raise ConfigError(f"{path}:{line}: valid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: a YAML mapping of config keys")
    return data


def yaml_key_lines(path: Path) -> dict[str, int]:
    """The 1-based line of every mapping key and list item in a YAML file, dotted (``config.train.lr``, ``targets.0``).

    Composing builds nodes only (no tag is ever constructed), so this is safe on any file.
    """
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    lines.setdefault(prefix + key.value, key.start_mark.line + 1)
                    walk(value, f"{prefix}{key.value}.")
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines.setdefault(f"{prefix}{i}", item.start_mark.line + 1)
                walk(item, f"{prefix}{i}.")

    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return lines
    if root is not None:
        walk(root, "")
    return lines


def in_file(path: Path, key: str | None, message: str, prefix: str = "") -> ConfigError:
    """``message`` as an error at the line of ``prefix + key`` in the YAML file ``path`` (or the file alone)."""
    line = yaml_key_lines(path).get(prefix + key) if key else None
    return ConfigError(f"{path}:{line}: {message}" if line else f"{path}: {message}", key)


def config_file_tree(path: Path) -> dict[str, Any]:
    """A ``--config`` YAML file as a config tree, checked key by key: errors name the file and line.

    Keys may be nested (``train: {lr: 2e-5}``) or dotted (``train.lr: 2e-5``), or both.
    """
    valid = set(valid_keys())
    tree: dict[str, Any] = {}

    def add(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            if dotted in valid:
                set_dotted(tree, dotted, value)
            elif isinstance(value, dict) and any(k.startswith(dotted + ".") for k in valid):
                add(value, dotted + ".")
            else:
                raise in_file(path, dotted, f"unknown config key {dotted!r}; valid keys: {', '.join(valid_keys())}")

    add(load_yaml(path), "")
    try:
        build_config(tree)
    except ConfigError as err:
        raise in_file(path, err.key, str(err)) from None
    return tree
