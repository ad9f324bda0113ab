"""Domain as an axis of the data: each example's domain, language codes in file names, label maps, selection.

An example's domain (:func:`example_domain`) is, in order: a genre the file states (XNLI's genre column, GUM's ``# meta::genre``),
a genre its treebank encodes in the sentence id (EWT's ``weblog-…``, PUD's ``n…``/``w…``), else the
treebank it came from, else the dataset's declared domain (or the task's name). Loading may select by
any of these fields with a split such as ``test@treebank=gum`` or ``train@domain!=travel``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.data.schema import DataError

#: example ``meta`` keys
DOMAIN = "domain"
TREEBANK = "treebank"
GENRE = "genre"

#: ISO 639-3 (and 639-2/B) codes seen in file names -> ISO 639-1; codes with no 639-1 form (pcm, luo, ceb) stay
ISO_639_1 = {
    "afr": "af", "amh": "am", "bam": "bm", "ewe": "ee", "nya": "ny", "sna": "sn", "tsn": "tn", "twi": "tw", "ara": "ar", "aze": "az", "bel": "be", "ben": "bn", "bul": "bg", "cat": "ca",
    "ces": "cs", "cze": "cs", "cym": "cy", "dan": "da", "deu": "de", "ger": "de", "ell": "el", "gre": "el",
    "eng": "en", "est": "et", "eus": "eu", "baq": "eu", "fas": "fa", "per": "fa", "fin": "fi", "fra": "fr",
    "fre": "fr", "gle": "ga", "glg": "gl", "guj": "gu", "hau": "ha", "heb": "he", "hin": "hi", "hrv": "hr",
    "hun": "hu", "hye": "hy", "ibo": "ig", "ind": "id", "isl": "is", "ita": "it", "jav": "jv", "jpn": "ja",
    "kat": "ka", "kaz": "kk", "khm": "km", "kin": "rw", "kor": "ko", "lao": "lo", "lav": "lv", "lit": "lt",
    "lug": "lg", "mal": "ml", "mar": "mr", "mkd": "mk", "mlt": "mt", "mon": "mn", "msa": "ms", "may": "ms",
    "mya": "my", "nep": "ne", "nld": "nl", "dut": "nl", "nno": "nn", "nob": "nb", "nor": "no", "orm": "om",
    "pan": "pa", "pol": "pl", "por": "pt", "ron": "ro", "rum": "ro", "rus": "ru", "sin": "si", "slk": "sk",
    "slo": "sk", "slv": "sl", "som": "so", "spa": "es", "sqi": "sq", "srp": "sr", "swa": "sw", "swh": "sw",
    "swe": "sv", "tam": "ta", "tel": "te", "tgl": "tl", "tha": "th", "tir": "ti", "tur": "tr", "ukr": "uk",
    "urd": "ur", "uzb": "uz", "vie": "vi", "wol": "wo", "xho": "xh", "yor": "yo", "zho": "zh", "chi": "zh",
    "zul": "zu",
}  # fmt: skip


def iso1(code: str) -> str:
    """A file name's language code as the ISO 639-1 code tasks use (``nob`` -> ``nb``); others unchanged."""
    return ISO_639_1.get(code.lower(), code)


def file_codes(lang: str) -> list[str]:
    """Every code a file of ``lang`` may be named with: the code itself, then its 639-3 forms."""
    return [lang, *sorted(k for k, v in ISO_639_1.items() if v == lang and k != lang)]


#: ``<lang>_<treebank>-ud-<split>.<ext>``, the UD (and Universal NER) file name
TREEBANK_FILE = re.compile(r"^(?P<lang>[a-z]{2,3})_(?P<treebank>[a-z0-9]+)-ud-(?P<split>[a-z]+)\.[a-z0-9]+$")
#: EWT's five web genres, the prefix of every EWT ``sent_id`` (``weblog-blogspot.com_…-0001``)
EWT_GENRES = ("answers", "email", "newsgroup", "reviews", "weblog")
#: PUD's sentence ids open with ``n`` (news) or ``w`` (Wikipedia)
PUD_DOMAINS = {"n": "news", "w": "wiki"}


