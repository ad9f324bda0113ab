"""Writing systems that put no space between words, and a sentence's words rejoined as they are written.

Treebanks split Japanese, Chinese and Thai into words that the running text writes without spaces
between them. A tokenizer trained on running text (SentencePiece, byte-level BPE) has rarely seen a
space before each of those words, so feeding them one by one with a leading space, as XTREME does,
hands it text it never saw. :func:`written_text` rebuilds the sentence as it is written instead.

Python's ``unicodedata`` has no script property, and the ``regex`` module is not a dependency, so the
scripts are a small table of code-point blocks.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from typing import Literal

#: (first, last, script) code-point blocks of scripts written without spaces between words, sorted
_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x0F00, 0x0FFF, "Tibetan"),
    (0x1000, 0x109F, "Myanmar"),
    (0x1780, 0x17FF, "Khmer"),
    (0x1950, 0x197F, "Tai Le"),
    (0x1980, 0x19DF, "New Tai Lue"),
    (0x19E0, 0x19FF, "Khmer"),
    (0x1A20, 0x1AAF, "Tai Tham"),
    (0x1B00, 0x1B7F, "Balinese"),
    (0x2E80, 0x2FDF, "Han"),  # CJK and Kangxi radicals
    (0x3001, 0x303F, "CJK punctuation"),  # 、。「」 々〆〇 … (U+3000 is the ideographic space)
    (0x3040, 0x309F, "Hiragana"),
    (0x30A0, 0x30FF, "Katakana"),
    (0x3100, 0x312F, "Bopomofo"),
    (0x31A0, 0x31BF, "Bopomofo"),
    (0x31F0, 0x31FF, "Katakana"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xA000, 0xA4CF, "Yi"),
    (0xA980, 0xA9DF, "Javanese"),
    (0xA9E0, 0xA9FF, "Myanmar"),
    (0xAA60, 0xAA7F, "Myanmar"),
    (0xAA80, 0xAADF, "Tai Viet"),
    (0xF900, 0xFAFF, "Han"),
    (0xFE10, 0xFE1F, "CJK punctuation"),  # vertical forms
    (0xFE30, 0xFE4F, "CJK punctuation"),  # compatibility forms
    (0xFF01, 0xFF9F, "CJK punctuation"),  # fullwidth ASCII, halfwidth 。「」、 and halfwidth katakana
    (0xFFE0, 0xFFEF, "CJK punctuation"),  # fullwidth ￥ ￡ …
    (0x1B000, 0x1B16F, "Kana"),
    (0x20000, 0x323AF, "Han"),  # extensions B-H and compatibility supplement
)
_STARTS = [lo for lo, _, _ in _BLOCKS]

Spacing = Literal["unspaced", "neutral", "spaced"]


def script_of(char: str) -> str | None:
    """The whitespace-free script of one character (``Han``, ``Thai``, …), or None for any other."""
    i = bisect_right(_STARTS, ord(char)) - 1
    if i >= 0:
        lo, hi, script = _BLOCKS[i]
        if lo <= ord(char) <= hi:
            return script
    return None


def spacing(char: str) -> Spacing:
    """How a character takes spaces: ``unspaced`` scripts, ``neutral`` punctuation, digits and symbols
    (they follow the script around them), ``spaced`` everything else (letters and marks of Latin,
    Cyrillic, Hangul, Devanagari …)."""
    if script_of(char) is not None:
        return "unspaced"
    return "neutral" if unicodedata.category(char)[0] in "PSNZ" else "spaced"


def is_whitespace_free(word: str) -> bool:
    """Whether a word is written in a script without spaces (its punctuation and digits aside)."""
    kinds = {spacing(c) for c in word}
    return "unspaced" in kinds and "spaced" not in kinds


def joins(previous: str, word: str) -> bool:
    """Whether ``word`` follows ``previous`` with no space in writing.

    The two characters that meet decide: both from whitespace-free scripts or neutral, at least one
    from a whitespace-free script (``米国|で``, ``」|と``, ``2016|年``, but not ``.|,`` or ``東京|Tokyo``).
    """
    if not previous or not word:
        return False
    meet = {spacing(previous[-1]), spacing(word[0])}
    return "unspaced" in meet and "spaced" not in meet


def written_text(words: Sequence[str], spaced: frozenset[int] = frozenset()) -> tuple[str, list[tuple[int, int]], list[bool]]:
    """The sentence as written, each word's character span in it, and which words were joined on.

    Every word not joined to the one before (and the first) keeps a leading space, as XTREME gives
    every word; words listed in ``spaced`` keep theirs even where writing would join them.
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    joined: list[bool] = []
    at = 0
    for i, word in enumerate(words):
        glue = i > 0 and i not in spaced and joins(words[i - 1], word)
        if not glue:
            parts.append(" ")
            at += 1
        spans.append((at, at + len(word)))
        parts.append(word)
        at += len(word)
        joined.append(glue)
    return "".join(parts), spans, joined
