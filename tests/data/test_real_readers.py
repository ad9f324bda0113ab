"""Readers on the real release files in ``../shared/data`` (skipped where absent), and bad input.

Counts are taken from the files by hand (line patterns), independently of the readers under test.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, require_shared_data
from xstilts.data.conllu import UPOS_TAGS
from xstilts.data.load import load_split
from xstilts.data.retrieval import TATOEBA_ISO3
from xstilts.data.schema import DataError, ParallelCorpus
from xstilts.tasks.registry import get_task

realdata = pytest.mark.realdata


def _load(task: str, lang: str, split: str):
    return load_split(get_task(task), lang, split, SHARED_DATA)


# --------------------------------------------------------------------------- QA


@realdata
@pytest.mark.parametrize("lang", get_task("xquad").languages)
def test_xquad_loads_every_language(lang: str) -> None:
    require_shared_data("xquad", f"xquad.{lang}.json")
    examples = _load("xquad", lang, "test").examples
    assert len(examples) == 1190
    assert all(ex.answers for ex in examples)
    for ex in examples:  # every start points at its text (XQuAD needs no repair)
        for text, start in ex.answers:
            assert ex.context[start : start + len(text)] == text


@realdata
def test_xquad_is_parallel_across_languages() -> None:
    require_shared_data("xquad")
    ids = {lang: [ex.id for ex in _load("xquad", lang, "test").examples] for lang in ("en", "de", "zh", "th")}
    assert ids["de"] == ids["en"] == ids["zh"] == ids["th"]
    assert get_task("xquad").scored_languages == tuple(x for x in get_task("xquad").languages if x != "ro")


# --------------------------------------------------------------------------- tagging


def _conllu_counts(path: Path) -> tuple[int, int]:
    """Sentences (``# sent_id`` lines) and words (lines whose ID is a plain integer), by hand."""
    text = path.read_text(encoding="utf-8")
    return len(re.findall(r"^# sent_id", text, flags=re.M)), len(re.findall(r"^\d+\t", text, flags=re.M))


@realdata
def test_udpos_counts_match_the_files() -> None:
    folder = require_shared_data("udpos")
    groups: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(folder.glob("*.conllu")):
        lang, rest = path.name.split("_", 1)
        groups.setdefault((lang, rest.rsplit("-", 1)[1].removesuffix(".conllu")), []).append(path)
    assert ("en", "test") in groups and len(groups[("en", "test")]) == 2  # en_ewt + en_pud, concatenated
    for (lang, split), paths in groups.items():
        examples = _load("udpos", lang, split).examples
        sentences = sum(_conllu_counts(p)[0] for p in paths)
        words = sum(_conllu_counts(p)[1] for p in paths)
        assert len(examples) == sentences, (lang, split)
        assert sum(len(ex.tokens) for ex in examples) == words, (lang, split)
        assert all(len(ex.tags) == len(ex.tokens) and set(ex.tags) <= set(UPOS_TAGS) for ex in examples)


@realdata
def test_pud_sentences_align_by_sent_id() -> None:
    folder = require_shared_data("udpos")
    pud = sorted(p.name.split("_")[0] for p in folder.glob("*_pud-ud-test.conllu"))
    assert len(pud) == 10
    split = _load("udpos", "de", "test")
    assert len(split.examples) == 1000
    de_ids = [ex.id for ex in split.examples]
    for lang in pud:
        if lang == "en":
            continue  # en test also holds en_ewt
        assert [ex.id for ex in _load("udpos", lang, "test").examples] == de_ids
    # multiword tokens are skipped: German "zum" = "zu dem" gives the words, not the range
    first = split.examples[0]
    assert first.tokens[:3] == ["„", "Ein", "Großteil"] and first.tags[:3] == ["PUNCT", "DET", "NOUN"]


@realdata
@pytest.mark.parametrize("lang", ["de", "en", "zh"])
def test_universal_ner_parses(lang: str) -> None:
    path = require_shared_data("uner", f"{lang}_pud-ud-test.iob2")
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    examples = _load("uner", lang, "test").examples
    assert len(examples) == 1000
    assert sum(len(ex.tokens) for ex in examples) == len(rows)
    assert Counter(t for ex in examples for t in ex.tags) == Counter(r[2] for r in rows)
    assert {t for ex in examples for t in ex.tags} == set(get_task("uner").labels or ())


# --------------------------------------------------------------------------- retrieval


@realdata
@pytest.mark.parametrize("lang", get_task("tatoeba").languages)
def test_tatoeba_loads_every_language(lang: str) -> None:
    iso3 = TATOEBA_ISO3[lang]
    path = require_shared_data("tatoeba", f"tatoeba.{iso3}-eng.{iso3}")
    split = _load("tatoeba", lang, "test")
    assert len(split.examples) == 1
    corpus = split.examples[0]
    assert isinstance(corpus, ParallelCorpus) and corpus.src_lang == lang
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert len(corpus.src) == len(corpus.tgt) == len(corpus.gold) == n <= 1000
    assert {"sw": 390, "th": 548}.get(lang, n) == n


# --------------------------------------------------------------------------- multiple choice


@realdata
def test_cosmosqa_and_commonsenseqa_dev() -> None:
    require_shared_data("cosmosqa", "en.dev.csv")
    require_shared_data("commonsenseqa", "en.dev.jsonl")
    cosmos = _load("cosmosqa", "en", "dev").examples
    csqa = _load("commonsenseqa", "en", "dev").examples
    assert len(cosmos) == 2985 and len(csqa) == 1221
    assert all(len(ex.choices) == 4 and ex.label in range(4) and ex.question for ex in cosmos)
    assert all(len(ex.choices) == 5 and ex.label in range(5) for ex in csqa)
    assert csqa[0].id == "1afa02df02c908a558b4036e80242fac" and csqa[0].choices[csqa[0].label] == "bank"
    assert len({ex.id for ex in csqa}) == 1221


# --------------------------------------------------------------------------- classification


@realdata
@pytest.mark.parametrize("split", ["dev", "test"])
def test_xnli_genres_and_parallel_rows(split: str) -> None:
    require_shared_data("xnli", f"en.{split}.tsv")
    by_lang = {lang: _load("xnli", lang, split).examples for lang in ("en", "sw", "ur")}
    n = {"dev": 2490, "test": 5010}[split]
    assert all(len(v) == n for v in by_lang.values())
    genres = Counter(ex.meta["genre"] for ex in by_lang["en"])
    assert len(genres) == 10 and "nineeleven" in genres
    for lang in ("sw", "ur"):
        assert [(e.label, e.meta["genre"]) for e in by_lang[lang]] == [(e.label, e.meta["genre"]) for e in by_lang["en"]]


@realdata
def test_pawsx_de_and_anli_rounds() -> None:
    require_shared_data("pawsx", "de.dev.tsv")
    require_shared_data("anli", "en.dev_r1.csv")
    assert [len(_load("pawsx", "de", s).examples) for s in ("dev", "test")] == [2000, 2000]
    rounds = [len(_load("anli", "en", f"dev_r{r}").examples) for r in (1, 2, 3)]
    assert rounds == [1000, 1000, 1198]
    assert len(_load("anli", "en", "dev").examples) == sum(rounds)


# --------------------------------------------------------------------------- bad input


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


CONLLU_OK = "# sent_id = s1\n1\tHallo\thallo\tINTJ\t_\t_\t0\troot\t_\t_\n"


@pytest.mark.parametrize(
    ("task", "name", "content", "line", "expected"),
    [
        ("cosmosqa", "en.dev.csv", "id,context,question,label\nq1,Some text.,Why?,0\n", 2, "answer0..answerN"),
        ("cosmosqa", "en.dev.csv", "id,context,question,answer0,answer1,label\nq1,C.,Q?,a,b\n", 2, "6 fields"),
        ("cosmosqa", "en.dev.csv", "id,context,question,answer0,answer1,label\nq1,C.,Q?,a,b,1\nq2,C.,Q?,a,b,7\n", 3, "choice index 0..1"),
        ("commonsenseqa", "en.dev.jsonl", '{"question": "Q?", "choices": {"label": ["A", "B"], "text": ["x", "y"]}, "answerKey": "F"}\n', 1, "answerKey"),
        ("uner", "en.test.iob2", "# sent_id = 1\n1\tParis\tS-LOC\t-\t-\n", 2, "an IOB2 tag (O, B-TYPE or I-TYPE), found 'S-LOC'"),
        ("panx", "de.test.iob2", "de:Berlin\tB-LOC\nde:ist\tO\n\nde:Bonn\tB-MISC\n", 4, "a tag in {O, B-PER"),
        ("udpos", "de.test.conllu", CONLLU_OK + "2\t!\t!\tEXCLAIM\t_\t_\t1\tpunct\t_\t_\n", 3, "a UPOS tag in"),
        ("udpos", "de.test.conllu", b"# sent_id = s1\n1\tHall\xf6\thallo\tINTJ\t_\t_\t0\troot\t_\t_\n", 2, "UTF-8"),
        ("uner", "de.test.iob2", b"# x\n1\tK\xf6ln\tB-LOC\t-\t-\n", 2, "UTF-8"),
        ("udpos", "de.test.conllu", CONLLU_OK + "2\t!\t!\tPUNCT\t_\t_\t1\tpunct\n", 3, "10 tab-separated CoNLL-U columns"),
        ("udpos", "de.test.conllu", CONLLU_OK + "two\t!\t!\tPUNCT\t_\t_\t1\tpunct\t_\t_\n", 3, "a word ID"),
        ("udpos", "de.test.conllu", CONLLU_OK + "3\t!\t!\tPUNCT\t_\t_\t1\tpunct\t_\t_\n", 3, "word ID 2"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path: Path, task: str, name: str, content: str | bytes, line: int, expected: str) -> None:
    path = _write(tmp_path / task / name, content)
    lang, split = name.split(".")[:2]
    with pytest.raises(DataError) as err:
        load_split(get_task(task), lang, split, tmp_path)
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert expected in str(err.value)
    assert err.value.path == path and err.value.line == line


def test_bad_tatoeba_byte_and_length(tmp_path: Path) -> None:
    folder = tmp_path / "tatoeba"
    _write(folder / "tatoeba.deu-eng.deu", b"Hallo.\nGr\xfc\xdfe.\n")
    _write(folder / "tatoeba.deu-eng.eng", "Hello.\nGreetings.\n")
    with pytest.raises(DataError, match=r"tatoeba\.deu-eng\.deu:2: UTF-8"):
        load_split(get_task("tatoeba"), "de", "test", tmp_path)
    _write(folder / "tatoeba.deu-eng.deu", "Hallo.\n")
    with pytest.raises(DataError, match=r"tatoeba\.deu-eng\.deu:2: as many lines as its pair file \(2\), found 1"):
        load_split(get_task("tatoeba"), "de", "test", tmp_path)
