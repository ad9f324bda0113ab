"""Shared fixtures: a tiny random BERT with a byte-level BPE tokenizer, built once per session.

Tests point ``XSTILTS_CACHE`` at a temporary folder so they never touch the user's cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"

SENTENCES = [
    "The cat sat on the mat.",
    "A man is playing a guitar on the street.",
    "Der Hund schläft im Garten.",
    "El niño come una manzana roja.",
    "Кошка спит на диване.",
    "我们明天去北京。",
    "القطة تنام على السرير.",
    "बच्चा स्कूल जा रहा है।",
    "Mtoto anakula chakula.",
    "Çocuk okula gidiyor.",
    "Nobody is outside. Everyone stayed at home because of the rain.",
]


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("xstilts-cache")
    old = os.environ.get("XSTILTS_CACHE")
    os.environ["XSTILTS_CACHE"] = str(cache)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["XSTILTS_PROGRESS"] = "0"
    yield cache
    if old is None:
        os.environ.pop("XSTILTS_CACHE", None)
    else:
        os.environ["XSTILTS_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide random BERT saved as a Hugging Face folder (safetensors)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-model")
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(SENTENCES * 3, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        mask_token="<mask>", cls_token="<s>", sep_token="</s>", model_max_length=512,
    )
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=520, pad_token_id=1, type_vocab_size=1,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(folder, safe_serialization=True)
    return folder


def require_shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (real data lives in ../shared/data beside the checkout)")
    return path
