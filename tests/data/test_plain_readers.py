"""Plain-named and release-named files for the QA, multiple-choice, tagging and retrieval formats.

Every file here is small and written by hand, so each reader rule is visible next to its test.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from xstilts.data.load import load_split
from xstilts.data.schema import DataError, MultipleChoiceExample, ParallelCorpus, QAExample, TaggingExample
from xstilts.data.squad import align_answer, read_squad
from xstilts.tasks.registry import get_task


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*rows: dict) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def squad_json(*qas: dict, context: str = "Paris is the capital of France.") -> str:
    return json.dumps({"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": context, "qas": list(qas)}]}]})


def test_each_format_reads_its_own_plain_files() -> None:
    from xstilts.formats.tagging import FILE_READERS

    assert {"conllu", "iob2", "txt"} <= set(FILE_READERS)
    for name in ("xquad", "udpos", "mini_nli", "cosmosqa", "tatoeba"):
        assert callable(get_task(name).fmt.read_file)


# --------------------------------------------------------------------------- QA


def test_qa_jsonl_with_hub_fields(tmp_path: Path) -> None:
    rows = jsonl(
        {"id": "q1", "title": "T", "context": "Paris is in France.", "question": "Where?", "answers": {"text": ["France"], "answer_start": [12]}},
        {"id": "q2", "context": "Nothing here.", "question": "Who?", "answers": {"text": [], "answer_start": []}},
    )
    write(tmp_path / "squad_v2" / "en.dev.jsonl", rows)
    ex, empty = load_split(get_task("squad_v2"), "en", "dev", tmp_path).examples
    assert isinstance(ex, QAExample) and ex.answers == [("France", 12)] and ex.meta == {"title": "T"}
    assert empty.is_impossible
    # a v1.1 task never reads a question without answers as SQuAD 2.0's no-answer
    path = write(tmp_path / "squad" / "en.dev.jsonl", rows)
    with pytest.raises(DataError, match=rf"{path}:2: answers for the question"):
        load_split(get_task("squad"), "en", "dev", tmp_path)


def test_qa_json_in_squad_layout_and_answer_repair(tmp_path: Path) -> None:
    write(
        tmp_path / "xquad" / "de.test.json",
        squad_json(
            {"id": "a", "question": "Capital?", "answers": [{"text": "Paris", "answer_start": 0}]},
            {"id": "b", "question": "Country?", "answers": [{"text": "France", "answer_start": 23}]},  # off by one
            {"id": "c", "question": "Moon?", "answers": [{"text": "Moon", "answer_start": 3}]},  # not in the context
            {"id": "d", "question": "None?", "answers": [], "is_impossible": True},
        ),
    )
    a, b, c, d = load_split(get_task("xquad"), "de", "test", tmp_path).examples
    assert a.answers == [("Paris", 0)] and b.answers == [("France", 24)]
    assert c.answers == [("Moon", -1)] and d.answers == []


def test_align_answer_rules() -> None:
    ctx = "ab cd ab"
    assert align_answer(ctx, "ab", 6) == ("ab", 6, "exact")
    assert align_answer(ctx, "ab", 5) == ("ab", 6, "moved")  # the nearest occurrence
    assert align_answer(ctx, " cd ", 1) == (" cd ", 2, "moved")
    assert align_answer(ctx, "cd\n", 3) == ("cd", 3, "moved")  # whitespace-stripped text as a fallback
    assert align_answer(ctx, "xy", 0) == ("xy", -1, "unlocated")


def test_tydiqa_mixed_file_selects_by_id_prefix(tmp_path: Path) -> None:
    qas = [
        {"id": "arabic-1-0", "question": "?", "answers": [{"text": "Paris", "answer_start": 0}]},
        {"id": "finnish--2-0", "question": "?", "answers": [{"text": "France", "answer_start": 24}]},
        {"id": "english-3-0", "question": "?", "answers": [{"text": "capital", "answer_start": 13}]},
    ]
    write(tmp_path / "tydiqa" / "tydiqa-goldp-v1.1-dev.json", squad_json(*qas))
    task = get_task("tydiqa")
    assert [ex.id for ex in load_split(task, "fi", "dev", tmp_path).examples] == ["finnish--2-0"]
    assert [ex.id for ex in load_split(task, "en", "dev", tmp_path).examples] == ["english-3-0"]
    with pytest.raises(DataError, match="release files for sw/dev"):
        load_split(task, "sw", "dev", tmp_path)
    # a per-language dev file (the dev archive names it by the language's English name) wins
    write(tmp_path / "tydiqa" / "tydiqa-goldp-v1.1-dev" / "tydiqa-goldp-dev-swahili.json", squad_json(qas[0]))
    assert len(load_split(task, "sw", "dev", tmp_path).examples) == 1


def test_release_names_for_squad_and_mlqa(tmp_path: Path) -> None:
    qa = {"id": "x", "question": "?", "answers": [{"text": "Paris", "answer_start": 0}]}
    write(tmp_path / "squad" / "dev-v1.1.json", squad_json(qa))
    write(tmp_path / "squad_v2" / "train-v2.0.json", squad_json({"id": "y", "question": "?", "answers": [], "is_impossible": True}))
    write(tmp_path / "mlqa" / "MLQA_V1" / "test" / "test-context-hi-question-hi.json", squad_json(qa))
    assert load_split(get_task("squad"), "en", "dev", tmp_path).examples[0].answers == [("Paris", 0)]
    assert load_split(get_task("squad_v2"), "en", "train", tmp_path).examples[0].is_impossible
    assert load_split(get_task("mlqa"), "hi", "test", tmp_path).examples[0].id == "x"
    stats: Counter[str] = Counter()
    read_squad(tmp_path / "squad" / "dev-v1.1.json", stats=stats)
    assert stats == Counter(questions=1, exact=1)


def test_bad_qa_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "squad" / "en.dev.jsonl", jsonl({"id": "1", "context": "C", "question": "Q", "answers": {"text": ["C"], "answer_start": []}}))
    with pytest.raises(DataError, match=rf"{path}:1: answers as"):
        load_split(get_task("squad"), "en", "dev", tmp_path)
    path = write(tmp_path / "squad" / "en.dev.jsonl", jsonl({"id": "1", "question": "Q", "answers": []}))
    with pytest.raises(DataError, match=rf"{path}:1: column\(s\) context"):
        load_split(get_task("squad"), "en", "dev", tmp_path)


# --------------------------------------------------------------------------- multiple choice


def test_cosmosqa_csv_and_tsv(tmp_path: Path) -> None:
    head = "id,context,question,answer0,answer1,answer2,answer3,label\n"
    write(tmp_path / "cosmosqa" / "en.dev.csv", head + 'c1,"A, B.",Why?,w,x,y,z,2\n')
    write(tmp_path / "cosmosqa" / "en.test.tsv", head.replace(",", "\t").replace("\tlabel", "") + "c2\tCtx.\tQ?\tw\tx\ty\tz\n")
    (ex,) = load_split(get_task("cosmosqa"), "en", "dev", tmp_path).examples
    assert ex == MultipleChoiceExample("c1", "A, B.", "Why?", ["w", "x", "y", "z"], 2, {})
    (unlabeled,) = load_split(get_task("cosmosqa"), "en", "test", tmp_path).examples
    assert unlabeled.label is None and unlabeled.choices == ["w", "x", "y", "z"]


def test_commonsenseqa_hub_and_release_layouts(tmp_path: Path) -> None:
    choices = {"label": ["A", "B", "C", "D", "E"], "text": ["v", "w", "x", "y", "z"]}
    write(tmp_path / "commonsenseqa" / "en.dev.jsonl", jsonl({"id": "k1", "question": "Q?", "question_concept": "c", "choices": choices, "answerKey": "D"}))
    nested = {"id": "k2", "question": {"stem": "R?", "choices": [{"label": lab, "text": t} for lab, t in zip(choices["label"], choices["text"], strict=True)]}}
    write(tmp_path / "commonsenseqa" / "test_rand_split_no_answers.jsonl", jsonl(nested))
    (ex,) = load_split(get_task("commonsenseqa"), "en", "dev", tmp_path).examples
    assert (ex.id, ex.context, ex.choices, ex.label, ex.meta) == ("k1", "Q?", choices["text"], 3, {"question_concept": "c"})
    (test,) = load_split(get_task("commonsenseqa"), "en", "test", tmp_path).examples
    assert (test.id, test.context, test.label) == ("k2", "R?", None)


def test_hellaswag_jsonl(tmp_path: Path) -> None:
    row = {"ind": 24, "activity_label": "Roofing", "ctx_a": "A man is on a roof.", "ctx_b": "he", "ctx": "A man is on a roof. he", "endings": ["a", "b", "c", "d"], "label": 3}
    write(tmp_path / "hellaswag" / "hellaswag_val.jsonl", jsonl(row, {**row, "ind": 25, "ctx_a": None, "ctx_b": None, "label": "1"}))
    first, second = load_split(get_task("hellaswag"), "en", "dev", tmp_path).examples
    assert (first.id, first.context, first.question, first.label) == ("24", "A man is on a roof.", "he", 3)
    assert first.meta["activity_label"] == "Roofing"
    assert (second.context, second.question, second.label) == ("A man is on a roof. he", "", 1)


def test_swag_style_ending_columns(tmp_path: Path) -> None:
    write(tmp_path / "cosmosqa" / "en.train.csv", "sent1,sent2,ending0,ending1,label\nCtx.,He,runs.,sits.,1\n")
    (ex,) = load_split(get_task("cosmosqa"), "en", "train", tmp_path).examples
    assert (ex.context, ex.question, ex.choices, ex.label) == ("Ctx.", "He", ["runs.", "sits."], 1)


# --------------------------------------------------------------------------- tagging


CONLLU = """# newdoc id = d1
# sent_id = s1
# text = Zum Haus.
1-2\tZum\t_\t_\t_\t_\t_\t_\t_\t_
1\tZu\tzu\tADP\t_\t_\t3\tcase\t_\t_
2\tdem\tder\tDET\t_\t_\t3\tdet\t_\t_
3\tHaus\tHaus\tNOUN\t_\t_\t0\troot\t_\t_
3.1\tist\tsein\tAUX\t_\t_\t_\t_\t3:orphan\t_
4\t.\t.\tPUNCT\t_\t_\t3\tpunct\t_\tSpaceAfter=No

