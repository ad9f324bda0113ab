"""Token-per-line tagging files: Universal NER's IOB2, WikiANN/PAN-X, and ``word|tag`` sentence lines.

- Universal NER (``.iob2``): ``#`` comments, then ``index<TAB>token<TAB>tag<TAB>...`` per token and a
  blank line between sentences.
- PAN-X as the WikiANN archives and XTREME ship it: ``token<TAB>tag`` per line, blank line between
  sentences; the raw archives prefix every token with its language (``en:Sioux``), which is removed.
- ``word|tag`` (or ``word|POS|tag``) tokens separated by spaces, one sentence per line, as in the common
  CCGbank supertag exports; and ``word<TAB>tag`` columns.

NER tags must be IOB2-shaped (``O``, ``B-TYPE``, ``I-TYPE``); anything else is a :class:`DataError`,
as are a missing token or tag and a line with the wrong number of columns.

An ``I-TYPE`` that continues no entity (after ``O``, at a sentence start, or after another type) is
accepted, as seqeval and conlleval accept it: they read it as the start of an entity, and so does the
metric here. But it is a slip in the annotation or the conversion, so it is counted: a sentence with
some keeps their number in ``meta["i_without_b"]``, and ``xstilts data stats`` warns with the total
per file, so the reading never hides in an F1.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path

from xstilts.data.domains import map_tag, treebank_meta
from xstilts.data.files import numbered_lines
from xstilts.data.schema import DataError, TaggingExample

#: the PAN-X / WikiANN label set, in the order of the hub's ``ner_tags`` ClassLabel
NER_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")

_IOB2 = re.compile(r"O|[BI]-\S+")
#: example ``meta`` key: how many I- tags of the sentence continue no entity (only where there are some)
I_WITHOUT_B = "i_without_b"
#: example ``meta`` key: how many of the sentence's tags the task's label map changed (only where some were)
MAPPED_TAGS = "mapped_tags"
_SENT_ID = re.compile(r"#\s*sent_id\s*=?\s*(\S.*?)\s*$")


def check_tag(tag: str, path: object, line: int | None, labels: Collection[str] | None, iob2: bool) -> None:
    """Fail on a tag that is not IOB2-shaped (for NER) or not in the task's label set."""
    if iob2 and not _IOB2.fullmatch(tag):
        raise DataError(path, line, f"an IOB2 tag (O, B-TYPE or I-TYPE), found {tag!r}")
    if labels is not None and tag not in labels:
        raise DataError(path, line, f"a tag in {{{', '.join(labels)}}}, found {tag!r}")


def i_without_b(tags: list[str]) -> int:
    """How many ``I-TYPE`` tags follow neither ``B-TYPE`` nor ``I-TYPE`` (seqeval starts an entity there)."""
    count, prev = 0, "O"
    for tag in tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            count += 1
        prev = tag if tag[:2] in ("B-", "I-") else "O"
    return count


def _is_comment(line: str) -> bool:
    # a token "#" in a two-column file is "#<TAB>tag", not a comment
    return line.startswith("#") and not line.startswith("#\t")


class _Sentences:
    """Collects tokens into examples; ids come from ``# sent_id`` or the first line number."""

    def __init__(self, path: Path, iob2: bool) -> None:
        self.path, self.iob2 = path, iob2
        self.out: list[TaggingExample] = []
        self.tokens: list[str] = []
        self.tags: list[str] = []
        self.sent_id: str | None = None
        self.first = 0
        self.mapped = 0

    def add(self, token: str, tag: str, line: int) -> None:
        if not token:
            raise DataError(self.path, line, "a token before its tag, found an empty field")
        if not tag:
            raise DataError(self.path, line, f"a tag after the token {token!r}, found an empty field")
        if not self.tokens:
            self.first = line
        self.tokens.append(token)
        self.tags.append(tag)

    def flush(self) -> None:
        if self.tokens:
            ex_id = self.sent_id or f"{self.path.name}:{self.first}"
            meta: dict[str, object] = {"source": self.path.name, "line": self.first}
            if self.iob2 and (loose := i_without_b(self.tags)):
                meta[I_WITHOUT_B] = loose
            if self.mapped:
                meta[MAPPED_TAGS] = self.mapped
            meta |= treebank_meta(self.path, self.sent_id, None)
            self.out.append(TaggingExample(ex_id, self.tokens, self.tags, meta))
        self.tokens, self.tags, self.sent_id, self.mapped = [], [], None, 0


