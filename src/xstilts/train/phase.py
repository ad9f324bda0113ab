"""One training phase as a run: load English data, build the model, train, save, write result.json.

The run directory appears in one rename when everything in it is complete, so a killed run leaves no
partial artifact that a later run could mistake for a finished one.

A phase whose loss turns NaN or infinite stops at that step (see :mod:`xstilts.train.loop`). Its run is
still written, with the last good weights and ``training.stopped`` saying why, so the weights and the
history up to the fault can be inspected. But it did not do what was asked, so :func:`train_run` then
raises :class:`TrainingDiverged` naming the step (exit 1 from the command line), and raises it again
whenever the same run is asked for: a diverged phase never silently feeds a target phase or a zero-shot
evaluation, and a grid stops there instead of reporting a chance-level score as a result.

A phase is pre-emption safe: it checkpoints every ``train.checkpoint_every_steps`` steps and every
``train.checkpoint_every_minutes`` minutes into ``<out>/.checkpoints/<run-id>/`` (see
:mod:`xstilts.train.checkpoint`), and the same command run again resumes from the newest checkpoint
and ends with the same weights. SIGTERM and SIGUSR1 write one and exit with ``128 + signal`` (see
:mod:`xstilts.train.preemption`). Once the run is written its checkpoints are removed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.config import RunConfig
from xstilts.data.domains import domain_counts, task_domain
from xstilts.data.load import Split, load_split, pool_split
from xstilts.data.schema import DataError, Example
from xstilts.formats.base import Format, trainable_format
from xstilts.formats.features import features_for
from xstilts.models.encoder import load_encoder, load_tokenizer, resolve_model_path
from xstilts.models.model import MultiTaskModel
from xstilts.progress import progress_scope
from xstilts.runs import Provenance, Run, RunResult, encoder_provenance, run_encoder_path
from xstilts.runtime.hardware import Precision, pick_device, pick_precision, seed_everything
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task
from xstilts.train.checkpoint import Checkpoints
from xstilts.train.loop import PhaseTask, TrainingDiverged, train_phase
from xstilts.train.preemption import preemption_signals

#: config keys that change when a phase saves its progress, never what it computes: no part of a run id
NOT_IN_RUN_ID = {"checkpoint_every_steps", "checkpoint_every_minutes"}


@dataclass
class PhaseData:
    task: Task
    train: Split
    dev: Split


def labeled(fmt: Format, examples: Sequence[Example]) -> list[Example]:
    return [ex for ex in examples if fmt.has_gold(ex)]


def load_phase_data(task_names: Sequence[str], cfg: RunConfig) -> list[PhaseData]:
    out = []
    for name in task_names:
        task = get_task(name)
        lang = cfg.data.train_language
        train = load_split(task, lang, cfg.data.train_split or task.train_split, cfg.data.data_dir)
        dev = load_split(task, lang, cfg.data.dev_split or task.dev_split, cfg.data.data_dir)
        out.append(PhaseData(task, train, dev))
    return out


def train_run(task_names: Sequence[str], cfg: RunConfig, out: Path, init: Path | None = None, progress: Any = None) -> RunResult:
    """Train the named tasks together on one encoder (from ``cfg.model`` or the run at ``init``)."""
    data = load_phase_data(task_names, cfg)
    parent = encoder_provenance(init) if init is not None else Provenance(model=cfg.model.name)
    name = "+".join(task_names)
    spec = {
        "tasks": list(task_names),
        "model": cfg.model.model_dump(),
        "train": cfg.train.model_dump(exclude=NOT_IN_RUN_ID),
        "data": {d.task.name: [d.train.fingerprint, d.dev.fingerprint] for d in data},
        "max_train_examples": cfg.data.max_train_examples,
        "seed": cfg.seed,
        "parent": parent.checkpoint_sha256,
    }
    run = Run(out, "train", name, spec)
    checkpoints = Checkpoints.beside(run.dir, run.id, cfg.train.checkpoint_every_steps, cfg.train.checkpoint_every_minutes)
    if run.finished is not None:
        checkpoints.clear()  # left if the process died between writing the run and removing them
        return check_not_stopped(run.finished, run.dir)

    start = time.perf_counter()
    model_path = str(run_encoder_path(init)) if init is not None else resolve_model_path(cfg.model.name)
    revision = cfg.model.revision if init is None else None
    tokenizer = load_tokenizer(model_path, revision, cfg.model.trust_remote_code)
    encoder = load_encoder(model_path, revision, cfg.model.trust_remote_code, cfg.train.dropout)
    seed_everything(cfg.seed)  # after loading: building a model on first use must not shift the seed
    model = MultiTaskModel(encoder)
    if cfg.train.freeze_embeddings:
        encoder.get_input_embeddings().weight.requires_grad_(False)
    dropout = cfg.train.dropout if cfg.train.dropout is not None else float(getattr(encoder.config, "hidden_dropout_prob", 0.1))
    rng = random.Random(cfg.seed)

    phase_tasks: list[PhaseTask] = []
    domains: dict[str, dict[str, int]] = {}
    for d in data:
        fmt = trainable_format(d.task)
        train_ex = labeled(fmt, d.train.examples)
        if cfg.data.max_train_examples and len(train_ex) > cfg.data.max_train_examples:
            train_ex = rng.sample(train_ex, cfg.data.max_train_examples)
        if not train_ex:
            raise DataError(d.train.source, None, f"labelled {d.task.name} training examples, found none (every example is unlabelled)")
        fmt.check_training(train_ex, d.train.source)
        pool = pool_split(d.train.split)
        drawn_from = d.train if pool == d.train.split else load_split(d.task, d.train.language, pool, cfg.data.data_dir)
        domains[d.task.name] = domain_counts(labeled(fmt, drawn_from.examples), task_domain(d.task))
        labels = fmt.label_list(d.task, train_ex)
        model.add_head(d.task.name, d.task.format, labels, dropout)
        dev_ex = labeled(fmt, d.dev.examples)
        if cfg.train.eval_examples and len(dev_ex) > cfg.train.eval_examples:
            dev_ex = random.Random(cfg.seed + 1).sample(dev_ex, cfg.train.eval_examples)
        train_feats = features_for(fmt, d.train, train_ex, tokenizer, labels, cfg.train.max_length, cfg.train.doc_stride, cfg.train.tokenize_words)
        dev_feats = features_for(fmt, d.dev, dev_ex, tokenizer, labels, cfg.train.max_length, cfg.train.doc_stride, cfg.train.tokenize_words)
        phase_tasks.append(PhaseTask(d.task.name, fmt, labels, d.task.metric, train_feats, dev_ex, dev_feats))

    device = pick_device(cfg.train.device)
    precision = Precision(pick_precision(cfg.train.precision, device), device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    # the handlers stay through the save: a signal then waits until the run is whole
    with preemption_signals() as preemption:
        checkpoints.preemption = preemption
        with progress_scope(progress) as bar:
            summary = train_phase(model, phase_tasks, cfg.train, precision, pad_id, cfg.seed, cfg.eval.batch_size, bar, checkpoints)

        last = summary.history[-1] if summary.history else {}
        best = next((h for h in summary.history if h["step"] == summary.best_step), last)
        with run.writing() as tmp:
            model.save(tmp, tokenizer)
            result = run.write(
                tmp,
                cfg,
                model=cfg.model.name,
                data_fingerprint={f"{d.task.name}:{s.split}": s.fingerprint for d in data for s in (d.train, d.dev)},
                data_sources={f"{d.task.name}:{s.split}": s.source for d in data for s in (d.train, d.dev)},
                parent=parent.as_dict() or None,
                metrics={"en": {f"dev_{k}": float(v) for k, v in best.items() if k not in ("step", "loss")}},
                timings={
                    "seconds": time.perf_counter() - start,
                    "examples_per_s": summary.examples_per_s,
                    "tokens_per_s": summary.tokens_per_s,
                    "peak_memory_mb": summary.peak_memory_mb,
                    "phases": {"train": {"seconds": summary.seconds - summary.eval_seconds}, "dev_eval": {"seconds": summary.eval_seconds}},
                },
                training={
                    "steps": summary.steps,
                    "best_step": summary.best_step,
                    "best_dev_score": summary.best_score,
                    "stopped_early": summary.stopped_early,
                    "stopped": summary.stopped,
                    "precision": summary.precision,
                    # pre-emption safety: the step this attempt resumed from (null: from the start), the
                    # number of resumes and of checkpoints written over all attempts
                    "resumed_from_step": summary.resumed_from_step,
                    "resumes": summary.resumes,
                    "checkpoints_written": summary.checkpoints_written,
                    "history": summary.history,
                    "train_examples": {t.name: len(t.train) for t in phase_tasks},
                    # the domains of the pool the training examples were drawn from (before slicing and
                    # sampling): an evaluation's in-domain test examples are the ones in these
                    "domains": domains,
                    "heads": {t.name: {"format": t.fmt.name, "labels": t.labels} for t in phase_tasks},
                },
                notes=[f"stopped: {summary.stopped}; kept the weights of step {summary.best_step}"] if summary.stopped else [],
            )
    checkpoints.clear()
    result = check_not_stopped(result, run.dir)
    if preemption.requested:  # it came after the last step: the run is whole, and the job still has to go
        raise preemption.stop(f"finished and saved {run.id} first")
    return result


def check_not_stopped(result: RunResult, run_dir: Path) -> RunResult:
    """The result of a phase that ran to its end; a phase that stopped at a non-finite loss raises."""
    stopped = result.training.get("stopped")
    if not stopped:
        return result
    lr = result.config.get("train", {}).get("lr")
    raise TrainingDiverged(
        f"train {result.task}: {stopped}; stopped there, keeping the weights of step {result.training.get('best_step')} "
        f"in {run_dir} (training.stopped in its result.json); a learning rate below {lr:g} may help"
    )