def treebank_of(path: Path) -> str | None:
    """The treebank a UD-named file belongs to, without its language (``en_gum-ud-test.conllu`` -> ``gum``)."""
    m = TREEBANK_FILE.match(Path(path).name)
    return m["treebank"] if m else None


def sentence_domain(treebank: str | None, sent_id: str | None, genre: str | None) -> str | None:
    """The domain a treebank sentence states or encodes: its genre, EWT's id prefix, PUD's, else the treebank."""
    if genre:
        return genre
    if treebank == "ewt" and sent_id:
        prefix = sent_id.split("-", 1)[0]
        return prefix if prefix in EWT_GENRES else "web"
    if treebank == "pud" and sent_id and sent_id[:1] in PUD_DOMAINS:
        return PUD_DOMAINS[sent_id[:1]]
    return treebank


def treebank_meta(path: Path, sent_id: str | None, genre: str | None) -> dict[str, str]:
    """``meta`` entries for a sentence of ``path``: its treebank (if the name says) and its domain."""
    treebank = treebank_of(path)
    out = {TREEBANK: treebank} if treebank else {}
    domain = sentence_domain(treebank, sent_id, genre)
    return out | ({DOMAIN: domain} if domain else {})


#: a document's genre in CoNLL-U comments: GUM's ``# meta::genre = news``, or a plain ``# genre = news``
GENRE_COMMENT = re.compile(r"#\s*(?:meta::)?genre\s*=\s*(\S.*?)\s*$")
NEWDOC_COMMENT = re.compile(r"#\s*newdoc(\s|$)")


def example_domain(ex: Any, default: str) -> str:
    """An example's domain: the one its reader set, its genre, its treebank, else ``default`` (the dataset's)."""
    meta = getattr(ex, "meta", None) or {}
    return str(meta.get(DOMAIN) or meta.get(GENRE) or meta.get(TREEBANK) or default)


def task_domain(task: Any) -> str:
    """The domain of a task's examples whose files name none: the task's declared domain, else its name."""
    return str(getattr(task, "domain", None) or task.name)


def domain_counts(examples: Sequence[Any], default: str) -> dict[str, int]:
    """How many examples of each domain, most frequent first (what a training phase saw)."""
    counts: dict[str, int] = {}
    for ex in examples:
        domain = example_domain(ex, default)
        counts[domain] = counts.get(domain, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# ---------------------------------------------------------------- label maps


def map_tag(tag: str, label_map: Mapping[str, str]) -> str:
    """A tag through a task's label map: whole tags (``-``) or entity types (``OTH`` in ``B-OTH``) -> new tag/type."""
    if tag in label_map:
        return label_map[tag]
    if tag[:2] in ("B-", "I-") and tag[2:] in label_map:
        new = label_map[tag[2:]]
        return "O" if new == "O" else tag[:2] + new
    return tag


def describe_label_map(label_map: Mapping[str, str]) -> str:
    return ", ".join(f"{k}->{v}" for k, v in sorted(label_map.items()))


# ---------------------------------------------------------------- selection: test@treebank=gum, train@domain!=travel

FILTER = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?P<op>!?=)(?P<values>[^@=!]+)$")


@dataclass(frozen=True)
class Filter:
    """Keep (``=``) or drop (``!=``) the examples whose ``meta[key]`` is one of ``values``."""

    key: str
    keep: bool
    values: frozenset[str]

    def value(self, ex: Any, default: str) -> str:
        """The example's value of the key; ``domain`` falls back as :func:`example_domain` says."""
        return example_domain(ex, default) if self.key == DOMAIN else str((getattr(ex, "meta", None) or {}).get(self.key))

    def admits(self, ex: Any, default: str) -> bool:
        return (self.value(ex, default) in self.values) == self.keep


# ---------------------------------------------------------------- slices that never cut a group

