"""Domain as an axis: each example's domain, language codes in file names, label maps, selection by domain."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.badfiles import write
from tests.conftest import require_shared_data
from xstilts.data.domains import (
    example_domain,
    file_codes,
    iso1,
    map_tag,
    parse_selection,
    sentence_domain,
    treebank_of,
)
from xstilts.data.iob2 import MAPPED_TAGS, NER_LABELS, read_iob2
from xstilts.data.load import load_split
from xstilts.data.schema import DataError, TaggingExample
from xstilts.tasks.registry import get_task


def conllu_row(i: int, form: str, upos: str = "NOUN") -> str:
    return f"{i}\t{form}\t{form}\t{upos}\t_\t_\t0\troot\t_\t_\n"


def sentence(sent_id: str, *forms: str, comments: str = "") -> str:
    return comments + f"# sent_id = {sent_id}\n" + "".join(conllu_row(i, f) for i, f in enumerate(forms, 1)) + "\n"


def domains_of(examples: list) -> dict[str, str]:
    return {ex.id: example_domain(ex, "?") for ex in examples}


@pytest.mark.parametrize(
    ("code", "expected"),
    [("nob", "nb"), ("nno", "nn"), ("swa", "sw"), ("yor", "yo"), ("hau", "ha"), ("ibo", "ig"), ("kin", "rw"),
     ("lug", "lg"), ("amh", "am"), ("wol", "wo"), ("pcm", "pcm"), ("luo", "luo"), ("ceb", "ceb"), ("de", "de")],
)  # fmt: skip
def test_file_name_codes_become_iso_639_1(code: str, expected: str) -> None:
    assert iso1(code) == expected
    assert code in file_codes(expected)


def test_file_codes_start_with_the_code_itself() -> None:
    assert file_codes("nb") == ["nb", "nob"]
    assert file_codes("sw")[0] == "sw" and {"swa", "swh"} <= set(file_codes("sw"))
    assert file_codes("pcm") == ["pcm"]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("B-OTH", "O"), ("I-OTH", "O"), ("-", "O"), ("B-DATE", "O"), ("B-PER", "B-PER"), ("O", "O"),
     ("B-PERSON", "B-PER"), ("I-PERSON", "I-PER")],
)  # fmt: skip
def test_label_maps_map_whole_tags_and_entity_types(tag: str, expected: str) -> None:
    assert map_tag(tag, {"OTH": "O", "DATE": "O", "-": "O", "PERSON": "PER"}) == expected


def test_treebank_and_sentence_domains() -> None:
    assert treebank_of(Path("x/en_gum-ud-test.conllu")) == "gum"
    assert treebank_of(Path("nob_norne-ud-dev.iob2")) == "norne"
    assert treebank_of(Path("en.test.conllu")) is None
    assert sentence_domain("ewt", "weblog-blogspot.com_x-0001", None) == "weblog"
    assert sentence_domain("ewt", "answers-2008_ans-0003", None) == "answers"
    assert sentence_domain("ewt", "odd-id", None) == "web"
    assert sentence_domain("pud", "n01001011", None) == "news"
    assert sentence_domain("pud", "w05003021", None) == "wiki"
    assert sentence_domain("gum", "GUM_bio_x-1", "bio") == "bio"  # a stated genre wins
    assert sentence_domain("set", "set.hr-s297", None) == "set"
    assert sentence_domain(None, None, None) is None


def test_conllu_genres_hold_for_their_document_and_ewt_pud_ids_name_theirs(tmp_path: Path) -> None:
    gum = (
        "# newdoc id = GUM_bio_a\n# meta::genre = bio\n" + sentence("g1", "A") + sentence("g2", "B")
        + "# newdoc id = GUM_news_b\n# meta::genre = news\n" + sentence("g3", "C")
        + "# newdoc id = untagged\n" + sentence("g4", "D")
    )  # fmt: skip
    write(tmp_path / "udpos" / "en_gum-ud-test.conllu", gum)
    write(tmp_path / "udpos" / "en_ewt-ud-test.conllu", sentence("email-x-0001", "E") + sentence("reviews-y-0002", "F"))
    write(tmp_path / "udpos" / "en_pud-ud-test.conllu", sentence("n01001011", "G") + sentence("w01001011", "H"))
    examples = load_split(get_task("udpos"), "en", "test", tmp_path).examples
    assert domains_of(examples) == {
        "email-x-0001": "email", "reviews-y-0002": "reviews",
        "g1": "bio", "g2": "bio", "g3": "news", "g4": "gum",  # after a new document without a genre: the treebank
        "n01001011": "news", "w01001011": "wiki",
    }  # fmt: skip
    assert {ex.meta["treebank"] for ex in examples} == {"ewt", "gum", "pud"}


def test_selection_by_treebank_and_domain(tmp_path: Path) -> None:
    write(tmp_path / "udpos" / "en_ewt-ud-test.conllu", sentence("email-x-0001", "E") + sentence("reviews-y-0002", "F"))
    write(tmp_path / "udpos" / "en_pud-ud-test.conllu", sentence("n01001011", "G") + sentence("w01001011", "H"))
    task = get_task("udpos")
    ids = lambda split: [ex.id for ex in load_split(task, "en", split, tmp_path).examples]  # noqa: E731
    assert ids("test@treebank=pud") == ["n01001011", "w01001011"]
    assert ids("test@treebank!=pud") == ["email-x-0001", "reviews-y-0002"]
    assert ids("test@domain=news,email") == ["email-x-0001", "n01001011"]
    assert ids("test@treebank=ewt,pud@domain!=wiki") == ["email-x-0001", "reviews-y-0002", "n01001011"]
    whole = load_split(task, "en", "test", tmp_path)
    part = load_split(task, "en", "test@treebank=pud", tmp_path)
    assert part.fingerprint != whole.fingerprint and part.split == "test@treebank=pud"
    with pytest.raises(DataError, match=r"examples with treebank in \{gum\}, found only ewt, pud"):
        load_split(task, "en", "test@treebank=gum", tmp_path)
    with pytest.raises(DataError, match="a selection such as @domain=news"):
        load_split(task, "en", "test@treebank", tmp_path)


def test_selection_parses_keys_and_values() -> None:
    base, filters = parse_selection("train[:50%]@domain!=travel, fiction@treebank=ewt")
    assert base == "train[:50%]"
    assert [(f.key, f.keep, sorted(f.values)) for f in filters] == [("domain", False, ["fiction", "travel"]), ("treebank", True, ["ewt"])]
    assert parse_selection("test") == ("test", [])


def test_a_domain_default_is_the_genre_then_the_treebank_then_the_task() -> None:
    ex = TaggingExample("a", ["x"], ["O"], {"genre": "fiction", "treebank": "gum"})
    assert example_domain(ex, "udpos") == "fiction"
    assert example_domain(TaggingExample("b", ["x"], ["O"], {"treebank": "gum"}), "udpos") == "gum"
    assert example_domain(TaggingExample("c", ["x"], ["O"]), "udpos") == "udpos"


def test_xnli_genres_are_domains_and_genres_select(tmp_path: Path) -> None:
    rows = "".join(f"p{i}\th{i}\tneutral\t{g}\n" for i, g in enumerate(["fiction", "travel", "oup", "fiction"]))
    write(tmp_path / "xnli" / "en.dev.tsv", "sentence1\tsentence2\tgold_label\tgenre\n" + rows)
    task = get_task("xnli")
    split = load_split(task, "en", "dev@domain!=oup,travel", tmp_path)
    assert [example_domain(ex, "xnli") for ex in split.examples] == ["fiction", "fiction"]


def test_slices_never_cut_an_article(tmp_path: Path) -> None:
    import json

    def article(title: str, n: int) -> dict:
        qas = [{"id": f"{title}{i}", "question": "Q?", "answers": [{"text": "Paris", "answer_start": 0}]} for i in range(n)]
        return {"title": title, "paragraphs": [{"context": "Paris is big.", "qas": qas}]}

    write(tmp_path / "xquad" / "xquad.de.json", json.dumps({"version": "1.1", "data": [article("A", 3), article("B", 4), article("C", 3)]}))
    task = get_task("xquad")
    first = load_split(task, "de", "test[:50%]", tmp_path).examples  # 5 of 10 would cut B: B goes whole to the first half
    second = load_split(task, "de", "test[50%:]", tmp_path).examples
    assert [ex.id for ex in first] == ["A0", "A1", "A2", "B0", "B1", "B2", "B3"]
    assert [ex.id for ex in second] == ["C0", "C1", "C2"]
    assert {example_domain(ex, "?") for ex in second} == {"?"} and task.domain == "wikipedia"


def test_iob2_label_map_whitespace_columns_and_counts(tmp_path: Path) -> None:
    path = write(tmp_path / "swa.test.txt", "Vita O\nvya B-PER\nJuni B-DATE\n\nNairobi B-LOC\n\n")
    examples = read_iob2(path, NER_LABELS, label_map={"DATE": "O"})
    assert [ex.tags for ex in examples] == [["O", "B-PER", "O"], ["B-LOC"]]
    assert examples[0].meta[MAPPED_TAGS] == 1 and MAPPED_TAGS not in examples[1].meta
    with pytest.raises(DataError, match="found 'B-DATE'"):
        read_iob2(path, NER_LABELS)


def test_masakhaner_reads_iso_639_3_names_as_news(tmp_path: Path) -> None:
    write(tmp_path / "masakhaner" / "swa.test.txt", "Vita O\nJuni B-DATE\n\nNairobi B-LOC\n\n")
    write(tmp_path / "masakhaner" / "pcm.test.txt", "Lagos B-LOC\n\n")
    task = get_task("masakhaner")
    sw = load_split(task, "sw", "test", tmp_path).examples
    assert [ex.tags for ex in sw] == [["O", "O"], ["B-LOC"]]
    assert {example_domain(ex, task.domain or task.name) for ex in sw} == {"news"}
    assert len(load_split(task, "pcm", "test", tmp_path).examples) == 1
    from xstilts.data.load import available_languages

    assert available_languages(task, "test", tmp_path) == ["pcm", "sw"]


def test_uner_reads_norne_as_nb_and_maps_its_dash_tags(tmp_path: Path) -> None:
    write(tmp_path / "uner" / "nob_norne-ud-test.iob2", "# sent_id = 1\n1\tOslo\tB-LOC\n2\ter\t-\n3\tfin\tB-OTH\n\n")
    examples = load_split(get_task("uner"), "nb", "test", tmp_path).examples
    assert examples[0].tags == ["B-LOC", "O", "O"] and examples[0].meta[MAPPED_TAGS] == 2
    assert examples[0].meta["treebank"] == "norne" and example_domain(examples[0], "uner") == "norne"


def test_m2qa_one_file_per_domain_with_ids_made_unique(tmp_path: Path) -> None:
    import json

    row = {"id": "q1", "question": "Wo?", "context": "In Berlin.", "answers": {"text": ["Berlin"], "answer_start": [3]}}
    empty = {"id": "q2", "question": "Wer?", "context": "Niemand.", "answers": {"text": [], "answer_start": []}}
    write(tmp_path / "m2qa" / "de.news.jsonl", json.dumps(row) + "\n" + json.dumps(empty) + "\n")
    write(tmp_path / "m2qa" / "de.product_reviews.jsonl", json.dumps(row) + "\n")
    task = get_task("m2qa")
    examples = load_split(task, "de", "test", tmp_path).examples
    assert [ex.id for ex in examples] == ["news/q1", "news/q2", "product_reviews/q1"]
    assert Counter(example_domain(ex, "m2qa") for ex in examples) == {"news": 2, "product_reviews": 1}
    assert examples[1].answers == [] and task.metric_variant == "squad_v2"
    assert [ex.id for ex in load_split(task, "de", "test@domain=product_reviews", tmp_path).examples] == ["product_reviews/q1"]


@pytest.mark.realdata
def test_the_domain_root_reads_with_every_domain_named() -> None:
    root = require_shared_data("domains")
    seen = {}
    for task, lang, split in [("udpos", "en", "test"), ("udpos", "de", "test"), ("uner", "hr", "test"), ("uner", "nb", "test"),
                              ("masakhaner", "yo", "test"), ("m2qa", "de", "test"), ("xnli", "ur", "test")]:  # fmt: skip
        t = get_task(task)
        examples = load_split(t, lang, split, root).examples
        seen[(task, lang)] = Counter(example_domain(ex, t.domain or t.name) for ex in examples)
    assert set(seen[("udpos", "en")]) >= {"email", "weblog", "news", "wiki", "academic", "vlog"} - {"vlog"}
    assert set(seen[("udpos", "de")]) == {"news", "wiki"}
    assert set(seen[("m2qa", "de")]) == {"news", "product_reviews"} and sum(seen[("m2qa", "de")].values()) == 3000
    assert set(seen[("masakhaner", "yo")]) == {"news"}
    assert len(seen[("xnli", "ur")]) == 10
    gum = load_split(get_task("udpos"), "en", "test@treebank=gum", root).examples
    assert len(gum) == 1464 and len({example_domain(ex, "udpos") for ex in gum}) == 15


def test_per_domain_keeps_the_first_n_of_every_domain(tmp_path: Path) -> None:
    write(tmp_path / "udpos" / "en_ewt-ud-test.conllu", "".join(sentence(f"email-{i}-0001", "E") for i in range(3)) + sentence("reviews-y-0002", "F"))
    write(tmp_path / "udpos" / "en_pud-ud-test.conllu", sentence("n01001011", "G") + sentence("n01001012", "H"))
    task = get_task("udpos")
    ids = [ex.id for ex in load_split(task, "en", "test@per_domain=2", tmp_path).examples]
    assert ids == ["email-0-0001", "email-1-0001", "reviews-y-0002", "n01001011", "n01001012"]
    ids = [ex.id for ex in load_split(task, "en", "test@treebank=ewt@per_domain=1", tmp_path).examples]
    assert ids == ["email-0-0001", "reviews-y-0002"]
    with pytest.raises(DataError, match="@per_domain=100"):
        load_split(task, "en", "test@per_domain=many", tmp_path)


def test_treebanks_sharing_ids_get_unique_ones(tmp_path: Path) -> None:
    for tb in ("gsd", "pud"):
        write(tmp_path / "uner" / f"zh_{tb}-ud-test.iob2", "# sent_id = batch-0001\n1\t北京\tB-LOC\n\n")
    ids = [ex.id for ex in load_split(get_task("uner"), "zh", "test", tmp_path).examples]
    assert ids == ["batch-0001", "zh_pud-ud-test.iob2:batch-0001"]


def test_bad_caps_and_languages_of_selected_splits(tmp_path: Path) -> None:
    from xstilts.data.load import available_languages, base_split, pool_split

    write(tmp_path / "udpos" / "en_ewt-ud-test.conllu", sentence("email-x-0001", "E"))
    task = get_task("udpos")
    for bad in ("test@per_domain=0", "test@per_domain!=3"):
        with pytest.raises(DataError, match="@per_domain=100"):
            load_split(task, "en", bad, tmp_path)
    assert available_languages(task, "test[50%:]@per_domain=25", tmp_path) == ["en"]
    assert base_split("test[50%:]@domain=news") == "test"
    assert pool_split("dev[:80%]@treebank=ewt") == "dev@treebank=ewt" and pool_split("test") == "test"


def test_slices_keep_xnli_premises_and_mc_contexts_whole(tmp_path: Path) -> None:
    rows = "".join(f"p{i // 3}\th{i}\tneutral\t{i // 3}\n" for i in range(9))  # three hypotheses per premise
    write(tmp_path / "xnli" / "en.dev.tsv", "sentence1\tsentence2\tgold_label\tpromptID\n" + rows)
    first = load_split(get_task("xnli"), "en", "dev[:50%]", tmp_path).examples
    assert [ex.text_a for ex in first] == ["p0"] * 3 + ["p1"] * 3  # 4.5 of 9 would cut premise p1


def test_jsonl_tagging_rows_take_the_label_map(tmp_path: Path) -> None:
    import json

    write(tmp_path / "masakhaner" / "sw.test.jsonl", json.dumps({"tokens": ["Juni", "Nairobi"], "tags": ["B-DATE", "B-LOC"]}) + "\n")
    (ex,) = load_split(get_task("masakhaner"), "sw", "test", tmp_path).examples
    assert ex.tags == ["O", "B-LOC"] and ex.meta[MAPPED_TAGS] == 1


def test_per_domain_slices_cut_every_domain_on_its_own(tmp_path: Path) -> None:
    from xstilts.data.load import pool_split

    rows = "".join(f"p{g}{i}\th\tneutral\t{g}\n" for g in ("fiction", "travel") for i in range(10))
    write(tmp_path / "xnli" / "en.dev.tsv", "sentence1\tsentence2\tgold_label\tgenre\n" + rows)
    task = get_task("xnli")
    head = load_split(task, "en", "dev@per_domain=[:80%]", tmp_path).examples
    tail = load_split(task, "en", "dev@per_domain=[80%:]", tmp_path).examples
    assert Counter(ex.meta["genre"] for ex in head) == {"fiction": 8, "travel": 8}
    assert [ex.text_a for ex in tail] == ["pfiction8", "pfiction9", "ptravel8", "ptravel9"]
    assert pool_split("dev@domain=fiction@per_domain=[:80%]") == "dev@domain=fiction"
