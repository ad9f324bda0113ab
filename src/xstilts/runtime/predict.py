"""Batched inference in length-sorted order, shared by checkpoint selection and zero-shot evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from xstilts.data.schema import Example
from xstilts.formats.base import Feature, TrainableFormat
from xstilts.models.model import MultiTaskModel
from xstilts.runtime.batches import sorted_batches
from xstilts.runtime.hardware import Precision


@torch.inference_mode()
def predict(
    model: MultiTaskModel,
    task: str,
    fmt: TrainableFormat,
    examples: Sequence[Example],
    features: Sequence[Feature],
    labels: list[str],
    batch_size: int,
    precision: Precision,
    pad_id: int,
    progress: Any = None,
) -> dict[str, Any]:
    """Per-example predictions (keyed by example id), decoded by the format."""
    was_training = model.training
    model.eval()
    outputs: list[Any] = [None] * len(features)
    task_id = progress.add_task(f"eval {task}", total=len(features)) if progress is not None else None
    try:
        for idx in sorted_batches(features, batch_size):
            batch = fmt.collate([features[i] for i in idx], pad_id)
            batch = {k: v.to(precision.device) for k, v in batch.items()}
            with precision.autocast():
                logits = model(task, batch)
            for i, out in zip(idx, fmt.outputs(logits, batch), strict=True):
                outputs[i] = out
            if task_id is not None:
                progress.advance(task_id, len(idx))
    finally:
        if task_id is not None:
            progress.remove_task(task_id)
        model.train(was_training)
    return fmt.decode(examples, features, outputs, labels)
