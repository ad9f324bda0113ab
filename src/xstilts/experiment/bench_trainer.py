"""The Hugging Face ``Trainer`` systems of ``xstilts bench``: defaults and tuned, on xstilts' features.

The maths is the xstilts system's: the same tokenised examples, batch size, steps, learning rate,
linear schedule with the same number of warm-up steps, weight decay (the Trainer, too, exempts biases
and LayerNorm weights), Adam epsilon, clipping, dropout and seed. What differs is what a Trainer
user chooses: ``defaults`` leaves precision, optimiser implementation, sampler and evaluation batch
size to the library; ``tuned`` sets bf16 where the hardware has it natively (with ``bf16_full_eval``),
fused AdamW, length-grouped sampling and xstilts' evaluation batch size.

Evaluation is timed on ``Trainer.predict``: ``Trainer.evaluate``'s loop, returning the predictions so
that the task's own scorer scores them.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from typing import Any

import torch

from xstilts.config import RunConfig
from xstilts.experiment.bench import (
    BenchData,
    ModelSource,
    PeakMemory,
    Phase,
    Round,
    TokenCounter,
    pad_token_id,
    score,
    sync,
)
from xstilts.formats.base import Feature
from xstilts.runtime.hardware import cpu_has_native_bf16, seed_everything


def native_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


def trainer_args(cfg: RunConfig, device: torch.device, tuned: bool, out_dir: str) -> Any:
    """``TrainingArguments`` for the workload: its maths always, the speed settings only when tuned."""
    from transformers import TrainingArguments

    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    t = cfg.train
    kwargs: dict[str, Any] = {
        "output_dir": out_dir,
        "per_device_train_batch_size": t.batch_size,
        "gradient_accumulation_steps": t.grad_accum,
        "max_steps": t.max_steps,
        "learning_rate": t.lr,
        "lr_scheduler_type": "linear",
        "warmup_steps": round(t.max_steps * t.warmup_ratio),  # as xstilts' linear_schedule counts them
        "weight_decay": t.weight_decay,
        "adam_epsilon": t.adam_eps,
        "max_grad_norm": t.max_grad_norm,
        "seed": cfg.seed,
        "report_to": "none",
        "save_strategy": "no",
        "logging_strategy": "no",
        "disable_tqdm": True,
    }
    if device.type == "cpu" and "use_cpu" in fields:
        kwargs["use_cpu"] = True
    if tuned:
        kwargs.update(optim="adamw_torch_fused", per_device_eval_batch_size=cfg.eval.batch_size)
        if native_bf16(device):
            kwargs.update(bf16=True, bf16_full_eval=True)
        if "train_sampling_strategy" in fields:  # transformers >= 5
            kwargs["train_sampling_strategy"] = "group_by_length"
        else:
            kwargs["group_by_length"] = True
    return TrainingArguments(**kwargs)


def rows(features: list[Feature]) -> list[dict[str, Any]]:
    """xstilts' features as the Trainer's examples; its collator pads them and builds the attention mask."""
    return [{"input_ids": f["input_ids"], "labels": f["label"]} for f in features]


def trainer_round(source: ModelSource, data: BenchData, cfg: RunConfig, device: torch.device, tuned: bool, shape: dict[str, Any]) -> Round:
    """Train with ``Trainer.train``, score English dev, then time ``Trainer.predict`` on the evaluation split."""
    from transformers import DataCollatorWithPadding, Trainer
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    name = "trainer-tuned" if tuned else "trainer-default"
    seed_everything(cfg.seed)
    model = source.classifier(len(data.labels), cfg.train.dropout)
    pad_id = pad_token_id(source.tokenizer)
    collator = DataCollatorWithPadding(source.tokenizer)
    with tempfile.TemporaryDirectory(prefix="xstilts-bench-") as out_dir:
        args = trainer_args(cfg, device, tuned, out_dir)
        precision = "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32"
        eval_precision = "bf16" if args.bf16_full_eval else precision
        shape[name] = {"optim": str(getattr(args.optim, "value", args.optim)), "precision": precision, "eval_precision": eval_precision,
                       "group_by_length": tuned, "eval_batch_size": args.per_device_eval_batch_size}  # fmt: skip
        trainer = Trainer(model=model, args=args, data_collator=collator, train_dataset=rows(data.train))
        for callback in (PrinterCallback, ProgressCallback):  # no log lines on stdout (--json prints there)
            trainer.remove_callback(callback)
        counter = TokenCounter(model.get_input_embeddings(), pad_id)
        with PeakMemory(device) as mem:
            start = time.perf_counter()
            output = trainer.train()
            sync(device)
            wall = time.perf_counter() - start
        examples, tokens = counter.totals()
        loop = float(output.metrics["train_runtime"])  # the Trainer's own clock: its loop, after set-up

        fp32_score = None
        if eval_precision != "fp32":  # before bf16_full_eval casts the model for good
            reference = Trainer(model=model, args=trainer_args(cfg, device, False, out_dir), data_collator=collator)
            reference.remove_callback(PrinterCallback)
            fp32_score = _score(reference, data, data.eval_examples, data.eval)
        dev_score = _score(trainer, data, data.dev_examples, data.dev)
        train = Phase(loop, wall, examples, tokens, mem.mb, dev_score, precision, int(trainer.state.global_step), {"memory": mem.source})

        with PeakMemory(device) as mem:
            start = time.perf_counter()
            out = trainer.predict(rows(data.eval))
            sync(device)
            seconds = time.perf_counter() - start
    accuracy = score(data, data.eval_examples, data.eval, out.predictions.argmax(-1).tolist())
    extra: dict[str, Any] = {"memory": mem.source, "batch_size": args.per_device_eval_batch_size}
    if fp32_score is not None:
        extra["score_fp32"] = fp32_score
    evaluate = Phase(seconds, seconds, len(data.eval), sum(f["len"] for f in data.eval), mem.mb, accuracy, eval_precision, extra=extra)
    return Round(train, evaluate)


def _score(trainer: Any, data: BenchData, examples: list[Any], features: list[Feature]) -> float:
    out = trainer.predict(rows(features))
    return score(data, examples, features, out.predictions.argmax(-1).tolist())
