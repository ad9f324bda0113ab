"""Every reader refuses a malformed file with its name, the line and what was expected.

One small hand-written file per rule, beside the harmless variants that must keep loading: a byte-order
mark, CRLF line ends and trailing blank lines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.badfiles import fails, write
from xstilts.data.conllu import read_conllu, read_conllu_files
from xstilts.data.iob2 import I_WITHOUT_B, NER_LABELS, i_without_b, read_iob2
from xstilts.data.load import load_split
from xstilts.data.retrieval import read_bucc, read_tatoeba
from xstilts.data.schema import DataError
from xstilts.data.squad import read_squad
from xstilts.data.stats import task_stats
from xstilts.tasks.registry import get_task

NLI_HEAD = "premise\thypothesis\tlabel\n"
NLI_ROWS = "A man sleeps.\tA person rests.\tentailment\nA cat.\tA dog.\tcontradiction\n"


def xnli(tmp_path: Path, text: str | bytes, ext: str = "tsv") -> Path:
    return write(tmp_path / "xnli" / f"en.test.{ext}", text)


def load_xnli(tmp_path: Path):
    return load_split(get_task("xnli"), "en", "test", tmp_path).examples


# --------------------------------------------------------------------------- TSV and CSV


@pytest.mark.parametrize(
    ("rows", "line", "expected"),
    [
        ("A man sleeps.\tentailment\n", 2, "3 fields (premise, hypothesis, label), found 2"),
        ("A man sleeps.\tA person rests.\tentailment\tx\n", 2, "3 fields (premise, hypothesis, label), found 4"),
        (NLI_ROWS + "only one\n", 4, "3 fields (premise, hypothesis, label), found 1"),
        ("A man sleeps.\tA person rests.\tentails-ish\n", 2, "a label in {entailment, neutral, contradiction} (or an alias), found 'entails-ish'"),
    ],
    ids=["missing-column", "extra-column", "ragged", "unknown-label"],
)
def test_delimited_rows_that_do_not_fit(tmp_path: Path, rows: str, line: int, expected: str) -> None:
    path = xnli(tmp_path, NLI_HEAD + rows)
    with fails(path, line, expected):
        load_xnli(tmp_path)


def test_an_empty_label_among_labelled_rows_is_an_error(tmp_path: Path) -> None:
    path = xnli(tmp_path, NLI_HEAD + "x\ty\t\n" + NLI_ROWS)
    with fails(path, 2, "a label in column label, found an empty field"):
        load_xnli(tmp_path)
    path = xnli(tmp_path, NLI_HEAD + NLI_ROWS + "x\ty\t \n")  # after the labelled rows too
    with fails(path, 4, "a label in column label, found an empty field"):
        load_xnli(tmp_path)


def test_unlabelled_files_and_explicit_markers_still_load(tmp_path: Path) -> None:
    xnli(tmp_path, NLI_HEAD + "x\ty\t\nu\tv\t\n")  # every label empty: an unlabelled file
    assert [ex.label for ex in load_xnli(tmp_path)] == [None, None]
    xnli(tmp_path, NLI_HEAD + NLI_ROWS + "x\ty\t-\n")  # SNLI's "-" marks one unlabelled row
    assert [ex.label for ex in load_xnli(tmp_path)] == ["entailment", "contradiction", None]


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = xnli(tmp_path, (NLI_HEAD + NLI_ROWS).encode() + b"caf\xe9\tx\tneutral\n")
    with fails(path, 4, "UTF-8 text (undecodable byte at column 4)"):
        load_xnli(tmp_path)


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("", 1, "a header row, found an empty file"),
        (NLI_HEAD, 2, "rows after the header line, found none (the file holds a header only)"),
        (NLI_HEAD + "\n\n", 2, "rows after the header line, found none (the file holds a header only)"),
        ("\n" + NLI_ROWS, 1, "a header row of column names, found a blank line"),
        ("premise\thypothesis\tlabel\tlabel\nx\ty\tneutral\tneutral\n", 1, "distinct column names in the header, found 'label' twice"),
    ],
    ids=["empty", "header-only", "header-and-blank-lines", "blank-header", "repeated-column"],
)
def test_files_without_rows_or_a_usable_header(tmp_path: Path, text: str, line: int, expected: str) -> None:
    path = xnli(tmp_path, text)
    with fails(path, line, expected):
        load_xnli(tmp_path)


def test_an_empty_jsonl_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "xnli" / "en.test.jsonl", "\n")
    with fails(path, 1, "at least one record, found none"):
        load_xnli(tmp_path)


def test_csv_quotes_that_do_not_close(tmp_path: Path) -> None:
    path = xnli(tmp_path, 'premise,hypothesis,label\nx,y,neutral\n"A man sleeps.,A person rests.,entailment\nA cat.,A dog.,neutral\n', "csv")
    with fails(path, 3, "a closing quote for the field opened on this line"):
        load_xnli(tmp_path)
    path = xnli(tmp_path, 'premise,hypothesis,label\nA man,"sleeps"x,entailment\n', "csv")
    with fails(path, 2, "well-formed delimited text (',' expected after '\"')"):
        load_xnli(tmp_path)


def test_a_quoted_csv_field_may_span_lines(tmp_path: Path) -> None:
    xnli(tmp_path, 'premise,hypothesis,label\n"A man\nsleeps.",A person rests.,entailment\n', "csv")
    assert [ex.text_a for ex in load_xnli(tmp_path)] == ["A man\nsleeps."]


def test_bom_crlf_and_trailing_blank_lines_are_harmless(tmp_path: Path) -> None:
    xnli(tmp_path, NLI_HEAD + NLI_ROWS)
    plain = load_xnli(tmp_path)
    xnli(tmp_path, ("\ufeff" + NLI_HEAD + NLI_ROWS).replace("\n", "\r\n") + "\r\n\r\n\r\n")
    assert load_xnli(tmp_path) == plain


def test_a_repeated_id_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "pawsx" / "de.test.tsv", "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t0\n2\tc\td\t1\n1\te\tf\t0\n")
    with fails(path, 4, "a unique id, found '1' again (first on line 2)"):
        load_split(get_task("pawsx"), "de", "test", tmp_path)


def test_release_rows_refuse_an_empty_label_too(tmp_path: Path) -> None:
    path = write(tmp_path / "qqp" / "train.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t1\t2\ta\tb\t0\n2\t3\t4\tc\td\t\n")
    with fails(path, 3, "a label in column is_duplicate, found an empty field"):
        load_split(get_task("qqp"), "en", "train", tmp_path)


# --------------------------------------------------------------------------- SQuAD JSON

ANSWER = {"text": "Paris", "answer_start": 0}


def squad_text(*qas: dict, context: str = "Paris is the capital of France.") -> str:
    return json.dumps({"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": context, "qas": list(qas)}]}]}, indent=1)


def lines_with(path: Path, text: str) -> list[int]:
    return [no for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in line]


def xquad(tmp_path: Path, *qas: dict) -> Path:
    return write(tmp_path / "xquad" / "xquad.de.json", squad_text(*qas))


def load_xquad(tmp_path: Path):
    return load_split(get_task("xquad"), "de", "test", tmp_path).examples


def test_truncated_squad_json(tmp_path: Path) -> None:
    path = write(tmp_path / "xquad" / "xquad.de.json", squad_text({"id": "a", "question": "Q?", "answers": [ANSWER]})[:90])
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}:\d+: valid JSON \("):
        load_xquad(tmp_path)


def test_an_empty_json_file(tmp_path: Path) -> None:
    path = write(tmp_path / "xquad" / "xquad.de.json", "")
    with fails(path, 1, "a JSON document, found an empty file"):
        load_xquad(tmp_path)


@pytest.mark.parametrize("qa", [{"id": "a", "question": "Q?"}, {"id": "a", "question": "Q?", "answers": []}], ids=["missing", "empty"])
def test_a_v11_question_without_answers_is_an_error_not_squad2(tmp_path: Path, qa: dict) -> None:
    path = xquad(tmp_path, {"id": "ok", "question": "Q?", "answers": [ANSWER]}, qa)
    with fails(path, lines_with(path, '"id": "a"')[0], "question a: answers for the question (a question without answers is a no-answer question only"):
        load_xquad(tmp_path)


def test_no_answer_questions_where_the_file_or_the_task_says_so(tmp_path: Path) -> None:
    xquad(tmp_path, {"id": "a", "question": "Q?", "answers": [], "is_impossible": True})
    assert load_xquad(tmp_path)[0].is_impossible  # the file says so: a SQuAD 2.0 file
    write(tmp_path / "squad_v2" / "en.dev.json", squad_text({"id": "a", "question": "Q?", "answers": []}))
    assert load_split(get_task("squad_v2"), "en", "dev", tmp_path).examples[0].is_impossible  # the task is SQuAD 2.0


def test_duplicate_question_ids_name_the_second(tmp_path: Path) -> None:
    path = xquad(tmp_path, {"id": "a", "question": "Q?", "answers": [ANSWER]}, {"id": "a", "question": "Again?", "answers": [ANSWER]})
    with fails(path, lines_with(path, '"id": "a"')[1], "a unique question id, found 'a' again"):
        load_xquad(tmp_path)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"text": "Paris", "answer_start": 400}, "answer_start inside the context (0..30), found 400"),
        ({"text": "Paris", "answer_start": -1}, "answer_start inside the context (0..30), found -1"),
        ({"text": "Paris", "answer_start": "0"}, "answer_start as an integer, found '0'"),
        ({"text": "Paris", "answer_start": 0.5}, "answer_start as an integer, found 0.5"),
        ({"text": 7, "answer_start": 0}, "an answer text (a non-empty string), found 7"),
        ({"text": "", "answer_start": 0}, "an answer text (a non-empty string), found ''"),
        ({"answer_start": 0}, "answers as {text: [...], answer_start: [...]}"),
    ],
    ids=["start-past-end", "start-negative", "start-string", "start-float", "text-number", "text-empty", "no-text"],
)
def test_answers_of_the_wrong_shape(tmp_path: Path, answer: dict, expected: str) -> None:
    path = xquad(tmp_path, {"id": "a", "question": "Q?", "answers": [answer]})
    with fails(path, lines_with(path, '"id": "a"')[0], f"question a: {expected}"):
        load_xquad(tmp_path)


def test_is_impossible_must_be_a_boolean(tmp_path: Path) -> None:
    path = xquad(tmp_path, {"id": "a", "question": "Q?", "answers": [ANSWER], "is_impossible": "false"})
    with fails(path, lines_with(path, '"id": "a"')[0], "question a: is_impossible as true or false, found 'false'"):
        load_xquad(tmp_path)


def test_questions_and_contexts_of_the_wrong_type(tmp_path: Path) -> None:
    path = xquad(tmp_path, {"id": "a", "question": ["Q?"], "answers": [ANSWER]})
    with fails(path, lines_with(path, '"id": "a"')[0], "question a: a question string, found ['Q?']"):
        load_xquad(tmp_path)
    path = xquad(tmp_path, {"id": None, "question": "Q?", "answers": [ANSWER]})
    with fails(path, None, "article 1, paragraph 1: every question to have an id (a string)"):
        load_xquad(tmp_path)
    path = write(tmp_path / "xquad" / "xquad.de.json", json.dumps({"data": [{"paragraphs": [{"context": 5, "qas": []}]}]}))
    with fails(path, None, "article 1, paragraph 1: a paragraph with a context string and a qas list"):
        load_xquad(tmp_path)


def test_starts_that_miss_their_text_are_repaired_or_kept_unlocated(tmp_path: Path) -> None:
    xquad(
        tmp_path,
        {"id": "a", "question": "Q?", "answers": [{"text": "France", "answer_start": 20}]},  # off by four: moved
        {"id": "b", "question": "Q?", "answers": [{"text": "Berlin", "answer_start": 3}]},  # nowhere: kept for EM/F1
    )
    a, b = load_xquad(tmp_path)
    assert a.answers == [("France", 24)] and b.answers == [("Berlin", -1)]


def test_qa_rows_follow_the_same_rules(tmp_path: Path) -> None:
    path = write(tmp_path / "squad" / "en.dev.jsonl", json.dumps({"id": "a", "context": "C.", "question": "Q?", "answers": {"text": ["C"], "answer_start": [9]}}) + "\n")
    with fails(path, 1, "answer_start inside the context (0..1), found 9"):
        load_split(get_task("squad"), "en", "dev", tmp_path)
    row = {"context": "C.", "question": "Q?", "answers": {"text": ["C"], "answer_start": [0]}}
    path = write(tmp_path / "squad" / "en.dev.jsonl", json.dumps({"id": "a", **row}) + "\n" + json.dumps({"id": "a", **row}) + "\n")
    with fails(path, 2, "a unique id, found 'a' again (first on line 1)"):
        load_split(get_task("squad"), "en", "dev", tmp_path)


def test_real_release_shapes_still_read(tmp_path: Path) -> None:
    """A BOM before the JSON (some Windows exports) is harmless."""
    path = write(tmp_path / "x.json", "\ufeff" + squad_text({"id": "a", "question": "Q?", "answers": [ANSWER]}))
    assert [ex.id for ex in read_squad(path)] == ["a"]


# --------------------------------------------------------------------------- CoNLL-U


def word(i: object, form: str, upos: str = "NOUN") -> str:
    return f"{i}\t{form}\t{form}\t{upos}\t_\t_\t0\troot\t_\t_\n"


def node(i: str) -> str:
    return f"{i}\tx\t_\t_\t_\t_\t_\t_\t_\t_\n"


@pytest.mark.parametrize(
    ("lines", "line", "expected"),
    [
        (word(1, "Dogs") + word("two", "bark"), 3, "a word ID (an integer, a range such as 3-4 or an empty node such as 5.1), found 'two'"),
        (word(1, "Dogs") + word(3, "bark"), 3, "word ID 2 (IDs run 1, 2, 3, ... in a sentence), found 3"),
        (word(1, "Dogs") + "2\tbark\tNOUN\n", 3, "10 tab-separated CoNLL-U columns"),
        (word(1, "Dogs") + word(2, "bark", "VRB"), 3, "a UPOS tag in {ADJ, "),
        (node("2-1") + word(1, "Dogs") + word(2, "bark"), 2, "a multiword range 1-N (N > 1) before word 1, found 2-1"),
        (word(1, "Dogs") + node("3-4") + word(2, "bark"), 3, "a multiword range 2-N (N > 2) before word 2, found 3-4"),
        (node("1-2") + word(1, "Dogs") + node("2-3") + word(2, "bark"), 4, "a multiword range 2-N (N > 2) before word 2, found 2-3"),
        (word(1, "Dogs") + node("2-3") + word(2, "bark"), 3, "words 3..3 after the range, found the end of the sentence"),
        (word(1, "Dogs") + node("2.1") + word(2, "bark"), 3, "an empty node 1.1 (after word 1), found 2.1"),
        (word(1, "Dogs") + node("1.0") + word(2, "bark"), 3, "an empty node 1.1 (after word 1), found 1.0"),
        (word(1, "Dogs") + node("1.2") + word(2, "bark"), 3, "an empty node 1.1 (after word 1), found 1.2"),
        (word(1, "Dogs") + "2\t\tbark\tNOUN\t_\t_\t0\troot\t_\t_\n", 3, "a word form in the FORM column, found an empty field"),
    ],
    ids=["id-not-integer", "id-skips", "columns", "unknown-upos", "range-backwards", "range-ahead", "ranges-overlap",
         "range-past-end", "empty-node-misplaced", "empty-node-zero", "empty-node-skips", "empty-form"],
)
def test_conllu_lines_that_do_not_fit(tmp_path: Path, lines: str, line: int, expected: str) -> None:
    path = write(tmp_path / "udpos" / "en.test.conllu", "# sent_id = s1\n" + lines + "\n")
    with fails(path, line, expected):
        load_split(get_task("udpos"), "en", "test", tmp_path)


def test_conllu_ranges_and_empty_nodes_are_skipped(tmp_path: Path) -> None:
    text = "# sent_id = s1\n" + node("0.1") + node("1-2") + word(1, "Dogs") + node("1.1") + node("1.2") + word(2, "bark") + "\n"
    path = write(tmp_path / "a.conllu", ("\ufeff" + text).replace("\n", "\r\n") + "\r\n\r\n")
    (ex,) = read_conllu(path)
    assert ex.tokens == ["Dogs", "bark"] and ex.id == "s1"


def test_conllu_sent_ids_are_unique(tmp_path: Path) -> None:
    one = "# sent_id = s1\n" + word(1, "Dogs") + "\n"
    path = write(tmp_path / "a.conllu", one + one)
    with fails(path, 5, "a unique sent_id, found 's1' again (first on line 2)"):
        read_conllu(path)
    other = write(tmp_path / "b.conllu", one)  # two treebanks may share one: the later is prefixed
    assert [ex.id for ex in read_conllu_files([write(tmp_path / "a.conllu", one), other])] == ["s1", "b.conllu:s1"]


# --------------------------------------------------------------------------- IOB2


@pytest.mark.parametrize(
    ("lines", "line", "expected"),
    [
        ("1\tParis\tB-MISC\n", 1, "a tag in {O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC}, found 'B-MISC'"),
        ("1\tParis\tLOC\n", 1, "an IOB2 tag (O, B-TYPE or I-TYPE), found 'LOC'"),
        ("Paris\n", 1, "index<TAB>token<TAB>tag, token<TAB>tag or token tag, found 1 field(s)"),
        ("x\tParis\tO\n", 1, "index<TAB>token<TAB>tag, token<TAB>tag or token tag, found 3 field(s)"),
        ("1\t\tB-LOC\n", 1, "a token before its tag, found an empty field"),
    ],
    ids=["unknown-tag", "not-iob2", "one-column", "no-index", "empty-token"],
)
def test_iob2_lines_that_do_not_fit(tmp_path: Path, lines: str, line: int, expected: str) -> None:
    path = write(tmp_path / "uner" / "en.test.iob2", lines + "2\tsleeps\tO\n\n")
    with fails(path, line, expected):
        load_split(get_task("uner"), "en", "test", tmp_path)


def test_i_without_b_is_read_as_seqeval_reads_it_and_counted(tmp_path: Path) -> None:
    assert i_without_b(["O", "I-LOC", "I-LOC", "B-PER", "I-LOC", "I-PER"]) == 3
    assert i_without_b(["I-PER"]) == 1 and i_without_b(["B-PER", "I-PER", "O"]) == 0
    path = write(tmp_path / "uner" / "en.test.iob2", "1\tin\tO\n2\tParis\tI-LOC\n\n1\tBob\tB-PER\n\n")
    first, second = read_iob2(path, NER_LABELS)
    assert first.tags == ["O", "I-LOC"] and first.meta[I_WITHOUT_B] == 1
    assert I_WITHOUT_B not in second.meta
    rows, problems = task_stats(get_task("uner"), tmp_path)
    assert [r.examples for r in rows] == [2]
    assert problems == [
        f"{tmp_path / 'uner' / 'en.test.iob2'} (en/test): 1 I- tag(s) in 1 sentence(s) continue no entity (after O, at a "
        "sentence start or after another type), first at en.test.iob2:1; read as the start of an entity, as seqeval does"
    ]


def test_jsonl_ner_rows_count_i_without_b_too(tmp_path: Path) -> None:
    write(tmp_path / "uner" / "en.test.jsonl", json.dumps({"tokens": ["in", "Paris"], "tags": ["O", "I-LOC"]}) + "\n")
    assert load_split(get_task("uner"), "en", "test", tmp_path).examples[0].meta[I_WITHOUT_B] == 1


# --------------------------------------------------------------------------- parallel files


def tatoeba(tmp_path: Path, xx: str, en: str) -> tuple[Path, Path]:
    return write(tmp_path / "t.swh", xx), write(tmp_path / "t.eng", en)


def test_tatoeba_blank_lines_are_never_sentence_pairs(tmp_path: Path) -> None:
    xx, en = tatoeba(tmp_path, "a\n\nb\n", "A\nB\nC\n")
    with fails(xx, 2, "a sentence on every line (a blank line is never a sentence pair), found a blank line"):
        read_tatoeba(xx, en, "sw")
    xx, en = tatoeba(tmp_path, "a\nb\n \n", "A\nB\n")  # a whitespace line at the end is trailing too
    assert read_tatoeba(xx, en, "sw").src == ["a", "b"]


@pytest.mark.parametrize("text", ["", "\n", "\n\n\n"], ids=["zero-bytes", "one-empty-line", "blank-lines"])
def test_tatoeba_files_without_sentences(tmp_path: Path, text: str) -> None:
    xx, en = tatoeba(tmp_path, text, text)
    with fails(xx, 1, "one sentence per line, found no sentence"):
        read_tatoeba(xx, en, "sw")


def test_tatoeba_trailing_blank_lines_change_nothing(tmp_path: Path) -> None:
    xx, en = tatoeba(tmp_path, "a\nb\n", "A\nB\n")
    plain = read_tatoeba(xx, en, "sw")
    xx, en = tatoeba(tmp_path, "a\r\nb\r\n\r\n\r\n\r\n", "\ufeffA\nB\n\n\n")
    assert read_tatoeba(xx, en, "sw") == plain


def test_tatoeba_sides_of_different_lengths(tmp_path: Path) -> None:
    xx, en = tatoeba(tmp_path, "a\nb\nc\n", "A\nB\n")
    with fails(en, 3, "as many lines as its pair file (3), found 2"):
        read_tatoeba(xx, en, "sw")


def test_bucc_files(tmp_path: Path) -> None:
    de, en, gold = write(tmp_path / "x.de", "d1\tHallo\n"), write(tmp_path / "x.en", "e1\tHello\n"), write(tmp_path / "x.gold", "d1\te1\n")
    assert read_bucc(de, en, gold, "de").gold == [("d1", "e1")]
    write(de, "d1\tHallo\nd2\t \n")
    with fails(de, 2, "a sentence after the id d2, found none"):
        read_bucc(de, en, gold, "de")
    write(de, "")
    with fails(de, 1, "<id><TAB><sentence> lines, found none"):
        read_bucc(de, en, gold, "de")
    write(de, "d1\tHallo\n")
    write(gold, "d1\te9\n")
    with fails(gold, 1, "ids that occur in the sentence files; e9 does not"):
        read_bucc(de, en, gold, "de")
    write(gold, "\n")
    with fails(gold, 1, "<xx-id><TAB><en-id> gold pairs, found none"):
        read_bucc(de, en, gold, "de")


def test_plain_parallel_rows_need_both_sentences(tmp_path: Path) -> None:
    path = write(tmp_path / "tatoeba" / "sw.test.tsv", "src\ttgt\nhabari\thello\n\tbye\n")
    with fails(path, 3, "a sentence in column src, found an empty field (a blank is never a sentence pair)"):
        load_split(get_task("tatoeba"), "sw", "test", tmp_path)


# --------------------------------------------------------------------------- multiple choice

MC_HEAD = "id,context,question,answer0,answer1,answer2,answer3,label\n"


def test_multiple_choice_labels(tmp_path: Path) -> None:
    path = write(tmp_path / "cosmosqa" / "en.dev.csv", MC_HEAD + "q1,C,Q,a,b,c,d,7\n")
    with fails(path, 2, "a choice index 0..3 as the label, found 7"):
        load_split(get_task("cosmosqa"), "en", "dev", tmp_path)
    path = write(tmp_path / "cosmosqa" / "en.dev.csv", MC_HEAD + "q1,C,Q,a,b,c,d,\nq2,C,Q,a,b,c,d,2\n")
    with fails(path, 2, "a label in column label, found an empty field"):
        load_split(get_task("cosmosqa"), "en", "dev", tmp_path)


def test_multiple_choice_rows_share_one_number_of_choices(tmp_path: Path) -> None:
    rows = [{"ind": 1, "ctx": "C", "endings": ["a", "b", "c", "d"], "label": "0"}, {"ind": 2, "ctx": "C", "endings": ["a", "b"], "label": "1"}]
    path = write(tmp_path / "hellaswag" / "en.dev.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    with fails(path, 2, "4 choices, as the first row has, found 2"):
        load_split(get_task("hellaswag"), "en", "dev", tmp_path)
