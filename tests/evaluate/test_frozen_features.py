"""What one probed unit is per format, on the tiny model: the counts and labels rank's estimators see.

Why these checks: LogME and H-score are only as good as the (feature, label) pairs they get. Each
format's units must be exactly the labelled units its head is trained on (first subwords, one row per
choice, answer-span tokens), in an order that does not depend on the encoder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from xstilts.evaluate import frozen_features
from xstilts.evaluate.frozen_features import (
    NoProbe,
    TaskData,
    load_frozen,
    probe,
    text_embedding,
    training_examples,
)
from xstilts.formats import qa as qa_format
from xstilts.formats.base import format_of
from xstilts.report.transferability import task_similarity
from xstilts.tasks.registry import get_task

N = 40


@pytest.fixture(scope="module")
def frozen(tiny_model: Path) -> frozen_features.FrozenEncoder:
    return load_frozen(str(tiny_model), torch.device("cpu"), batch_size=16)


def data(task: str, n: int = N, max_length: int = 128) -> TaskData:
    return training_examples(get_task(task), None, None, "en", n, 0, max_length, 32)


def test_classification_one_unit_per_example(frozen: frozen_features.FrozenEncoder) -> None:
    d = data("mini_nli")
    p = probe(d, frozen)
    assert p.features.shape == (N, 32) and p.examples == N and p.unit == "example"
    names = list(get_task("mini_nli").labels or ())
    assert sorted(p.labels.tolist()) == sorted(names.index(ex.label) for ex in d.examples)
    assert not np.allclose(probe(d, frozen, "mean").features, p.features)  # mean pooling is another feature


def test_tagging_one_unit_per_word_at_its_first_subword(frozen: frozen_features.FrozenEncoder) -> None:
    d = data("mini_ner")
    p = probe(d, frozen)
    assert len(p.labels) == sum(len(ex.tokens) for ex in d.examples)  # short sentences: nothing truncated
    tags = list(get_task("mini_ner").labels or ())
    assert sorted(p.labels.tolist()) == sorted(tags.index(t) for ex in d.examples for t in ex.tags or ())


def test_multiple_choice_one_unit_per_choice_one_correct(frozen: frozen_features.FrozenEncoder) -> None:
    d = data("mini_mc")
    p = probe(d, frozen)
    choices = len(d.examples[0].choices)
    assert len(p.labels) == N * choices and int(p.labels.sum()) == N


def test_qa_context_tokens_in_or_out_of_the_answer(frozen: frozen_features.FrozenEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    d = data("mini_qa", max_length=96)
    fmt = format_of(d.task)
    feats = fmt.featurize(d.examples, frozen.tokenizer, ["start", "end"], 96, 32)
    in_answer = sum(f["end"] - f["start"] + 1 for f in feats if f["start"] not in (-100, f["cls"]))
    context = sum(sum(o is not None for o in f["offsets"]) for f in feats if f["start"] != -100)
    monkeypatch.setattr(qa_format, "PROBE_TOKENS_PER_WINDOW", 10_000)
    every = probe(d, frozen)
    assert (len(every.labels), int(every.labels.sum())) == (context, in_answer) and in_answer > 0
    monkeypatch.setattr(qa_format, "PROBE_TOKENS_PER_WINDOW", 8)
    drawn = probe(d, frozen)
    assert len(drawn.labels) <= 8 * len(feats) and set(drawn.labels.tolist()) == {0, 1}
    assert np.array_equal(probe(d, frozen).labels, drawn.labels)  # the same draw every time


def test_units_are_capped_by_a_fixed_draw(frozen: frozen_features.FrozenEncoder) -> None:
    d = data("mini_ner")
    a, b = probe(d, frozen, max_units=50), probe(d, frozen, max_units=50)
    assert len(a.labels) == 50 and np.array_equal(a.labels, b.labels) and np.array_equal(a.features, b.features)


def test_retrieval_has_no_probe(frozen: frozen_features.FrozenEncoder) -> None:
    with pytest.raises(NoProbe, match="mini_parallel is a retrieval task"):
        frozen_features.unit_of(get_task("mini_parallel"))


def test_text_embedding_of_a_task_matches_itself(frozen: frozen_features.FrozenEncoder) -> None:
    nli = text_embedding([data("mini_nli")], frozen)
    assert nli.shape == (32,)
    assert task_similarity(nli, text_embedding([data("mini_nli")], frozen)) == pytest.approx(1.0)
    mixed = text_embedding([data("mini_nli", 20), data("mini_qa", 20, 96)], frozen)
    assert task_similarity(nli, mixed) < 1.0