# sent_id = s2
1\t_\t_\tNOUN\t_\t_\t0\troot\t_\t_
2\t_\t_\tPUNCT\t_\t_\t1\tpunct\t_\t_

1\tJa\tja\tINTJ\t_\t_\t0\troot\t_\t_
"""


def test_conllu_skips_ranges_empty_nodes_and_withheld_text(tmp_path: Path) -> None:
    write(tmp_path / "udpos" / "de.test.conllu", CONLLU)
    first, last = load_split(get_task("udpos"), "de", "test", tmp_path).examples
    assert first == TaggingExample("s1", ["Zu", "dem", "Haus", "."], ["ADP", "DET", "NOUN", "PUNCT"], first.meta)
    assert first.meta["text"] == "Zum Haus."
    assert last.tokens == ["Ja"] and last.id == "de.test.conllu:15"  # no sent_id: file and first word line


def test_udpos_release_concatenates_treebanks(tmp_path: Path) -> None:
    one = "# sent_id = a\n1\tEins\t_\tNUM\t_\t_\t0\troot\t_\t_\n\n"
    two = "# sent_id = b\n1\tZwei\t_\tNUM\t_\t_\t0\troot\t_\t_\n\n"
    write(tmp_path / "udpos" / "UD_German-HDT" / "de_hdt-ud-dev.conllu", two)
    write(tmp_path / "udpos" / "UD_German-GSD" / "de_gsd-ud-dev.conllu", one)
    write(tmp_path / "udpos" / "de_gsd-ud-test.conllu", two)
    split = load_split(get_task("udpos"), "de", "dev", tmp_path)
    assert [ex.id for ex in split.examples] == ["a", "b"]  # de_gsd before de_hdt, test not mixed in
    assert [ex.meta["source"] for ex in split.examples] == ["de_gsd-ud-dev.conllu", "de_hdt-ud-dev.conllu"]


def test_iob2_universal_ner_and_panx_layouts(tmp_path: Path) -> None:
    write(tmp_path / "uner" / "en_pud-ud-test.iob2", "# sent_id = n1\n# text = Kim left\n1\tKim\tB-PER\t-\t-\n2\tleft\tO\t-\t-\n\n")
    (uner,) = load_split(get_task("uner"), "en", "test", tmp_path).examples
    assert (uner.id, uner.tokens, uner.tags) == ("n1", ["Kim", "left"], ["B-PER", "O"])
    panx = "en:New\tB-LOC\nen:York\tI-LOC\n\nen:#\tO\n"
    write(tmp_path / "panx" / "en" / "dev", panx)  # the unpacked WikiANN archive
    write(tmp_path / "panx" / "test-en.tsv", "New\tB-LOC\n#\tO\n")  # XTREME's prepared file
    write(tmp_path / "panx" / "de.train.iob2", panx.replace("en:", "de:"))  # plain name: prefix from the name
    task = get_task("panx")
    dev = load_split(task, "en", "dev", tmp_path).examples
    assert [ex.tokens for ex in dev] == [["New", "York"], ["#"]]
    assert load_split(task, "en", "test", tmp_path).examples[0].tokens == ["New", "#"]
    assert load_split(task, "de", "train", tmp_path).examples[0].tags == ["B-LOC", "I-LOC"]


def test_tagging_jsonl(tmp_path: Path) -> None:
    write(tmp_path / "panx" / "sw.test.jsonl", jsonl({"tokens": ["Juma", "alikuja"], "ner_tags": ["B-PER", "O"], "langs": ["sw", "sw"]}))
    (ex,) = load_split(get_task("panx"), "sw", "test", tmp_path).examples
    assert (ex.tokens, ex.tags, ex.meta) == (["Juma", "alikuja"], ["B-PER", "O"], {"langs": ["sw", "sw"]})
    path = write(tmp_path / "udpos" / "hi.dev.jsonl", jsonl({"tokens": ["a"], "pos_tags": [7]}))
    with pytest.raises(DataError, match=rf"{path}:1: tag names in pos_tags"):
        load_split(get_task("udpos"), "hi", "dev", tmp_path)
    path = write(tmp_path / "udpos" / "hi.dev.jsonl", jsonl({"tokens": ["a", "b"], "tags": ["NOUN"]}))
    with pytest.raises(DataError, match=rf"{path}:1: one tag per token \(2 tokens, 1 tags\)"):
        load_split(get_task("udpos"), "hi", "dev", tmp_path)


def test_ccg_word_tag_lines_and_columns(tmp_path: Path) -> None:
    stagged = "# this file was generated by the following command(s):\n\nPierre|NNP|N/N Vinken|NNP|N .|.|.\nHi|N\n"
    write(tmp_path / "ccg" / "wsj_00.stagged", stagged)
    write(tmp_path / "ccg" / "en.train.txt", "Pierre\tN/N\nVinken\tN\n\nHi\tN\n")
    task = get_task("ccg")
    dev = load_split(task, "en", "dev", tmp_path).examples
    assert [(ex.tokens, ex.tags) for ex in dev] == [(["Pierre", "Vinken", "."], ["N/N", "N", "."]), (["Hi"], ["N"])]
    train = load_split(task, "en", "train", tmp_path).examples
    assert [ex.tags for ex in train] == [["N/N", "N"], ["N"]]
    path = write(tmp_path / "ccg" / "en.test.txt", "Pierre|N/N Vinken\n")
    with pytest.raises(DataError, match=rf"{path}:1: space-separated word\|tag tokens, found 'Vinken'"):
        load_split(task, "en", "test", tmp_path)


def test_a_file_the_format_cannot_read_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "xnli" / "en.dev.conllu", CONLLU)  # CoNLL-U is a tagging format's file
    with pytest.raises(DataError, match=rf"{path}: a .tsv, .csv, .jsonl or .json file"):
        load_split(get_task("xnli"), "en", "dev", tmp_path)


# --------------------------------------------------------------------------- retrieval


def test_tatoeba_release_and_iso3_aliases(tmp_path: Path) -> None:
    write(tmp_path / "tatoeba" / "tatoeba.cmn-eng.cmn", "你好。\n谢谢。\n")
    write(tmp_path / "tatoeba" / "tatoeba.cmn-eng.eng", "Hello.\nThanks.\n")
    write(tmp_path / "tatoeba" / "tatoeba.arb-eng.arb", "مرحبا\n")
    write(tmp_path / "tatoeba" / "tatoeba.arb-eng.eng", "Hello\n")
    split = load_split(get_task("tatoeba"), "zh", "test", tmp_path)
    (corpus,) = split.examples
    assert corpus == ParallelCorpus(["0", "1"], ["你好。", "谢谢。"], ["0", "1"], ["Hello.", "Thanks."], [("0", "0"), ("1", "1")], "zh")
    assert load_split(get_task("tatoeba"), "ar", "test", tmp_path).examples[0].src == ["مرحبا"]


def test_bucc_release_splits(tmp_path: Path) -> None:
    folder = tmp_path / "bucc2018"
    write(folder / "de-en.sample.de", "de-000001\tHallo Welt.\nde-000002\tNoch ein Satz.\n")
    write(folder / "de-en.sample.en", "en-000001\tAnother sentence.\nen-000002\tHello world.\nen-000003\tNoise.\n")
    write(folder / "de-en.sample.gold", "de-000001\ten-000002\n")
    write(folder / "de-en.training.de", "de-1\tA.\n")
    write(folder / "de-en.training.en", "en-1\tA.\n")
    write(folder / "de-en.training.gold", "de-1\ten-1\n")
    task = get_task("bucc2018")
    (dev,) = load_split(task, "de", "dev", tmp_path).examples
    assert dev.src_ids == ["de-000001", "de-000002"] and len(dev.tgt) == 3 and dev.gold == [("de-000001", "en-000002")]
    (test,) = load_split(task, "de", "test", tmp_path).examples
    assert test.gold == [("de-1", "en-1")]
    bad = write(folder / "de-en.sample.gold", "de-000001\ten-000002\nde-000009\ten-000001\n")
    with pytest.raises(DataError, match=rf"{bad}:2: ids that occur in the sentence files; de-000009"):
        load_split(task, "de", "dev", tmp_path)
    bad = write(folder / "de-en.training.en", "en-1 A.\n")
    with pytest.raises(DataError, match=rf"{bad}:1: <id><TAB><sentence>"):
        load_split(task, "de", "test", tmp_path)
