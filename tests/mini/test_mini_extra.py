"""Checks on the embedded mini QA, NER, POS, multiple-choice and parallel-sentence sets.

Plain json/csv only, so this runs fast and without the model or the task registry.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

import xstilts.mini

DATA = Path(xstilts.mini.__file__).parent / "data"
LANGS = ("en", "de", "es", "ru", "zh", "ar", "hi", "sw", "tr")
UPOS = {
    "ADJ",
    "ADP",
    "ADV",
    "AUX",
    "CCONJ",
    "DET",
    "INTJ",
    "NOUN",
    "NUM",
    "PART",
    "PRON",
    "PROPN",
    "PUNCT",
    "SCONJ",
    "SYM",
    "VERB",
    "X",
}
NER_TYPES = {"PER", "LOC", "ORG"}
MINIMUMS = {
    "mini_qa": {"train": 300, "dev": 80, "test": 100},
    "mini_ner": {"train": 400, "dev": 100, "test": 150},
    "mini_pos": {"train": 300, "dev": 80, "test": 100},
    "mini_mc": {"train": 300, "dev": 80, "test": 100},
}


def load(task: str, lang: str, split: str) -> list[dict]:
    path = DATA / task / f"{lang}.{split}.jsonl"
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def files(task: str):
    for split in ("train", "dev"):
        yield "en", split
    for lang in LANGS:
        yield lang, "test"


@pytest.mark.parametrize("task", sorted(MINIMUMS))
def test_minimum_counts_and_unique_ids(task):
    for lang, split in files(task):
        rows = load(task, lang, split)
        assert len(rows) >= MINIMUMS[task][split], (task, lang, split, len(rows))
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), (task, lang, split)


@pytest.mark.parametrize("task", sorted(MINIMUMS))
def test_test_ids_aligned_across_languages(task):
    en_ids = [r["id"] for r in load(task, "en", "test")]
    for lang in LANGS[1:]:
        assert [r["id"] for r in load(task, lang, "test")] == en_ids, (task, lang)


def test_qa_offsets_exact():
    for lang, split in files("mini_qa"):
        for r in load("mini_qa", lang, split):
            assert set(r) == {"id", "title", "context", "question", "answers"}
            texts, starts = r["answers"]["text"], r["answers"]["answer_start"]
            assert texts and len(texts) == len(starts)
            for text, start in zip(texts, starts, strict=True):
                assert text.strip() == text and text, (lang, r["id"])
                assert r["context"][start : start + len(text)] == text, (lang, r["id"])


def test_qa_contexts_short():
    for r in load("mini_qa", "en", "train") + load("mini_qa", "en", "dev") + load("mini_qa", "en", "test"):
        assert len(r["context"].split()) <= 70, r["id"]


def _valid_iob2(tags: list[str]) -> bool:
    prev = "O"
    for tag in tags:
        if tag == "O":
            prev = tag
            continue
        prefix, _, typ = tag.partition("-")
        if prefix not in ("B", "I") or typ not in NER_TYPES:
            return False
        if prefix == "I" and prev[2:] != typ:
            return False
        prev = tag
    return True


def test_ner_iob2_and_entities():
    types = Counter()
    for lang, split in files("mini_ner"):
        for r in load("mini_ner", lang, split):
            assert len(r["tokens"]) == len(r["tags"]) > 0, (lang, r["id"])
            assert all(t and " " not in t for t in r["tokens"]), (lang, r["id"])
            assert _valid_iob2(r["tags"]), (lang, r["id"], r["tags"])
            n = sum(t.startswith("B-") for t in r["tags"])
            assert 1 <= n <= 4, (lang, r["id"])
            types.update(t[2:] for t in r["tags"] if t.startswith("B-"))
    assert set(types) == NER_TYPES
    assert min(types.values()) >= 0.1 * sum(types.values())


def test_ner_entity_types_match_english_in_translations():
    def ents(r):
        return Counter(t[2:] for t in r["tags"] if t.startswith("B-"))

    en = load("mini_ner", "en", "test")
    for lang in LANGS[1:]:
        for a, b in zip(en, load("mini_ner", lang, "test"), strict=True):
            assert ents(a) == ents(b), (lang, a["id"])


def test_pos_tags_are_upos():
    for lang, split in files("mini_pos"):
        seen = Counter()
        for r in load("mini_pos", lang, split):
            assert len(r["tokens"]) == len(r["tags"]) > 0, (lang, r["id"])
            assert set(r["tags"]) <= UPOS, (lang, r["id"])
            seen.update(r["tags"])
        for tag in ("NOUN", "VERB", "PUNCT"):
            assert seen[tag] > 0, (lang, split, tag)


def test_mc_labels_and_balance():
    for lang, split in files("mini_mc"):
        rows = load("mini_mc", lang, split)
        labels = Counter()
        for r in rows:
            assert len(r["choices"]) == 4 and len(set(r["choices"])) == 4, (lang, r["id"])
            assert r["label"] in (0, 1, 2, 3), (lang, r["id"])
            assert r["context"] and r["question"], (lang, r["id"])
            labels[r["label"]] += 1
        assert max(labels.values()) - min(labels.values()) <= 1, (lang, split, labels)
    en = [r["label"] for r in load("mini_mc", "en", "test")]
    for lang in LANGS[1:]:
        assert [r["label"] for r in load("mini_mc", lang, "test")] == en, lang


def test_parallel_files():
    for lang in LANGS[1:]:
        path = DATA / "mini_parallel" / f"{lang}.test.tsv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        assert rows[0] == ["src", "tgt"], lang
        body = rows[1:]
        assert len(body) >= 200, (lang, len(body))
        assert all(len(r) == 2 and r[0].strip() and r[1].strip() for r in body), lang
        src = [r[0] for r in body]
        tgt = [r[1] for r in body]
        assert len(set(src)) == len(src), lang
        assert len(set(tgt)) == len(tgt), lang
        assert all(5 <= len(t.split()) <= 20 for t in tgt), lang
    tgts = {
        lang: [
            r[1]
            for r in csv.reader(
                (DATA / "mini_parallel" / f"{lang}.test.tsv").open(encoding="utf-8"),
                delimiter="\t",
                quoting=csv.QUOTE_NONE,
            )
        ][1:]
        for lang in LANGS[1:]
    }
    assert len({tuple(v) for v in tgts.values()}) == 1, "English side differs between languages"


def _texts(task: str, split: str) -> set[str]:
    rows = load(task, "en", split)
    if task == "mini_qa":
        return {r["context"] for r in rows} | {r["question"] + " || " + r["context"] for r in rows}
    if task == "mini_mc":
        return {r["context"] for r in rows}
    return {" ".join(r["tokens"]) for r in rows}


@pytest.mark.parametrize("task", sorted(MINIMUMS))
def test_no_sentence_shared_between_splits(task):
    train, dev, test = (_texts(task, s) for s in ("train", "dev", "test"))
    assert not train & dev, sorted(train & dev)[:3]
    assert not train & test, sorted(train & test)[:3]
    assert not dev & test, sorted(dev & test)[:3]
