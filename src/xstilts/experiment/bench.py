"""``xstilts bench``: one workload through xstilts and through Hugging Face's ``Trainer``, side by side.

The workload is a model, a classification task, its data, batch size, sequence length and steps.
Every system trains on the same tokenised features with the same maths (model, batch, steps, learning
rate schedule with warm-up, weight decay without biases and LayerNorms, clipping), then is scored on
the English dev split and timed on the evaluation split:

- ``xstilts``: its own loop (:func:`xstilts.train.loop.train_phase`) and batched prediction
  (:func:`xstilts.runtime.predict.predict`), in this process, with its defaults;
- ``trainer-default``: ``transformers.Trainer`` with the library's defaults for everything that does not
  change the maths (precision, optimiser implementation, sampler, evaluation batch size);
- ``trainer-tuned``: the same with bf16 where the hardware has it natively (and ``bf16_full_eval``),
  fused AdamW, length-grouped sampling and xstilts' evaluation batch size.

Systems run in alternating rounds (A B C A B C …) and each figure is the median over rounds. Per
system: examples/s and tokens/s (non-padding) over the training loop as each system times it (and
over the whole call, set-up included: ``wall_examples_per_s``), useful-token MFU against a GEMM peak measured on the spot
(time of a large matmul in the system's dtype), peak memory (RSS on a CPU, allocated memory on a GPU)
and the score; then xstilts' ratios to each Trainer. FLOPs per token are 6 x non-embedding parameters
+ 12 x layers x width x context for training, 2x and 4x for evaluation (PaLM's count), with the context
the token-weighted mean sequence length, so padding counts as waste, not work.

``--random-large`` builds XLM-R Large's shape with random weights in the model's vocabulary (the
embedded model's is XLM-R's: 250k rows), with no download, for cost estimates on any machine.

Example::

    xstilts bench --data-dir ../shared/data --steps 40 --batch 16 --rounds 2 --out bench.json
"""

from __future__ import annotations

import contextlib
import platform
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from xstilts.config import ConfigError, RunConfig, build_config
from xstilts.data.load import load_split
from xstilts.data.schema import DataError, Example
from xstilts.formats.base import Feature, TrainableFormat, trainable_format
from xstilts.formats.classification import Classification
from xstilts.formats.features import features_for
from xstilts.models.encoder import load_encoder, load_tokenizer, resolve_model_path
from xstilts.models.model import MultiTaskModel
from xstilts.runtime.hardware import (
    Precision,
    cpu_has_native_bf16,
    pick_device,
    pick_precision,
    seed_everything,
)
from xstilts.runtime.predict import predict
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task
from xstilts.train.loop import PhaseTask, train_phase
from xstilts.train.sparse_adamw import touched_rows

SYSTEMS = ("xstilts", "trainer-default", "trainer-tuned")
#: XLM-R Large's shape (560M parameters, 256M of them word embeddings)
LARGE = {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096}
#: the workload unless the command line says otherwise: the issue's measurement (English XNLI pairs)
DEFAULTS: dict[str, Any] = {"train": {"batch_size": 16, "max_length": 128, "max_steps": 40, "patience": 0}, "eval": {"max_examples": 2000}}
#: XNLI has no English training split in a local data root: train on dev, score on the rest of dev
XNLI_SPLITS = {"train_split": "dev[:2000]", "dev_split": "dev[2000:]"}


@dataclass
class Workload:
    """What every system runs: the config (model, data, ``train.*``), evaluation language, rounds, systems."""

    cfg: RunConfig
    task: str = "xnli"
    eval_language: str = "sw"
    rounds: int = 2
    systems: Sequence[str] = SYSTEMS
    #: random weights of this shape (``LARGE`` for ``--random-large``) instead of the model's own
    random_shape: dict[str, int] | None = None
    #: side of the square matmul that measures the GEMM peak
    gemm_size: int = 2048


