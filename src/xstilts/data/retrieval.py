"""Sentence-retrieval data: Tatoeba (XTREME's LASER test pairs) and BUCC 2018 to :class:`ParallelCorpus`.

A retrieval split is one corpus, not a list of examples; ``load_split`` hands it back as a one-element
list, so ``Split.examples[0]`` is the :class:`ParallelCorpus` (``src`` = the non-English side).

A blank line is never a sentence: two blank lines would "retrieve" each other and raise the accuracy
(three trailing blank lines took Tatoeba sw from 6.67 to 9.09). Blank lines at the end of a file are
dropped, as a harmless variant; a blank line before the end, a sentence id with no sentence, a file
with no sentence at all and an empty gold file are errors naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from xstilts.data.files import numbered_lines
from xstilts.data.schema import DataError, ParallelCorpus

#: Tatoeba file names use ISO 639-3 codes (macrolanguage members for zh, fa, sw); ours are ISO 639-1
TATOEBA_ISO3 = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa",
    "et": "est", "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin",
    "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz",
    "ko": "kor", "ml": "mal", "mr": "mar", "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh",
    "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl", "tr": "tur", "ur": "urd", "vi": "vie",
    "zh": "cmn",
}  # fmt: skip
#: other ISO 639-3 spellings of the same languages, tried after the LASER names above
TATOEBA_ALIASES = {"ar": ("arb",), "fa": ("fas", "per"), "sw": ("swa",), "zh": ("zho", "chi")}
ISO3_TO_ISO1 = {v: k for k, v in TATOEBA_ISO3.items()} | {a: k for k, vs in TATOEBA_ALIASES.items() for a in vs}

#: our split names -> the BUCC 2018 release names, tried in order (XTREME renames sample/training)
BUCC_SPLITS = {"dev": ("sample", "dev"), "test": ("training", "test")}


def _read_sentences(path: Path) -> list[str]:
    """One sentence per line; trailing blank lines dropped, any other blank line refused."""
    lines = [text.rstrip("\r\n") for _, text in numbered_lines(path)]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError(path, 1, "one sentence per line, found no sentence")
    blank = next((no for no, line in enumerate(lines, start=1) if not line.strip()), None)
    if blank is not None:
        raise DataError(path, blank, "a sentence on every line (a blank line is never a sentence pair), found a blank line")
    return lines


def tatoeba_files(folder: Path, lang: str) -> tuple[Path, Path] | None:
    """The (xx, eng) files of a language, whichever ISO 639-3 spelling the folder uses."""
    for iso3 in (TATOEBA_ISO3.get(lang, lang), *TATOEBA_ALIASES.get(lang, ())):
        src, tgt = folder / f"tatoeba.{iso3}-eng.{iso3}", folder / f"tatoeba.{iso3}-eng.eng"
        if src.is_file() and tgt.is_file():
            return src, tgt
    return None


def read_tatoeba(src_path: Path, tgt_path: Path, lang: str) -> ParallelCorpus:
    """Line-aligned files: line i of one side translates line i of the other; gold is i <-> i."""
    src, tgt = _read_sentences(src_path), _read_sentences(tgt_path)
    if len(src) != len(tgt):
        short, n = (src_path, len(src)) if len(src) < len(tgt) else (tgt_path, len(tgt))
        raise DataError(short, n + 1, f"as many lines as its pair file ({max(len(src), len(tgt))}), found {n}")
    ids = [str(i) for i in range(len(src))]
    return ParallelCorpus(ids, src, list(ids), tgt, [(i, i) for i in ids], src_lang=lang)


def _read_id_lines(path: Path) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    texts: list[str] = []
    seen: set[str] = set()
    for no, raw in numbered_lines(path):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        sid, tab, text = line.partition("\t")
        if not tab or not sid:
            raise DataError(path, no, "<id><TAB><sentence>")
        if not text.strip():
            raise DataError(path, no, f"a sentence after the id {sid}, found none")
        if sid in seen:
            raise DataError(path, no, f"unique sentence ids; {sid} occurs twice")
        seen.add(sid)
        ids.append(sid)
        texts.append(text)
    if not ids:
        raise DataError(path, 1, "<id><TAB><sentence> lines, found none")
    return ids, texts


def bucc_files(folder: Path, lang: str, split: str) -> tuple[Path, Path, Path | None] | None:
    """``<lang>-en.<name>.{<lang>,en,gold}`` for the first release name of ``split`` that exists."""
    for name in BUCC_SPLITS.get(split, (split,)):
        for base in (folder, folder / f"{lang}-en"):
            src, tgt, gold = (base / f"{lang}-en.{name}.{ext}" for ext in (lang, "en", "gold"))
            if src.is_file() and tgt.is_file():
                return src, tgt, gold if gold.is_file() else None
    return None


def read_bucc(src_path: Path, tgt_path: Path, gold_path: Path | None, lang: str) -> ParallelCorpus:
    """BUCC 2018: ``<id>\\t<sentence>`` on each side, gold ``<xx-id>\\t<en-id>`` (empty without a gold file)."""
    src_ids, src = _read_id_lines(src_path)
    tgt_ids, tgt = _read_id_lines(tgt_path)
    gold: list[tuple[str, str]] = []
    if gold_path is not None:
        known_src, known_tgt = set(src_ids), set(tgt_ids)
        for no, raw in numbered_lines(gold_path):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            pair = line.split("\t")
            if len(pair) != 2:
                raise DataError(gold_path, no, "<xx-id><TAB><en-id>")
            if pair[0] not in known_src or pair[1] not in known_tgt:
                missing = pair[0] if pair[0] not in known_src else pair[1]
                raise DataError(gold_path, no, f"ids that occur in the sentence files; {missing} does not")
            gold.append((pair[0], pair[1]))
        if not gold:
            raise DataError(gold_path, 1, "<xx-id><TAB><en-id> gold pairs, found none")
    return ParallelCorpus(src_ids, src, tgt_ids, tgt, gold, src_lang=lang)


def corpus_from_pairs(pairs: Iterable[ParallelCorpus | Mapping[str, Any]], lang: str) -> ParallelCorpus:
    """Merge row-wise pairs (hub rows, or one-pair corpora) into one corpus with gold i <-> i."""
    src: list[str] = []
    tgt: list[str] = []
    for item in pairs:
        if isinstance(item, ParallelCorpus):
            src.extend(item.src)
            tgt.extend(item.tgt)
        else:
            src.append(item["source_sentence"])
            tgt.append(item["target_sentence"])
    ids = [str(i) for i in range(len(src))]
    return ParallelCorpus(ids, src, list(ids), tgt, [(i, i) for i in ids], src_lang=lang)


def hub_tatoeba_row(row: Mapping[str, Any], lang: str, i: int) -> ParallelCorpus:
    """One google/xtreme ``tatoeba.<iso3>`` row (source = xx, target = eng) as a one-pair corpus.

    ``hub_rows_to_examples`` returns one of these per row; :func:`corpus_from_pairs` merges them.
    """
    sid = str(i)
    return ParallelCorpus([sid], [row["source_sentence"]], [sid], [row["target_sentence"]], [(sid, sid)], src_lang=lang)
