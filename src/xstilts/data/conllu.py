"""CoNLL-U (Universal Dependencies) to :class:`TaggingExample`: word forms with their UPOS tags.

Only syntactic words are kept: multiword-token ranges (``3-4``) and empty nodes (``5.1``) are skipped,
since the UPOS tags sit on the words (UD's own tools skip them the same way for word-level scores).
Sentences whose forms are withheld (``_``, in treebanks shipped without text) are skipped, as XTREME
does. A malformed line is a :class:`DataError` with its line number: a column count other than 10, an
ID that is not a word number, a range or an empty node out of place (a range ``i-j`` must start at the
next word and cover at least two; an empty node ``i.k`` follows word ``i`` with ``k`` = 1, 2, ...), an
empty form, a tag outside the label set, and a ``sent_id`` given twice in one file.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from pathlib import Path

from xstilts.data.domains import GENRE_COMMENT, NEWDOC_COMMENT, treebank_meta
from xstilts.data.files import numbered_lines
from xstilts.data.schema import DataError, TaggingExample

#: the 17 Universal POS tags, in the order of the hub's ``pos_tags`` ClassLabel (google/xtreme udpos)
UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip

COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC")
_RANGE = re.compile(r"[0-9]+-[0-9]+")
_EMPTY = re.compile(r"[0-9]+\.[0-9]+")
_SENT_ID = re.compile(r"#\s*sent_id\s*=?\s*(\S.*?)\s*$")


def _withheld(forms: list[str]) -> bool:
    """Forms replaced by ``_`` (all of them, or all but one) mean the treebank ships without text."""
    empty = sum(f == "_" for f in forms)
    return empty > 0 and empty >= len(forms) - 1


def read_conllu(path: Path, labels: Collection[str] | None = None, column: str = "UPOS") -> list[TaggingExample]:
    """Sentences of one CoNLL-U file; ``labels`` (if given) are the tags allowed in ``column``."""
    path = Path(path)
    col = COLUMNS.index(column)
    out: list[TaggingExample] = []
    seen: dict[str, int] = {}
    sent = _Sentence()
    genre: str | None = None  # a document's genre (GUM's ``# meta::genre``) holds until the next ``# newdoc``

    def flush() -> None:
        nonlocal sent
        if sent.range_end > len(sent.tokens):
            raise DataError(path, sent.range_line, f"words {len(sent.tokens) + 1}..{sent.range_end} after the range, "
                            "found the end of the sentence")
        if sent.tokens and not _withheld(sent.tokens):
            if sent.sent_id is not None and sent.sent_id in seen:
                raise DataError(path, sent.first_line, f"a unique sent_id, found {sent.sent_id!r} again (first on line {seen[sent.sent_id]})")
            ex_id = sent.sent_id or f"{path.name}:{sent.first_line}"
            if sent.sent_id is not None:
                seen[sent.sent_id] = sent.first_line
            meta = {"source": path.name, "line": sent.first_line} | ({"text": sent.text} if sent.text is not None else {})
            meta |= treebank_meta(path, sent.sent_id, genre)
            out.append(TaggingExample(id=ex_id, tokens=sent.tokens, tags=sent.tags, meta=meta))
        sent = _Sentence()

    for no, raw in numbered_lines(path):
        line = raw.rstrip("\r\n")
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            if NEWDOC_COMMENT.match(line):
                genre = None
            elif g := GENRE_COMMENT.match(line):
                genre = g.group(1)
            if not sent.tokens:
                m = _SENT_ID.match(line)
                if m:
                    sent.sent_id = m.group(1)
                elif line.startswith("# text = "):
                    sent.text = line[len("# text = ") :]
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise DataError(path, no, f"10 tab-separated CoNLL-U columns ({', '.join(COLUMNS)}), found {len(fields)}")
        word_id = fields[0]
        if _RANGE.fullmatch(word_id) or _EMPTY.fullmatch(word_id):
            sent.skip(word_id, path, no)
            continue
        if not word_id.isascii() or not word_id.isdigit():
            raise DataError(path, no, f"a word ID (an integer, a range such as 3-4 or an empty node such as 5.1), found {word_id!r}")
        if int(word_id) != len(sent.tokens) + 1:
            raise DataError(path, no, f"word ID {len(sent.tokens) + 1} (IDs run 1, 2, 3, ... in a sentence), found {word_id}")
        if not sent.tokens:
            sent.first_line = no
        if not fields[1]:
            raise DataError(path, no, "a word form in the FORM column, found an empty field")
        tag = fields[col]
        if labels is not None and tag not in labels:
            raise DataError(path, no, f"a {column} tag in {{{', '.join(labels)}}}, found {tag!r}")
        sent.tokens.append(fields[1])
        sent.tags.append(tag)
    flush()
    return out


class _Sentence:
    """The sentence being read, with where its multiword ranges and empty nodes may go next."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.tags: list[str] = []
        self.sent_id: str | None = None
        self.text: str | None = None
        self.first_line = 0
        self.range_end = 0
        self.range_line = 0
        self.empty_node = (0, 0)

    def skip(self, word_id: str, path: Path, no: int) -> None:
        """Check a multiword range (``i-j``) or an empty node (``i.k``) that is not itself a word."""
        after = len(self.tokens)
        if "-" in word_id:
            start, end = (int(x) for x in word_id.split("-"))
            if start != after + 1 or end <= start or start <= self.range_end:
                raise DataError(path, no, f"a multiword range {after + 1}-N (N > {after + 1}) before word {after + 1}, found {word_id}")
            self.range_end, self.range_line = end, no
            return
        word, k = (int(x) for x in word_id.split("."))
        expected = self.empty_node[1] + 1 if self.empty_node[0] == word and word == after else 1
        if word != after or k != expected:
            raise DataError(path, no, f"an empty node {after}.{expected} (after word {after}), found {word_id}")
        self.empty_node = (word, k)


def read_conllu_files(paths: Iterable[Path], labels: Collection[str] | None = None) -> list[TaggingExample]:
    """Several treebanks of one language and split, concatenated in the given order (as XTREME does).

    Predictions are keyed by example id, so a ``sent_id`` that two treebanks share is made unique by
    prefixing the later one with its file name (ids that do not clash are kept as they are).
    """
    return join_files([(Path(p), read_conllu(p, labels)) for p in paths])


def join_files(files: Iterable[tuple[Path, list[TaggingExample]]]) -> list[TaggingExample]:
    """Examples of several files in order; an id already taken is prefixed with its file's name.

    Treebanks of one language reuse ids (UNER's zh_gsd, zh_gsdsimp and zh_pud all count ``batch-0000-0001``
    up), and predictions are keyed by id, so each must be unique within a split.
    """
    out: list[TaggingExample] = []
    ids: set[str] = set()
    for path, examples in files:
        for ex in examples:
            if ex.id in ids:
                ex.id = f"{path.name}:{ex.id}"
            ids.add(ex.id)
            out.append(ex)
    return out
