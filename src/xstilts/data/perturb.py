"""Seeded text noise at a rate p (typos, stripped accents, case, punctuation) for robustness curves.

Why it is built this way:

- Test sets come in every script, so edits work on extended grapheme clusters (``regex``'s ``\\X``), never
  on code points: "é" written as e + U+0301, a Devanagari conjunct, an emoji ZWJ family, a flag or a
  skin-tone emoji moves, drops or repeats as one unit, and an edit whose clusters would merge with their
  neighbours (or stop being NFC) is not made. Typos (``swap``, ``drop``, ``insert``) touch only clusters
  that start with a letter or digit, so punctuation and emoji stay put (``punct`` is its own kind), and an
  insert repeats one of the word's own clusters, so Thai never gets a Latin letter.
- Words are the whitespace-separated runs; whitespace is kept exactly. In scripts written without spaces
  (Chinese, Japanese, Thai) a "word" is a phrase or a sentence, so a typo rate there is per run, not per
  character.
- A result depends only on (text, kind, rate, seed, key): each unit's random numbers are a keyed BLAKE2b
  hash of (seed, kind, key, field) and the unit's index, never Python's ``hash()`` or global random state,
  so they are the same in every process and Python version. A unit's numbers do not depend on the rate, so
  noise is nested: a word changed at p=0.2 is changed the same way at p=0.3, and a curve over p measures
  more of the same noise rather than a fresh draw at each point.
- Output is NFC at every rate: p=0 gives the NFC form of the text, which is the text itself for NFC input.
  QA gold answer spans are the one exception: they are copied byte for byte.
- ``diacritics`` strips combining marks (category Mn after NFD) only from letters of the Latin, Greek and
  Cyrillic scripts, where accents are optional-looking marks on letters that stand alone ("Crème" ->
  "Creme", "Tiếng Việt" -> "Tieng Viet", "ёлка" -> "елка"). Abugidas (Devanagari, Thai, ...) write vowels
  and viramas as marks, so removing them misspells rather than un-accents; Hebrew points and Arabic harakat
  are optional vowels that most test sets already omit. Those scripts are left as they are, and letters with
  no canonical decomposition (ø, ł, đ, ß) too.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import struct
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import count
from typing import Any, TypeVar, get_args

import regex

from xstilts.config import PerturbKind
from xstilts.data.schema import ClassificationExample, MultipleChoiceExample, QAExample, TaggingExample

__all__ = [
    "DIACRITIC_SCRIPTS",
    "KINDS",
    "Kind",
    "Perturbation",
    "perturb_example",
    "perturb_examples",
    "perturb_text",
]

Kind = PerturbKind
KINDS: tuple[Kind, ...] = get_args(Kind)
#: an evaluation's scores under perturbation are its slices ``perturb:<kind>`` -> {rate: {language: metrics}}
PERTURB_SLICE = "perturb:"

DIACRITIC_SCRIPTS = ("Latin", "Greek", "Cyrillic")
"""Scripts whose letters lose their combining marks under ``diacritics`` (see the module docstring)."""

E = TypeVar("E", ClassificationExample, MultipleChoiceExample, QAExample, TaggingExample)

_CLUSTER = regex.compile(r"\X")
_SPACE = regex.compile(r"(\s+)")
_ALPHABET = regex.compile("|".join(rf"\p{{Script={s}}}" for s in DIACRITIC_SCRIPTS))
_TO_UNIT = 2.0**-53


@dataclass(frozen=True)
class Perturbation:
    """What noise to add: a kind, the probability p that each eligible unit gets it, and a seed."""

    kind: Kind
    rate: float
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown perturbation kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError(f"perturbation rate must be a number in [0, 1], got {rate!r}")
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(f"perturbation seed must be an integer, got {seed!r}")
        object.__setattr__(self, "rate", float(rate))
        object.__setattr__(self, "seed", int(seed))

    def as_meta(self) -> dict[str, Any]:
        """The record an example's ``meta["perturbation"]`` gets, so results can be traced to their noise."""
        return {"kind": self.kind, "rate": self.rate, "seed": self.seed}


def perturb_text(text: str, spec: Perturbation, key: str = "") -> str:
    """``text`` with ``spec``'s noise; ``key`` (e.g. an example id) gives each text its own draws."""
    return _perturb_pieces([(text, False)], spec, _Draws(spec, (key,)))[0]


