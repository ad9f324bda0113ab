from __future__ import annotations

import random

import pytest
import torch

from xstilts.formats.base import get_format
from xstilts.runtime.batches import length_grouped_batches, sorted_batches
from xstilts.runtime.hardware import Precision, build_optimizer, pick_precision
from xstilts.train.loop import sampling_weights


def test_sampling_rules() -> None:
    assert sampling_weights([100, 300], "proportional", 0, 1) == pytest.approx([0.25, 0.75])
    assert sampling_weights([100, 300], "capped", 100, 1) == pytest.approx([0.5, 0.5])
    assert sampling_weights([100, 400], "temperature", 0, 2.0) == pytest.approx([1 / 3, 2 / 3])
    assert sampling_weights([1, 9], "uniform", 0, 1) == pytest.approx([0.5, 0.5])


def test_length_grouped_batches_cover_everything_once() -> None:
    feats = [{"len": random.Random(i).randint(3, 90)} for i in range(203)]
    batches = length_grouped_batches(feats, 16, random.Random(0))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(203))
    # grouping keeps padding small: within a batch, lengths are close (sorted inside mega-batches)
    spread = sum(max(feats[i]["len"] for i in b) - min(feats[i]["len"] for i in b) for b in batches) / len(batches)
    assert spread < 25


def test_sorted_batches_descend() -> None:
    feats = [{"len": n} for n in (5, 50, 7, 30)]
    assert list(sorted_batches(feats, 2)) == [[1, 3], [2, 0]]


def test_no_weight_decay_on_bias_and_layernorm() -> None:
    from transformers import BertConfig, BertModel

    model = BertModel(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16))
    opt = build_optimizer(model, 1e-3, 0.01, 1e-8, torch.device("cpu"))
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = [names[id(p)] for p in opt.param_groups[0]["params"]]
    plain = [names[id(p)] for p in opt.param_groups[1]["params"]]
    assert opt.param_groups[1]["weight_decay"] == 0.0
    assert all("bias" not in n and "LayerNorm" not in n for n in decayed)
    assert any("LayerNorm.weight" in n for n in plain) and any(n.endswith("bias") for n in plain)


def test_precision_choice() -> None:
    assert pick_precision("fp32", torch.device("cpu")) == "fp32"
    assert pick_precision("auto", torch.device("cpu")) in {"bf16", "fp32"}
    with Precision("bf16", torch.device("cpu")).autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16


def test_classification_format_roundtrip(tmp_path) -> None:
    from xstilts.data.schema import ClassificationExample, DataError

    fmt = get_format("classification")
    exs = [ClassificationExample("a", "x", "y", "entailment"), ClassificationExample("b", "x", "z", "neutral")]
    preds = {"a": "entailment", "b": "contradiction"}
    assert fmt.score(exs, preds, "en") == {"accuracy": 50.0, "n": 2.0}
    path = tmp_path / "p.txt"
    fmt.write_predictions(path, exs, preds)
    assert fmt.read_predictions(path, exs) == preds
    path.write_text("entailment\n")
    with pytest.raises(DataError, match=r"p\.txt"):
        fmt.read_predictions(path, exs)
