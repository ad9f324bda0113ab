"""Tokenise once and cache: features live in ``$XSTILTS_CACHE/features`` as plain ``.npz`` arrays.

The key covers everything that changes the features (tokenizer files, data fingerprint, format,
labels, lengths, how tagging tokenises words), so a stale cache is never read. Arrays only, never pickles.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.data.load import Split
from xstilts.data.schema import Example
from xstilts.formats.base import Feature, Format, TokenizeWords
from xstilts.paths import atomic_write_bytes, cache_dir


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """Hash of the tokenizer's full serialised state, so two folders with the same files match."""
    h = hashlib.sha256()
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        h.update(backend.to_str().encode())
    else:
        h.update(str(getattr(tokenizer, "name_or_path", type(tokenizer).__name__)).encode())
        h.update(json.dumps(tokenizer.get_vocab(), sort_keys=True).encode())
    return h.hexdigest()[:16]


def _encode(features: Sequence[Feature]) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    keys = sorted({k for f in features for k in f})
    arrays["__n__"] = np.array([len(features)])
    for key in keys:
        values = [f.get(key) for f in features]
        sample = next((v for v in values if v is not None), None)
        lists = [v for v in values if isinstance(v, list)]
        nested = any(x is None or isinstance(x, (list, tuple)) for v in lists for x in v)
        if lists and nested:  # e.g. QA offset mappings, with None for non-context tokens
            flat = [[-1, -1] if x is None else list(x) for v in values for x in (v or [])]
            arrays[f"{key}__pairs"] = np.array(flat, dtype=np.int64).reshape(-1, 2)
            arrays[f"{key}__len"] = np.array([len(v or []) for v in values], dtype=np.int64)
        elif lists or sample is None:
            arrays[f"{key}__flat"] = np.array([x for v in values for x in (v or [])], dtype=np.int64)
            arrays[f"{key}__len"] = np.array([len(v or []) for v in values], dtype=np.int64)
        elif isinstance(sample, float):
            arrays[f"{key}__float"] = np.array(values, dtype=np.float64)
        else:
            arrays[f"{key}__int"] = np.array(values, dtype=np.int64)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _decode(data: np.lib.npyio.NpzFile) -> list[Feature]:
    n = int(data["__n__"][0])
    feats: list[Feature] = [{} for _ in range(n)]
    for name in data.files:
        if name == "__n__" or name.endswith("__len"):
            continue
        key, kind = name.rsplit("__", 1)
        arr = data[name]
        if kind in ("int", "float"):
            for f, v in zip(feats, arr.tolist(), strict=True):
                f[key] = v
            continue
        lengths = data[f"{key}__len"].tolist()
        pos = 0
        rows = arr.tolist()
        for f, ln in zip(feats, lengths, strict=True):
            chunk = rows[pos : pos + ln]
            pos += ln
            if kind == "pairs":
                chunk = [None if x == [-1, -1] else tuple(x) for x in chunk]
            f[key] = chunk
    return feats


def cached_features(key_parts: dict[str, Any], build: Callable[[], list[Feature]], use_cache: bool = True) -> list[Feature]:
    """Return cached features for ``key_parts``, building and storing them on a miss."""
    if not use_cache:
        return build()
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True, default=str).encode()).hexdigest()[:24]
    path = Path(cache_dir()) / "features" / f"{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return _decode(data)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # a damaged cache entry is rebuilt, never trusted
    feats = build()
    atomic_write_bytes(path, _encode(feats))
    return feats


def features_for(
    fmt: Format, split: Split, examples: Sequence[Example], tokenizer: Any, labels: list[str], max_length: int, doc_stride: int,
    tokenize_words: TokenizeWords = "xtreme",
) -> list[Feature]:
    """A split's features, tokenised once per (tokenizer, data, format, labels, lengths, word tokenisation) and cached."""
    key = {
        "format": fmt.name,
        "task": split.task,
        "lang": split.language,
        "split": split.split,
        "data": split.fingerprint,
        "n": len(examples),
        "ids": [ex.id for ex in examples[:3]] + [ex.id for ex in examples[-3:]],
        "tokenizer": tokenizer_fingerprint(tokenizer),
        "labels": labels,
        "max_length": max_length,
        "doc_stride": doc_stride,
        "v": 1,
    }
    if tokenize_words != "xtreme":  # the default keeps the keys of caches written before the option existed
        key["tokenize_words"] = tokenize_words
    return cached_features(key, lambda: fmt.featurize(examples, tokenizer, labels, max_length, doc_stride, tokenize_words=tokenize_words))