def perturb_example(example: E, spec: Perturbation, key: str | None = None) -> E:
    """A new example of the same type with every text field perturbed; the input is left untouched.

    Each field (``text_a``, ``choices/2``, ``tokens/5``, ...) draws from its own stream keyed by ``key``
    (the example id by default), so the two sides of a near-identical pair get independent noise. Labels,
    tags and the token count stay; a token that would become empty keeps its original text. QA gold answer
    spans stay byte-identical and their starts are recomputed; an answer not found at its start (a reader's
    unlocated answer, start -1) is passed through unchanged.
    """
    if not isinstance(example, ClassificationExample | MultipleChoiceExample | QAExample | TaggingExample):
        expected = "a classification, multiple-choice, QA or tagging example"
        raise TypeError(f"cannot perturb a {type(example).__name__}: expected {expected}")
    k = example.id if key is None else key

    def text(value: str, field: str) -> str:
        return _perturb_pieces([(value, False)], spec, _Draws(spec, (k, field)))[0]

    meta = {**example.meta, "perturbation": spec.as_meta()}
    if isinstance(example, ClassificationExample):
        text_b = None if example.text_b is None else text(example.text_b, "text_b")
        return replace(example, text_a=text(example.text_a, "text_a"), text_b=text_b, meta=meta)
    if isinstance(example, MultipleChoiceExample):
        choices = [text(c, f"choices/{i}") for i, c in enumerate(example.choices)]
        return replace(
            example,
            context=text(example.context, "context"),
            question=text(example.question, "question"),
            choices=choices,
            meta=meta,
        )
    if isinstance(example, TaggingExample):
        tokens = [text(t, f"tokens/{i}") or t for i, t in enumerate(example.tokens)]
        tags = None if example.tags is None else list(example.tags)
        return replace(example, tokens=tokens, tags=tags, meta=meta)
    context, answers = _perturb_context(example, spec, k)  # a QAExample, the one type left
    return replace(example, context=context, question=text(example.question, "question"), answers=answers, meta=meta)


def perturb_examples(examples: Iterable[E], spec: Perturbation) -> list[E]:
    """Every example perturbed, each keyed by its id (so a subset gets the same noise as the full set)."""
    return [perturb_example(ex, spec) for ex in examples]


class _Draws:
    """Three uniforms in [0, 1) per unit index: a counter-based generator that needs no state to replay."""

    def __init__(self, spec: Perturbation, parts: Sequence[str]) -> None:
        label = json.dumps([spec.seed, spec.kind, *parts], ensure_ascii=False).encode("utf-8")
        self._key = hashlib.blake2b(label, digest_size=32).digest()

    def __call__(self, index: int) -> tuple[float, float, float]:
        digest = hashlib.blake2b(index.to_bytes(8, "little"), key=self._key, digest_size=24).digest()
        a, b, c = struct.unpack("<3Q", digest)
        return (a >> 11) * _TO_UNIT, (b >> 11) * _TO_UNIT, (c >> 11) * _TO_UNIT


def _perturb_context(example: QAExample, spec: Perturbation, key: str) -> tuple[str, list[tuple[str, int]]]:
    """The context perturbed around its gold spans, which are copied verbatim, and the answers' new starts."""
    context = example.context
    located = [
        (text, start)
        for text, start in example.answers
        if 0 <= start <= len(context) - len(text) and context[start : start + len(text)] == text
    ]
    merged: list[list[int]] = []
    for start, end in sorted((s, s + len(t)) for t, s in located):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for start, end in merged:
        pieces += [(context[pos:start], False), (context[start:end], True)]
        pos = end
    pieces.append((context[pos:], False))
    out = _perturb_pieces(pieces, spec, _Draws(spec, (key, "context")))
    new_starts: list[int] = []
    offset = 0
    for (_, kept), new in zip(pieces, out, strict=True):
        if kept:
            new_starts.append(offset)
        offset += len(new)
    old_starts = [start for start, _ in merged]
    answers: list[tuple[str, int]] = []
    for text, start in example.answers:
        if (text, start) in located:
            i = bisect_right(old_starts, start) - 1
            answers.append((text, new_starts[i] + start - old_starts[i]))
        else:
            answers.append((text, start))
    return "".join(out), answers


def _perturb_pieces(pieces: Sequence[tuple[str, bool]], spec: Perturbation, draws: _Draws) -> list[str]:
    """Each free piece perturbed and NFC, each kept piece as it is; unit indices run across the pieces."""
    units = count()
    out: list[str] = []
    for text, kept in pieces:
        if kept:
            out.append(text)
            continue
        text = unicodedata.normalize("NFC", text)
        if spec.rate > 0:
            parts = _SPACE.split(text)
            for j in range(0, len(parts), 2):  # even indices are words, odd ones the whitespace between
                if parts[j]:
                    parts[j] = _perturb_word(parts[j], spec, draws, units)
            text = unicodedata.normalize("NFC", "".join(parts))
        out.append(text)
    return out


