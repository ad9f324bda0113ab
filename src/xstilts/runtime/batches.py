"""Batching: length-grouped batches for training, length-sorted batches for evaluation.

Grouping similar lengths keeps dynamic padding small; shuffling whole groups keeps training random.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from xstilts.formats.base import Feature


def length_grouped_batches(features: Sequence[Feature], batch_size: int, rng: random.Random, group_by_length: bool = True) -> list[list[int]]:
    """One epoch of index batches: shuffle, sort within mega-batches of 50 batches by length, shuffle batches."""
    order = list(range(len(features)))
    rng.shuffle(order)
    if group_by_length:
        mega = batch_size * 50
        chunks = [sorted(order[i : i + mega], key=lambda j: -features[j]["len"]) for i in range(0, len(order), mega)]
        order = [j for chunk in chunks for j in chunk]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def sorted_batches(features: Sequence[Feature], batch_size: int, max_tokens: int | None = None) -> Iterator[list[int]]:
    """Evaluation batches in descending length, so the first batch reveals any memory problem."""
    order = sorted(range(len(features)), key=lambda j: -features[j]["len"])
    batch: list[int] = []
    for j in order:
        batch.append(j)
        width = features[batch[0]]["len"]
        if len(batch) >= batch_size or (max_tokens and width * len(batch) >= max_tokens):
            yield batch
            batch = []
    if batch:
        yield batch
