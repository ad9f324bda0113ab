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

With :class:`~xstilts.train.checkpoint.Checkpoints` the phase writes resumable checkpoints at step
boundaries (after that step's dev evaluation, so the evaluation is never repeated or skipped), starts
from the newest one it finds, and stops after a pre-emption signal once its checkpoint is written.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from xstilts.config import TrainConfig
from xstilts.data.schema import Example
from xstilts.formats.base import Feature, TrainableFormat
from xstilts.models.model import MultiTaskModel
from xstilts.runtime.batches import length_grouped_batches
from xstilts.runtime.hardware import Precision, build_optimizer, linear_schedule, peak_memory_mb
from xstilts.runtime.predict import predict
from xstilts.train.checkpoint import Checkpoints, PhaseState, random_state_from_json, random_state_to_json
from xstilts.train.sparse_adamw import build_sparse_optimizer
from xstilts.train.sparse_adamw import clip_grad_norm_ as clip_sparse_grad_norm_


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
    #: the step of the checkpoint this attempt resumed from (None: it started at step 0)
    resumed_from_step: int | None = None
    #: how many times the phase was resumed, and how many checkpoints it wrote, over all attempts
    resumes: int = 0
    checkpoints_written: int = 0


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


class BatchStream:
    """One task's training batches, epoch after epoch, drawn with the phase's shared sampler.

    Its position can be saved and restored, unlike a generator's: an epoch is drawn again from the
    sampler state it was first drawn with, so a resumed phase sees exactly the batches it would have.
    """

    def __init__(self, features: Sequence[Feature], batch_size: int, rng: random.Random, group: bool) -> None:
        self.features, self.batch_size, self.rng, self.group = features, batch_size, rng, group
        self.epoch: list[list[int]] = []
        self.pos = 0
        #: the sampler's state just before this epoch was drawn
        self.epoch_rng: tuple[object, ...] | None = None

    def __next__(self) -> list[int]:
        while self.pos >= len(self.epoch):
            self.epoch_rng = self.rng.getstate()
            self.epoch = length_grouped_batches(self.features, self.batch_size, self.rng, self.group)
            self.pos = 0
        self.pos += 1
        return self.epoch[self.pos - 1]

    def state(self) -> dict[str, Any]:
        return {"epoch_rng": random_state_to_json(self.epoch_rng) if self.epoch_rng is not None else None, "pos": self.pos}

    def restore(self, state: dict[str, Any]) -> None:
        self.epoch, self.pos, self.epoch_rng = [], 0, None
        if state["epoch_rng"] is not None:
            self.epoch_rng = random_state_from_json(state["epoch_rng"])
            replay = random.Random()
            replay.setstate(self.epoch_rng)
            self.epoch = length_grouped_batches(self.features, self.batch_size, replay, self.group)
            self.pos = state["pos"]


@dataclass
class LoopState:
    """The loop's own state between steps: what a checkpoint holds besides weights, optimiser and RNGs."""

    step: int = 0
    #: the running mean of the loss the progress bar and the history show
    running: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_score: float | None = None
    best_step: int = 0
    #: evaluations since the last improvement (early stopping)
    bad_evals: int = 0
    n_examples: int = 0
    n_tokens: int = 0
    #: wall time and dev-evaluation time of the phase so far, over all attempts
    seconds: float = 0.0
    eval_seconds: float = 0.0
    checkpoints_written: int = 0
    resumes: int = 0


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
    checkpoints: Checkpoints | None = None,
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
    streams = [BatchStream(t.train, cfg.batch_size, rng, cfg.group_by_length) for t in tasks]

    # exact sparse AdamW for the word embeddings: same maths as dense AdamW, state only for rows seen
    sparse = cfg.sparse_embeddings and model.encoder.get_input_embeddings().weight.requires_grad
    optimizer = (build_sparse_optimizer(model, model.encoder.get_input_embeddings(), cfg.lr, cfg.weight_decay, cfg.adam_eps)
                 if sparse else build_optimizer(model, cfg.lr, cfg.weight_decay, cfg.adam_eps, device))
    scheduler = linear_schedule(optimizer, total, cfg.warmup_ratio)
    scaler = precision.scaler()

    state = LoopState()
    best_state: dict[str, torch.Tensor] | None = None
    resumed_from: int | None = None
    if checkpoints is not None:
        saved = PhaseState(model, optimizer, scheduler, scaler, {}, {}, None)
        resumed_from = checkpoints.restore(saved)
        if resumed_from is not None:
            state, best_state = LoopState(**saved.loop), saved.best
            state.resumes += 1
            rng.setstate(random_state_from_json(saved.sampler["rng"]))
            for stream, position in zip(streams, saved.sampler["streams"], strict=True):
                stream.restore(position)
    stopped_early = False
    earlier_seconds = state.seconds
    start = time.perf_counter()
    bar = progress.add_task("train " + "+".join(t.name for t in tasks), total=total) if progress else None
    if bar is not None and state.step:
        progress.update(bar, advance=state.step)
    stopped: str | None = None
    while state.step < total:
        optimizer.zero_grad(set_to_none=True)
        losses: list[torch.Tensor] = []
        for _ in range(cfg.grad_accum):
            k = rng.choices(range(len(tasks)), weights=weights)[0] if len(tasks) > 1 else 0
            task = tasks[k]
            idx = next(streams[k])
            feats = [task.train[i] for i in idx]
            host_batch = task.fmt.collate(feats, pad_id)
            state.n_tokens += int(host_batch["attention_mask"].sum())  # counted on the host: no device sync
            batch = {key: v.to(device) for key, v in host_batch.items()}
            with precision.autocast():
                logits = model(task.name, batch)
            loss = task.fmt.loss(logits, batch) / cfg.grad_accum
            (scaler.scale(loss) if scaler else loss).backward()
            losses.append(loss.detach().float())
            state.n_examples += len(idx)
        if scaler:
            scaler.unscale_(optimizer)
        grad_norm = (clip_sparse_grad_norm_ if sparse else torch.nn.utils.clip_grad_norm_)(model.parameters(), cfg.max_grad_norm)
        values, norm = read_step(losses, None if scaler else grad_norm)
        loss_sum = sum(values)
        stopped = non_finite(loss_sum, norm, state.step + 1)
        if stopped:
            break  # before this step's update: the weights are still the last good ones
        if scaler:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        state.step += 1
        step = state.step
        state.running = loss_sum if step == 1 else 0.9 * state.running + 0.1 * loss_sum
        if bar is not None:
            progress.update(bar, advance=1, description=f"train {'+'.join(t.name for t in tasks)} loss {state.running:.3f}")
        if step % eval_every == 0 or step == total:
            eval_start = time.perf_counter()
            if sparse:
                optimizer.sync()  # pending decay of unseen rows, before the weights are read or copied
            scores = evaluate_dev(model, tasks, eval_batch_size, precision, pad_id)
            if bar is not None and "score" in scores:
                progress.update(bar, dev=scores["score"])
            state.eval_seconds += time.perf_counter() - eval_start
            state.history.append({"step": step, "loss": state.running, **scores})
            if "score" in scores:
                if state.best_score is None or scores["score"] > state.best_score:
                    state.best_score, state.best_step, state.bad_evals = scores["score"], step, 0
                    best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                else:
                    state.bad_evals += 1
                    if cfg.patience and state.bad_evals >= cfg.patience:
                        stopped_early = True
                        break
        if checkpoints is not None and checkpoints.due(step, last=step >= total):
            state.seconds = earlier_seconds + time.perf_counter() - start
            state.checkpoints_written += 1
            if sparse:
                optimizer.sync()
            sampler = {"rng": random_state_to_json(rng.getstate()), "streams": [s.state() for s in streams]}
            if not checkpoints.write(step, PhaseState(model, optimizer, scheduler, scaler, asdict(state), sampler, best_state)):
                state.checkpoints_written -= 1
            checkpoints.stop_if_preempted(step)
    seconds = earlier_seconds + time.perf_counter() - start
    train_seconds = max(seconds - state.eval_seconds, 1e-9)
    if bar is not None:
        progress.remove_task(bar)
    best_step = state.best_step
    if sparse:
        optimizer.finish()  # every row brought up to date; the embedding back to dense gradients
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_step = state.step
    return PhaseSummary(
        steps=state.step,
        best_step=best_step,
        best_score=state.best_score,
        history=state.history,
        seconds=seconds,
        eval_seconds=state.eval_seconds,
        examples_per_s=state.n_examples / train_seconds,
        tokens_per_s=state.n_tokens / train_seconds,
        peak_memory_mb=peak_memory_mb(device),
        stopped_early=stopped_early,
        precision=precision.name,
        stopped=stopped,
        resumed_from_step=resumed_from,
        resumes=state.resumes,
        checkpoints_written=state.checkpoints_written,
    )
