"""The training loop of one phase: one or several tasks on one shared encoder.

Each optimiser step takes batches of one task at a time; with several tasks the task is drawn by the
sampling rule (multi-task intermediate training). The best weights on the English dev subset are kept,
training stops after ``patience`` evaluations without improvement, and the best weights are restored.

A non-finite loss (or, without fp16 loss scaling, a non-finite gradient norm) stops the phase before
that step's update is applied, so the weights are still the last good ones: the best on dev if an
evaluation happened, else those from just before the bad step. :attr:`PhaseSummary.stopped` says why.
The check costs one host sync per optimiser step, which reading the loss for the progress bar and the
history already needed (fp16's loss scaler syncs every step too); checking only at evaluation steps
would need a copy of the weights at each check to roll back to, and would keep less of the run.
Under fp16 the scaler itself skips steps whose gradients overflowed, as it should, so there only the
loss is checked.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from xstilts.config import TrainConfig
from xstilts.data.schema import Example
from xstilts.formats.base import Feature, TrainableFormat
from xstilts.models.model import MultiTaskModel
from xstilts.runtime.batches import length_grouped_batches
from xstilts.runtime.hardware import Precision, build_optimizer, linear_schedule, peak_memory_mb
from xstilts.runtime.predict import predict


@dataclass
class PhaseTask:
    """A task as the loop sees it: its format, labels, training features and dev subset."""

    name: str
    fmt: TrainableFormat
    labels: list[str]
    metric: str
    train: list[Feature]
    dev_examples: Sequence[Example] = ()
    dev_features: list[Feature] = field(default_factory=list)


@dataclass
class PhaseSummary:
    steps: int
    best_step: int
    best_score: float | None
    history: list[dict[str, Any]]
    seconds: float
    #: time spent on dev evaluations; throughput figures exclude it
    eval_seconds: float
    examples_per_s: float
    tokens_per_s: float
    peak_memory_mb: float
    stopped_early: bool
    precision: str
    #: why training stopped before its last step when it was not patience, e.g. a non-finite loss
    stopped: str | None = None


class TrainingDiverged(RuntimeError):
    """A phase stopped at a non-finite loss; its run keeps the last good weights and says why."""


def sampling_weights(sizes: Sequence[int], rule: str, cap: int, temperature: float) -> list[float]:
    """Task probabilities for multi-task training (proportional, capped, temperature or uniform)."""
    if rule == "uniform":
        raw = [1.0 for _ in sizes]
    elif rule == "capped":
        raw = [float(min(n, cap)) for n in sizes]
    elif rule == "temperature":
        raw = [float(n) ** (1.0 / temperature) for n in sizes]
    else:
        raw = [float(n) for n in sizes]
    total = sum(raw)
    return [r / total for r in raw]


def _batch_stream(task: PhaseTask, batch_size: int, rng: random.Random, group: bool):
    while True:
        yield from length_grouped_batches(task.train, batch_size, rng, group)


def read_step(losses: Sequence[torch.Tensor], grad_norm: torch.Tensor | None) -> tuple[list[float], float | None]:
    """A step's micro-batch losses (and its gradient norm) as floats, read in one host sync."""
    parts = list(losses)
    if grad_norm is not None:
        parts.append(grad_norm.detach().float().to(parts[0].device))
    values = torch.stack(parts).tolist()
    return (values[:-1], values[-1]) if grad_norm is not None else (values, None)


def non_finite(loss: float, grad_norm: float | None, step: int) -> str | None:
    """Why step ``step`` must not be applied (a NaN or infinite loss or gradient norm), or None."""
    if not math.isfinite(loss):
        return f"non-finite loss ({loss}) at step {step}"
    if grad_norm is not None and not math.isfinite(grad_norm):
        return f"non-finite gradient norm ({grad_norm}) at step {step}"
    return None


def evaluate_dev(model: MultiTaskModel, tasks: Sequence[PhaseTask], batch_size: int, precision: Precision, pad_id: int) -> dict[str, float]:
    """Primary metric per task on its English dev subset, plus their mean as ``score``."""
    scores: dict[str, float] = {}
    for t in tasks:
        if not t.dev_features:
            continue
        preds = predict(model, t.name, t.fmt, t.dev_examples, t.dev_features, t.labels, batch_size, precision, pad_id)
        metrics = t.fmt.score(t.dev_examples, preds, "en")
        scores[t.name] = metrics.get(t.metric, float("nan"))
    if scores:
        scores["score"] = sum(scores.values()) / len(scores)
    return scores