def bench_config(task: str, user: dict[str, Any]) -> RunConfig:
    """The bench's defaults, then the user's config tree; evaluation on dev only at the last step."""
    data = XNLI_SPLITS if task == "xnli" else {}
    cfg = build_config(DEFAULTS, {"data": data}, user)
    if not cfg.train.max_steps:
        raise ConfigError("bench: train.max_steps (--steps) must be set")
    cfg.train.eval_every = cfg.train.max_steps
    return cfg


@dataclass
class BenchData:
    """The tokenised features every system reads, and the examples they are scored against."""

    task: Task
    fmt: TrainableFormat
    labels: list[str]
    train: list[Feature]
    dev_examples: list[Example]
    dev: list[Feature]
    eval_examples: list[Example]
    eval: list[Feature]


def load_data(work: Workload, tokenizer: Any) -> BenchData:
    cfg = work.cfg
    task = get_task(work.task)
    if not isinstance(task.fmt, Classification):  # the Trainer baseline is AutoModelForSequenceClassification
        raise ConfigError(f"bench --task {work.task}: the Trainer baseline is a sequence classifier; pick a classification task (xnli, pawsx, …)")
    fmt = trainable_format(task)
    train = load_split(task, cfg.data.train_language, cfg.data.train_split or task.train_split, cfg.data.data_dir)
    dev = load_split(task, cfg.data.train_language, cfg.data.dev_split or task.dev_split, cfg.data.data_dir)
    test = load_split(task, work.eval_language, cfg.data.eval_split or task.eval_split, cfg.data.data_dir)
    train_ex, dev_ex, eval_ex = ([ex for ex in s.examples if fmt.has_gold(ex)] for s in (train, dev, test))
    eval_ex = eval_ex[: cfg.eval.max_examples or None]
    if not train_ex or not dev_ex or not eval_ex:
        raise DataError(cfg.data.data_dir or task.name, None, f"labelled {task.name} train, dev and {work.eval_language} evaluation examples")
    labels = fmt.label_list(task, train_ex)
    length, stride = cfg.train.max_length, cfg.train.doc_stride

    def feats(split: Any, examples: list[Example]) -> list[Feature]:
        return features_for(fmt, split, examples, tokenizer, labels, length, stride)

    return BenchData(task, fmt, labels, feats(train, train_ex), dev_ex, feats(dev, dev_ex), eval_ex, feats(test, eval_ex))


