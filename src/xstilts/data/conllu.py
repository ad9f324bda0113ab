"""CoNLL-U (Universal Dependencies) to :class:`TaggingExample`: word forms with their UPOS tags.

Only syntactic words are kept: multiword-token ranges (``3-4``) and empty nodes (``5.1``) are skipped,
since the UPOS tags sit on the words. Sentences whose forms are withheld (``_``, in treebanks shipped
without text) are skipped, as XTREME does. A malformed line is a :class:`DataError` with its line number.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from pathlib import Path

from xstilts.data.files import _lines as numbered_lines
from xstilts.data.schema import DataError, TaggingExample

#: the 17 Universal POS tags, in the order of the hub's ``pos_tags`` ClassLabel (google/xtreme udpos)
UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip

COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC")
_RANGE = re.compile(r"\d+-\d+")
_EMPTY = re.compile(r"\d+\.\d+")
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
    tokens: list[str] = []
    tags: list[str] = []
    sent_id: str | None = None
    text: str | None = None
    first_line = 0

    def flush() -> None:
        nonlocal tokens, tags, sent_id, text
        if tokens and not _withheld(tokens):
            ex_id = sent_id or f"{path.name}:{first_line}"
            meta = {"source": path.name, "line": first_line} | ({"text": text} if text is not None else {})
            out.append(TaggingExample(id=ex_id, tokens=tokens, tags=tags, meta=meta))
        tokens, tags, sent_id, text = [], [], None, None

    for no, raw in numbered_lines(path):
        line = raw.rstrip("\r\n")
        if no == 1:
            line = line.lstrip("\ufeff")
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            if not tokens:
                m = _SENT_ID.match(line)
                if m:
                    sent_id = m.group(1)
                elif line.startswith("# text = "):
                    text = line[len("# text = ") :]
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise DataError(path, no, f"10 tab-separated CoNLL-U columns ({', '.join(COLUMNS)}), found {len(fields)}")
        word_id = fields[0]
        if _RANGE.fullmatch(word_id) or _EMPTY.fullmatch(word_id):
            continue
        if not word_id.isdigit():
            raise DataError(path, no, f"a word ID (an integer, a range such as 3-4 or an empty node such as 5.1), found {word_id!r}")
        if int(word_id) != len(tokens) + 1:
            raise DataError(path, no, f"word ID {len(tokens) + 1} (IDs run 1, 2, 3, ... in a sentence), found {word_id}")
        if not tokens:
            first_line = no
        tag = fields[col]
        if labels is not None and tag not in labels:
            raise DataError(path, no, f"a {column} tag in {{{', '.join(labels)}}}, found {tag!r}")
        tokens.append(fields[1])
        tags.append(tag)
    flush()
    return out


def read_conllu_files(paths: Iterable[Path], labels: Collection[str] | None = None) -> list[TaggingExample]:
    """Several treebanks of one language and split, concatenated in the given order (as XTREME does)."""
    return [ex for p in paths for ex in read_conllu(p, labels)]