def train_phase(
    model: MultiTaskModel,
    tasks: Sequence[PhaseTask],
    cfg: TrainConfig,
    precision: Precision,
    pad_id: int,
    seed: int,
    eval_batch_size: int = 64,
    progress: Any = None,
) -> PhaseSummary:
    rng = random.Random(seed)
    device = precision.device
    model.to(device)
    model.train()
    sizes = [len(t.train) for t in tasks]
    if not any(sizes):
        raise ValueError("no labeled training examples")
    micro_per_epoch = sum(math.ceil(n / cfg.batch_size) for n in sizes)
    steps_per_epoch = max(1, micro_per_epoch // cfg.grad_accum)
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    eval_every = cfg.eval_every or max(1, total // 10)
    weights = sampling_weights(sizes, cfg.sampling, cfg.sampling_cap, cfg.sampling_temperature)
    streams = [_batch_stream(t, cfg.batch_size, rng, cfg.group_by_length) for t in tasks]

    optimizer = build_optimizer(model, cfg.lr, cfg.weight_decay, cfg.adam_eps, device)
    scheduler = linear_schedule(optimizer, total, cfg.warmup_ratio)
    scaler = precision.scaler()

    history: list[dict[str, Any]] = []
    best_score: float | None = None
    best_step = 0
    best_state: dict[str, torch.Tensor] | None = None
    bad_evals = 0
    stopped_early = False
    n_examples = n_tokens = 0
    eval_seconds = 0.0
    start = time.perf_counter()
    bar = progress.add_task("train " + "+".join(t.name for t in tasks), total=total) if progress else None
    step = 0
    running = 0.0
    stopped: str | None = None
    while step < total:
        optimizer.zero_grad(set_to_none=True)
        losses: list[torch.Tensor] = []
        for _ in range(cfg.grad_accum):
            k = rng.choices(range(len(tasks)), weights=weights)[0] if len(tasks) > 1 else 0
            task = tasks[k]
            idx = next(streams[k])
            feats = [task.train[i] for i in idx]
            host_batch = task.fmt.collate(feats, pad_id)
            n_tokens += int(host_batch["attention_mask"].sum())  # counted on the host: no device sync
            batch = {key: v.to(device) for key, v in host_batch.items()}
            with precision.autocast():
                logits = model(task.name, batch)
            loss = task.fmt.loss(logits, batch) / cfg.grad_accum
            (scaler.scale(loss) if scaler else loss).backward()
            losses.append(loss.detach().float())
            n_examples += len(idx)
        if scaler:
            scaler.unscale_(optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        values, norm = read_step(losses, None if scaler else grad_norm)
        loss_sum = sum(values)
        stopped = non_finite(loss_sum, norm, step + 1)
        if stopped:
            break  # before this step's update: the weights are still the last good ones
        if scaler:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        step += 1
        running = loss_sum if step == 1 else 0.9 * running + 0.1 * loss_sum
        if bar is not None:
            progress.update(bar, advance=1, description=f"train {'+'.join(t.name for t in tasks)} loss {running:.3f}")
        if step % eval_every == 0 or step == total:
            eval_start = time.perf_counter()
            scores = evaluate_dev(model, tasks, eval_batch_size, precision, pad_id)
            eval_seconds += time.perf_counter() - eval_start
            history.append({"step": step, "loss": running, **scores})
            if "score" in scores:
                if best_score is None or scores["score"] > best_score:
                    best_score, best_step, bad_evals = scores["score"], step, 0
                    best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                else:
                    bad_evals += 1
                    if cfg.patience and bad_evals >= cfg.patience:
                        stopped_early = True
                        break
    seconds = time.perf_counter() - start
    train_seconds = max(seconds - eval_seconds, 1e-9)
    if bar is not None:
        progress.remove_task(bar)
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_step = step
    return PhaseSummary(
        steps=step,
        best_step=best_step,
        best_score=best_score,
        history=history,
        seconds=seconds,
        eval_seconds=eval_seconds,
        examples_per_s=n_examples / train_seconds,
        tokens_per_s=n_tokens / train_seconds,
        peak_memory_mb=peak_memory_mb(device),
        stopped_early=stopped_early,
        precision=precision.name,
        stopped=stopped,
    )