@dataclass
class ModelSource:
    """Where each system's model comes from: a Hugging Face folder, or random weights of a given shape."""

    name: str
    tokenizer: Any
    path: str | None = None
    random_shape: dict[str, int] | None = None

    def random_config(self, dropout: float | None, num_labels: int = 2) -> Any:
        from transformers import XLMRobertaConfig

        extra = {} if dropout is None else {"hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout}
        return XLMRobertaConfig(vocab_size=len(self.tokenizer), max_position_embeddings=514, type_vocab_size=1, pad_token_id=1,
                                bos_token_id=0, eos_token_id=2, num_labels=num_labels, **self.random_shape, **extra)  # fmt: skip

    def encoder(self, dropout: float | None) -> nn.Module:
        """The encoder xstilts trains (no pooler), as :func:`xstilts.models.encoder.load_encoder` loads it."""
        if self.path is not None:
            return load_encoder(self.path, dropout=dropout)
        from transformers import XLMRobertaModel

        return XLMRobertaModel(self.random_config(dropout), add_pooling_layer=False)

    def classifier(self, num_labels: int, dropout: float | None) -> nn.Module:
        """``AutoModelForSequenceClassification`` over the same encoder weights: what a Trainer user trains."""
        from transformers import AutoModelForSequenceClassification, XLMRobertaForSequenceClassification

        if self.path is None:
            return XLMRobertaForSequenceClassification(self.random_config(dropout, num_labels))
        extra = {} if dropout is None else {"hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout}
        return AutoModelForSequenceClassification.from_pretrained(self.path, num_labels=num_labels, use_safetensors=True, **extra)


def model_source(cfg: RunConfig, random_shape: dict[str, int] | None) -> ModelSource:
    """The model's folder; with random weights, only its tokenizer (the embedded one has XLM-R's vocabulary)."""
    path = resolve_model_path(cfg.model.name)
    tokenizer = load_tokenizer(path, cfg.model.revision)
    if random_shape is None:
        return ModelSource(cfg.model.name, tokenizer, path)
    shape = "x".join(str(random_shape[k]) for k in ("num_hidden_layers", "hidden_size"))
    return ModelSource(f"random-{shape} ({cfg.model.name} vocabulary)", tokenizer, None, random_shape)


# --------------------------------------------------------------------------- measuring


class PeakMemory:
    """Peak memory while the block runs: allocated memory on a GPU; on a CPU the process's RSS,
    sampled every 10 ms with psutil (without psutil: ``ru_maxrss``, the whole process's peak)."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.mb, self.source = device, 0.0, ""
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            self.source = "cuda max_memory_allocated"
            return self
        try:
            import psutil
        except ImportError:
            self.source = "ru_maxrss (process lifetime peak)"
            return self
        self.source = "rss (psutil, 10 ms samples)"
        proc = psutil.Process()

        def sample() -> None:
            while True:
                self.mb = max(self.mb, proc.memory_info().rss / 2**20)
                if self._stop.wait(0.01):
                    return

        self.mb = proc.memory_info().rss / 2**20
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            self.mb = torch.cuda.max_memory_allocated(self.device) / 2**20
        elif self.source.startswith("rss"):
            self._stop.set()
            self._thread.join()
        else:
            import resource

            self.mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class TokenCounter:
    """Examples and non-padding tokens the model trains on, counted where the word embedding reads
    them (a forward pre-hook, in training mode only), on the device: no host sync per step."""

    def __init__(self, embedding: nn.Module, pad_id: int) -> None:
        self.examples: list[int] = []
        self.tokens: list[torch.Tensor] = []
        self.pad_id = pad_id
        self.handle = embedding.register_forward_pre_hook(self._see)

    def _see(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        if module.training:
            ids = args[0]
            self.examples.append(ids.shape[0])
            self.tokens.append((ids != self.pad_id).sum())

    def totals(self) -> tuple[int, int]:
        self.handle.remove()
        return sum(self.examples), int(torch.stack(self.tokens).sum()) if self.tokens else 0


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gemm_peak_flops(dtype: torch.dtype, device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of the fastest of a few ``n x n`` matmuls: the achievable dense peak, measured here."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def context_length(features: Sequence[Feature]) -> float:
    """Token-weighted mean sequence length: the context a token attends over, on average."""
    lengths = [f["len"] for f in features]
    return sum(n * n for n in lengths) / max(sum(lengths), 1)


def flops_per_token(non_embedding: int, layers: int, width: int, context: float, training: bool) -> float:
    """Forward + backward (training) or forward FLOPs per useful token: weights, plus attention."""
    attention = layers * width * context
    return 6 * non_embedding + 12 * attention if training else 2 * non_embedding + 4 * attention


def model_sizes(model: nn.Module) -> dict[str, int]:
    """Parameters in all, in embedding tables (word, position, token type) and elsewhere."""
    total = sum(p.numel() for p in model.parameters())
    embedding = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Embedding))
    return {"params": total, "embedding_params": embedding, "non_embedding_params": total - embedding}


@dataclass
class Phase:
    """One timed phase (training or evaluation) of one system in one round.

    ``seconds`` is training's step loop as the system itself times it (after building the optimiser
    and data loader, as both systems' own throughput figures count it), ``wall_seconds`` the whole
    call, set-up included; an evaluation has only the whole call, so the two are equal.
    """

    seconds: float
    wall_seconds: float
    examples: int
    tokens: int
    peak_memory_mb: float
    score: float | None
    precision: str
    steps: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def examples_per_s(self) -> float:
        return self.examples / self.seconds

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds


@dataclass
class Round:
    train: Phase
    evaluate: Phase


def score(data: BenchData, examples: list[Example], features: list[Feature], outputs: Sequence[int]) -> float:
    """Accuracy by the task's own scorer, from predicted label indices (one per feature)."""
    preds = data.fmt.decode(examples, features, list(outputs), data.labels)
    return data.fmt.score(examples, preds, "en")[data.task.metric]


# --------------------------------------------------------------------------- the xstilts system


def xstilts_round(source: ModelSource, data: BenchData, cfg: RunConfig, device: torch.device) -> Round:
    """xstilts' own phase loop and prediction, as ``xstilts train`` and ``xstilts evaluate`` run them."""
    encoder = source.encoder(cfg.train.dropout)
    seed_everything(cfg.seed)
    model = MultiTaskModel(encoder)
    dropout = cfg.train.dropout if cfg.train.dropout is not None else float(getattr(encoder.config, "hidden_dropout_prob", 0.1))
    model.add_head(data.task.name, data.task.format, data.labels, dropout)
    precision = Precision(pick_precision(cfg.train.precision, device), device)
    pad_id = pad_token_id(source.tokenizer)
    phase_task = PhaseTask(data.task.name, data.fmt, data.labels, data.task.metric, data.train, data.dev_examples, data.dev)
    counter = TokenCounter(encoder.get_input_embeddings(), pad_id)
    with PeakMemory(device) as mem:
        start = time.perf_counter()
        summary = train_phase(model, [phase_task], cfg.train, precision, pad_id, cfg.seed, eval_batch_size=cfg.eval.batch_size)
        sync(device)
        wall = time.perf_counter() - start - summary.eval_seconds
    examples, tokens = counter.totals()
    dev_score = summary.history[-1].get("score") if summary.history else None
    loop = summary.seconds - summary.eval_seconds
    train = Phase(loop, wall, examples, tokens, mem.mb, dev_score, precision.name, summary.steps, {"memory": mem.source})

    with PeakMemory(device) as mem:
        start = time.perf_counter()
        preds = predict(model, data.task.name, data.fmt, data.eval_examples, data.eval, data.labels, cfg.eval.batch_size, precision, pad_id)
        sync(device)
        seconds = time.perf_counter() - start
    accuracy = data.fmt.score(data.eval_examples, preds, "en")[data.task.metric]
    extra: dict[str, Any] = {"memory": mem.source, "batch_size": cfg.eval.batch_size}
    if precision.name != "fp32":
        fp32 = predict(model, data.task.name, data.fmt, data.eval_examples, data.eval, data.labels, cfg.eval.batch_size, Precision("fp32", device), pad_id)
        extra["score_fp32"] = data.fmt.score(data.eval_examples, fp32, "en")[data.task.metric]
    evaluate = Phase(seconds, seconds, len(data.eval), sum(f["len"] for f in data.eval), mem.mb, accuracy, precision.name, extra=extra)
    return Round(train, evaluate)


def pad_token_id(tokenizer: Any) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


# --------------------------------------------------------------------------- rounds, medians, ratios


def median_phase(phases: Sequence[Phase]) -> dict[str, Any]:
    """Medians over rounds of each figure; the per-round figures are kept beside them."""
    med = statistics.median
    out: dict[str, Any] = {
        "examples_per_s": med(p.examples_per_s for p in phases),
        "tokens_per_s": med(p.tokens_per_s for p in phases),
        "wall_examples_per_s": med(p.examples / p.wall_seconds for p in phases),
        "seconds": med(p.seconds for p in phases),
        "wall_seconds": med(p.wall_seconds for p in phases),
        "peak_memory_mb": med(p.peak_memory_mb for p in phases),
        "score": med(p.score for p in phases) if all(p.score is not None for p in phases) else None,
        "precision": phases[0].precision,
        "examples": phases[0].examples,
        "tokens": phases[0].tokens,
    }
    if phases[0].steps:
        out["steps"] = phases[0].steps
        out["s_per_step"] = med(p.seconds / p.steps for p in phases if p.steps)
    fp32 = [p.extra["score_fp32"] for p in phases if "score_fp32" in p.extra]
    if fp32:
        out["score_fp32"] = med(fp32)
    out["rounds"] = [{**asdict(p), "examples_per_s": p.examples_per_s, "tokens_per_s": p.tokens_per_s} for p in phases]
    return out


def ratios(systems: dict[str, dict[str, Any]], base: str = "xstilts") -> dict[str, dict[str, float | None]]:
    """xstilts' speed over each other system's (> 1: xstilts is faster), and its score minus theirs."""
    out: dict[str, dict[str, float | None]] = {}
    if base not in systems:
        return out
    mine = systems[base]
    for name, other in systems.items():
        if name == base or "train" not in other:
            continue
        row: dict[str, float | None] = {}
        for phase in ("train", "evaluate"):
            for key in ("examples_per_s", "tokens_per_s", "wall_examples_per_s"):
                row[f"{phase}_{key}"] = mine[phase][key] / other[phase][key]
            a, b = mine[phase]["score"], other[phase]["score"]
            row[f"{phase}_score_diff"] = a - b if a is not None and b is not None else None
        out[f"{base}/{name}"] = row
    return out


def add_mfu(result: dict[str, Any], sizes: dict[str, int], layers: int, width: int, data: BenchData, peaks: dict[str, float]) -> None:
    """Useful-token MFU of each phase: achieved FLOP/s over the GEMM peak in the phase's dtype."""
    for phase, features, training in (("train", data.train, True), ("evaluate", data.eval, False)):
        per_token = flops_per_token(sizes["non_embedding_params"], layers, width, context_length(features), training)
        dtype = "bf16" if result[phase]["precision"] == "bf16" else "fp32"
        result[phase]["flops_per_token"] = per_token
        result[phase]["mfu"] = result[phase]["tokens_per_s"] * per_token / peaks[dtype]


def machine() -> dict[str, Any]:
    import transformers

    info: dict[str, Any] = {"torch": torch.__version__, "transformers": transformers.__version__, "threads": torch.get_num_threads(),
                            "cpu": platform.processor() or platform.machine(), "cpu_native_bf16": cpu_has_native_bf16()}  # fmt: skip
    with contextlib.suppress(OSError):
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        info["cpu"] = names[0] if names else info["cpu"]
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def trainer_available() -> str | None:
    """Why the Trainer systems cannot run here, or None when they can."""
    import importlib.util

    if importlib.util.find_spec("accelerate") is None:
        return "accelerate is not installed (transformers.Trainer needs it): pip install accelerate"
    return None


def run_bench(work: Workload, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Every system, in alternating rounds; the JSON-ready result (see the module doc)."""
    from xstilts.experiment.bench_trainer import trainer_round

    unknown = [s for s in work.systems if s not in SYSTEMS]
    if unknown:
        raise ConfigError(f"bench --systems: {', '.join(unknown)}; choose among {', '.join(SYSTEMS)}")
    cfg = work.cfg
    source = model_source(cfg, work.random_shape)
    data = load_data(work, source.tokenizer)
    device = pick_device(cfg.train.device)
    skipped: dict[str, str] = {}
    why = trainer_available()
    systems = [s for s in work.systems if s == "xstilts" or why is None]
    skipped.update({s: why for s in work.systems if s not in systems and why})

    rounds: dict[str, list[Round]] = {s: [] for s in systems}
    shape: dict[str, Any] = {}
    for r in range(work.rounds):
        for system in systems:
            log(f"round {r + 1}/{work.rounds}: {system}")
            if system == "xstilts":
                rounds[system].append(xstilts_round(source, data, cfg, device))
            else:
                rounds[system].append(trainer_round(source, data, cfg, device, tuned=system == "trainer-tuned", shape=shape))
    shell = meta_model(source, data)
    sizes = model_sizes(shell)
    layers, width = int(shell.encoder.config.num_hidden_layers), int(shell.encoder.config.hidden_size)
    rows = int(shell.encoder.get_input_embeddings().weight.shape[0])

    results = {s: {"train": median_phase([x.train for x in rs]), "evaluate": median_phase([x.evaluate for x in rs])} for s, rs in rounds.items()}
    dtypes = {"fp32"} | {res[p]["precision"] for res in results.values() for p in ("train", "evaluate") if res[p]["precision"] == "bf16"}
    peaks = {d: gemm_peak_flops(torch.bfloat16 if d == "bf16" else torch.float32, device, work.gemm_size) for d in sorted(dtypes)}
    for res in results.values():
        add_mfu(res, sizes, layers, width, data, peaks)
    for system, res in results.items():
        if system != "xstilts":
            res["settings"] = shape.get(system, {})
    workload = {
        "model": source.name, "task": work.task, "data_dir": cfg.data.data_dir,
        "train_split": cfg.data.train_split, "dev_split": cfg.data.dev_split,
        "eval_language": work.eval_language, "eval_split": cfg.data.eval_split or data.task.eval_split,
        "train_examples": len(data.train), "dev_examples": len(data.dev), "eval_examples": len(data.eval),
        "batch_size": cfg.train.batch_size, "max_length": cfg.train.max_length, "steps": cfg.train.max_steps,
        "rounds": work.rounds, "systems": list(work.systems), "train": cfg.train.model_dump(), "seed": cfg.seed,
    }  # fmt: skip
    return {
        "workload": workload,
        "machine": {**machine(), "device": str(device)},
        "model": {**sizes, "layers": layers, "hidden_size": width, "random_weights": work.random_shape is not None},
        "gemm_peak_flops": peaks,
        "embedding_rows": {"rows": rows, "touched_by_train_set": touched_rows(data.train), "fraction": touched_rows(data.train) / rows},
        "systems": results,
        "ratios": ratios(results),
        "skipped": skipped,
    }


def meta_model(source: ModelSource, data: BenchData) -> MultiTaskModel:
    """xstilts' model (encoder and head) on the meta device: its shape and sizes, with no weights."""
    with torch.device("meta"):
        if source.path is None:
            encoder = source.encoder(None)
        else:
            from transformers import AutoConfig, AutoModel

            config = AutoConfig.from_pretrained(source.path)
            try:
                encoder = AutoModel.from_config(config, add_pooling_layer=False)
            except TypeError:
                encoder = AutoModel.from_config(config)
        model = MultiTaskModel(encoder)
        model.add_head(data.task.name, data.task.format, data.labels, 0.0)
    return model


def summary_lines(result: dict[str, Any]) -> Iterator[str]:
    """The result in a few lines for a terminal (``--json`` prints all of it)."""
    w = result["workload"]
    yield (f"{w['model']} on {w['task']} ({w['train_examples']} train, {w['dev_examples']} dev, {w['eval_examples']} {w['eval_language']} eval); "
           f"batch {w['batch_size']}, length {w['max_length']}, {w['steps']} steps, {w['rounds']} rounds; medians")  # fmt: skip
    for name, res in result["systems"].items():
        t, e = res["train"], res["evaluate"]
        dev = f"{t['score']:.2f}" if t["score"] is not None else "-"
        yield (f"  {name:16s} train {t['examples_per_s']:8.1f} ex/s {t['tokens_per_s']:9.0f} tok/s MFU {100 * t['mfu']:5.1f}% "
               f"{t['peak_memory_mb']:7.0f} MB dev {dev} | eval {e['examples_per_s']:8.1f} ex/s MFU {100 * e['mfu']:5.1f}% "
               f"score {e['score']:.2f} [{t['precision']}/{e['precision']}]")  # fmt: skip
    for pair, row in result["ratios"].items():
        yield (f"  {pair}: train {row['train_examples_per_s']:.2f}x (whole call {row['train_wall_examples_per_s']:.2f}x), "
               f"eval {row['evaluate_examples_per_s']:.2f}x")  # fmt: skip
    for name, why in result["skipped"].items():
        yield f"  {name}: skipped ({why})"