def _perturb_word(word: str, spec: Perturbation, draws: _Draws, units: count[int]) -> str:
    if spec.kind == "punct":
        return _drop_punct(word, spec.rate, draws, units)
    u, r1, r2 = draws(next(units))
    if u >= spec.rate:
        return word
    return _WORD_OPS[spec.kind](word, r1, r2)


def _swap(word: str, r1: float, r2: float) -> str:
    """Two adjacent, different letter clusters trade places."""
    g = _CLUSTER.findall(word)
    pairs = [i for i in range(len(g) - 1) if _is_letter(g[i]) and _is_letter(g[i + 1]) and g[i] != g[i + 1]]
    for i in _rotated(pairs, r1):
        new = [*g[:i], g[i + 1], g[i], *g[i + 2 :]]
        if _intact(new, i - 1, i + 3):
            return "".join(new)
    return word


def _drop(word: str, r1: float, r2: float) -> str:
    """One letter cluster goes; only words with two or more, so a word never loses its last letter."""
    g = _CLUSTER.findall(word)
    letters = [i for i, c in enumerate(g) if _is_letter(c)]
    if len(letters) < 2:
        return word
    for i in _rotated(letters, r1):
        new = g[:i] + g[i + 1 :]
        if _intact(new, i - 1, i + 1):
            return "".join(new)
    return word


def _insert(word: str, r1: float, r2: float) -> str:
    """One of the word's own letter clusters repeated somewhere within its letters: same script, no foreign text."""
    g = _CLUSTER.findall(word)
    letters = [i for i, c in enumerate(g) if _is_letter(c)]
    if not letters:
        return word
    piece = g[letters[int(r1 * len(letters))]]
    for j in _rotated(list(range(letters[0], letters[-1] + 2)), r2):
        new = [*g[:j], piece, *g[j:]]
        if _intact(new, j - 1, j + 2):
            return "".join(new)
    return word


def _recase(word: str, r1: float, r2: float) -> str:
    """Lower, upper or title case, whichever differ from the word; caseless scripts have none."""
    variants = [v for v in dict.fromkeys(_case_variants(word)) if v != word]
    return variants[int(r1 * len(variants))] if variants else word


def _case_variants(word: str) -> list[str]:
    variants = [word.lower(), word.upper()]
    for i, ch in enumerate(word):
        if ch.lower() != ch.upper():  # the first cased character
            variants.append(word[:i] + ch.title() + word[i + 1 :].lower())
            break
    return [unicodedata.normalize("NFC", v) for v in variants]


def _strip_diacritics(word: str, r1: float, r2: float) -> str:
    """Combining marks (Mn) dropped where their base is a letter of ``DIACRITIC_SCRIPTS``; others kept."""
    out: list[str] = []
    strip = False
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.category(ch) == "Mn":
            if strip:
                continue
        else:
            strip = unicodedata.category(ch).startswith("L") and _ALPHABET.match(ch) is not None
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _drop_punct(word: str, rate: float, draws: _Draws, units: count[int]) -> str:
    """Each punctuation cluster (category P*) is a unit of its own; the word is kept if removals would merge clusters."""
    g = _CLUSTER.findall(word)
    kept = [c for c in g if not (unicodedata.category(c[0]).startswith("P") and draws(next(units))[0] < rate)]
    return "".join(kept) if len(kept) == len(g) or _intact(kept, 0, len(kept)) else word


_WORD_OPS: dict[str, Callable[[str, float, float], str]] = {
    "swap": _swap,
    "drop": _drop,
    "insert": _insert,
    "case": _recase,
    "diacritics": _strip_diacritics,
}


def _is_letter(cluster: str) -> bool:
    """A cluster that starts with a letter or digit: what a typo hits (not punctuation, symbols or emoji)."""
    return unicodedata.category(cluster[0])[0] in "LN"


def _rotated(items: list[int], r: float) -> list[int]:
    """``items`` starting at the one ``r`` picks, then the rest in turn: fallbacks when an edit is refused."""
    k = int(r * len(items))
    return items[k:] + items[:k]


def _intact(clusters: list[str], lo: int, hi: int) -> bool:
    """Whether the clusters around an edit, joined, stay exactly those clusters and NFC (nothing merged)."""
    window = clusters[max(lo - 2, 0) : hi + 2]
    joined = "".join(window)
    return unicodedata.is_normalized("NFC", joined) and _CLUSTER.findall(joined) == window