#: example ``meta`` key: examples sharing it (an XQuAD article) never straddle a slice boundary
GROUP = "group"
#: the version of what a slice or selection keeps, part of its fingerprint (2: slices snap to groups)
SELECTION_VERSION = "2"
#: ``[start:stop]`` with integer or percent bounds, as in ``dev[:80%]``
BOUNDS = re.compile(r"^\[(?P<start>-?\d+%?)?:(?P<stop>-?\d+%?)?\]$")


def _group(ex: Any) -> Any:
    """What a slice must not cut: a reader's group, an article title, XNLI's premise (``promptID``), a context."""
    meta = getattr(ex, "meta", None) or {}
    return meta.get(GROUP) or meta.get("title") or meta.get("promptID") or getattr(ex, "context", None)


def _bound(text: str | None, examples: Sequence[Any]) -> int | None:
    """A slice bound, moved forward past the end of the group it would cut (no article on both sides)."""
    if text is None:
        return None
    n = len(examples)
    i = round(n * int(text[:-1]) / 100) if text.endswith("%") else int(text)
    i = max(0, min(n, i + n if i < 0 else i))
    group = [_group(ex) for ex in examples]
    while 0 < i < n and group[i] is not None and group[i] == group[i - 1]:
        i += 1
    return i


def cut(examples: Sequence[Any], start: str | None, stop: str | None) -> list[Any]:
    """``examples[start:stop]`` in file order, bounds moved so that no group is cut."""
    return list(examples[_bound(start, examples) : _bound(stop, examples)])


#: ``@per_domain=N`` keeps the first N examples of every domain (in file order), and ``@per_domain=[:85%]``
#: slices every domain on its own: a small test set, or a train/dev cut, that still holds every domain
PER_DOMAIN = "per_domain"


def parse_selection(split: str) -> tuple[str, list[Filter]]:
    """``test@treebank=gum,ewt@domain!=news`` -> (``test``, filters); a split without ``@`` has none."""
    base, *parts = split.split("@")
    filters = []
    for part in parts:
        m = FILTER.match(part.strip())
        value = m["values"].strip() if m else ""
        bad_cap = m and m["key"] == PER_DOMAIN and (m["op"] != "=" or not ((value.isdigit() and int(value) >= 1) or BOUNDS.match(value)))
        if not m or bad_cap:
            raise DataError(split, None, "a selection such as @domain=news, @treebank!=pud,gum, @per_domain=100 or "
                            f"@per_domain=[:80%] after the split, found @{part}")  # fmt: skip
        values = frozenset(v.strip() for v in m["values"].split(",") if v.strip())
        filters.append(Filter(m["key"], m["op"] == "=", values))
    return base, filters


def select(examples: Sequence[Any], filters: Sequence[Filter], where: str, default: str) -> list[Any]:
    """The examples every filter admits, then at most ``per_domain`` of each domain; never none at all."""
    per_domain = [next(iter(f.values)) for f in filters if f.key == PER_DOMAIN]
    filters = [f for f in filters if f.key != PER_DOMAIN]
    kept = [ex for ex in examples if all(f.admits(ex, default) for f in filters)]
    for rule in per_domain:
        by_domain: dict[str, list[Any]] = {}
        for ex in kept:
            by_domain.setdefault(example_domain(ex, default), []).append(ex)
        m = BOUNDS.match(rule)
        chosen = {id(ex) for part in by_domain.values() for ex in (cut(part, m["start"], m["stop"]) if m else part[: int(rule)])}
        kept = [ex for ex in kept if id(ex) in chosen]
    if examples and not kept and filters:
        f = next((f for f in filters if not any(f.admits(ex, default) for ex in examples)), filters[0])
        found = sorted({f.value(ex, default) for ex in examples})
        raise DataError(where, None, f"examples with {f.key} {'in' if f.keep else 'outside'} {{{', '.join(sorted(f.values))}}}, "
                        f"found only {', '.join(found[:20])}")
    return kept