def _mapped(
    sents: _Sentences, tag: str, label_map: Mapping[str, str] | None, path: Path, line: int,
    labels: Collection[str] | None, iob2: bool,
) -> str:
    """A tag through the task's label map (counted on the sentence when it changed), then checked."""
    if not tag:
        return tag  # the sentence reports an empty tag, naming its token
    if label_map and (new := map_tag(tag, label_map)) != tag:
        tag = new
        sents.mapped += 1
    check_tag(tag, path, line, labels, iob2)
    return tag


def read_iob2(
    path: Path,
    labels: Collection[str] | None = None,
    lang: str | None = None,
    iob2: bool = True,
    label_map: Mapping[str, str] | None = None,
) -> list[TaggingExample]:
    """Universal NER, PAN-X or CoNLL-style ``token tag`` files (see the module docstring).

    ``lang`` strips a ``lang:`` token prefix. ``label_map`` (a task's, e.g. ``OTH``/``DATE``/``-`` -> ``O``)
    is applied before a tag is checked, and each sentence counts the tags it changed.
    """
    path = Path(path)
    sents = _Sentences(path, iob2)
    prefix = f"{lang}:" if lang else None
    for no, raw in numbered_lines(path):
        line = raw.rstrip("\r\n")
        if not line.strip():
            sents.flush()
            continue
        if _is_comment(line):
            m = _SENT_ID.match(line)
            if m and not sents.tokens:
                sents.sent_id = m.group(1)
            continue
        fields = line.split("\t") if "\t" in line else line.split()  # MasakhaNER: ``token tag``
        if len(fields) == 2:
            token, tag = fields
        elif len(fields) >= 3 and fields[0].isdigit():
            token, tag = fields[1], fields[2]
        else:
            raise DataError(path, no, f"index<TAB>token<TAB>tag, token<TAB>tag or token tag, found {len(fields)} field(s)")
        if prefix and token.startswith(prefix):
            token = token[len(prefix) :]
        sents.add(token, _mapped(sents, tag.strip(), label_map, path, no, labels, iob2), no)
    sents.flush()
    return sents.out


def read_tagged_text(
    path: Path, labels: Collection[str] | None = None, iob2: bool = False, label_map: Mapping[str, str] | None = None
) -> list[TaggingExample]:
    """``word|tag`` / ``word|POS|tag`` sentence lines, or ``word<TAB>[POS<TAB>]tag`` / ``word tag`` columns.

    The layout is decided by the first content line: a tab, or several space-separated fields without a
    ``|`` (CoNLL-2003, MasakhaNER), mean columns (word first, tag last, a blank line between sentences);
    otherwise each line is a sentence of space-separated ``word|...|tag`` tokens. Lines starting with
    ``#`` whose first token has no ``|`` are comments (C&C file headers). ``label_map`` as in :func:`read_iob2`.
    """
    path = Path(path)
    sents = _Sentences(path, iob2)
    columns: bool | None = None
    for no, raw in numbered_lines(path):
        line = raw.rstrip("\r\n")
        if not line.strip():
            sents.flush()
            continue
        if line.startswith("#") and "|" not in line.split(" ", 1)[0] and "\t" not in line:
            continue
        if columns is None:
            columns = "\t" in line or ("|" not in line and len(line.split()) >= 2)
        if columns:
            fields = line.split("\t") if "\t" in line else line.split()
            if len(fields) < 2:
                raise DataError(path, no, "word<TAB>tag (or word tag) columns, as the lines before")
            sents.add(fields[0], _mapped(sents, fields[-1], label_map, path, no, labels, iob2), no)
            continue
        for token in line.split():
            parts = token.rsplit("|", 2) if token.count("|") >= 2 else token.rsplit("|", 1)
            if len(parts) < 2 or not parts[0] or not parts[-1]:
                raise DataError(path, no, f"space-separated word|tag tokens, found {token!r}")
            sents.add(parts[0], _mapped(sents, parts[-1], label_map, path, no, labels, iob2), no)
        sents.flush()
    sents.flush()
    return sents.out
