"""The malformed-input corpus: one case per way a file can be wrong, each with the one line xstilts must print.

A case is a few small files under a fresh root ``{R}`` and one command line. ``expect`` is the start of the single
``xstilts: error: `` line (exit code 2); an ``ok`` case is a harmless variant that must be accepted (exit code 0).
``{M}`` is the tiny random model, for the commands that would load one. ``python -m tests.corpus.table`` prints
every case with what it now prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

#: every command that reads a file a user hands it
COMMANDS = ("train", "evaluate", "score", "data stats", "run")


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str | bytes]
    args: str
    #: start of the error line after ``xstilts: error: `` (exit 2); None: accepted (exit 0)
    expect: str | None
    #: what the case is about, for the table in the closing note
    about: str = ""
    #: text that must appear in stdout of an accepted case, or in stderr (a warning)
    shows: str = ""
    command: str = field(init=False)

    def __post_init__(self) -> None:
        words = self.args.split()
        object.__setattr__(self, "command", " ".join(words[:2]) if words[0] == "data" else words[0])


CASES: list[Case] = []


def case(
    name: str, files: dict[str, str | bytes], args: str, expect: str | None, about: str = "", shows: str = ""
) -> None:
    CASES.append(Case(name, files, args, expect, about, shows))


# ---------------------------------------------------------------- TSV and CSV (classification)
NLI_H = "premise\thypothesis\tlabel\n"
OK3 = "A man sleeps.\tA person rests.\tentailment\nA cat.\tA dog.\tcontradiction\nHe ran.\tHe moved fast.\tneutral\n"
PRED3 = "entailment\ncontradiction\nneutral\n"
SCORE_XNLI = "score xnli --predictions {R}/p.txt --language en --data-dir {R}"
XNLI = "{R}/xnli/en.test.tsv"
LABELS = "a label in {entailment, neutral, contradiction} (or an alias)"


def nli(
    name: str, text: str | bytes, expect: str | None, pred: str = PRED3, ext: str = "tsv", **kw: str
) -> None:
    case(name, {f"xnli/en.test.{ext}": text, "p.txt": pred}, SCORE_XNLI, expect, **kw)


nli(
    "tsv_missing_field",
    NLI_H + "A man sleeps.\tentailment\n",
    f"{XNLI}:2: 3 fields (premise, hypothesis, label), found 2",
)
nli(
    "tsv_extra_field",
    NLI_H + "A man sleeps.\tA person rests.\tentailment\textra\n",
    f"{XNLI}:2: 3 fields (premise, hypothesis, label), found 4",
)
nli("tsv_ragged_rows", NLI_H + OK3 + "x\ty\n", f"{XNLI}:5: 3 fields (premise, hypothesis, label), found 2")
nli("tsv_no_text_columns", "sentence_a\tlabel\nx\tentailment\n", f"{XNLI}:2: text columns for a xnli row")
nli(
    "tsv_unknown_label",
    NLI_H + "A man sleeps.\tA person rests.\tentails-ish\n",
    f"{XNLI}:2: {LABELS}, found 'entails-ish'",
)
nli(
    "tsv_empty_label",
    NLI_H + "A man sleeps.\tA person rests.\t\n" + OK3,
    f"{XNLI}:2: a label in column label, found an empty field",
)
nli(
    "tsv_invalid_utf8",
    (NLI_H + OK3).encode() + b"caf\xe9\tx\tneutral\n",
    f"{XNLI}:5: UTF-8 text (undecodable byte at column 4)",
)
nli("tsv_empty_file", "", f"{XNLI}:1: a header row, found an empty file")
nli("tsv_header_only", NLI_H, f"{XNLI}:2: rows after the header line, found none")
nli(
    "tsv_duplicate_column",
    "premise\thypothesis\tlabel\tlabel\nx\ty\tneutral\tneutral\n",
    f"{XNLI}:1: distinct column names in the header, found 'label' twice",
)
nli("tsv_blank_header", "\n" + OK3, f"{XNLI}:1: a header row of column names, found a blank line")
nli(
    "csv_unterminated_quote",
    'premise,hypothesis,label\n"A man sleeps.,A person rests.,entailment\nA cat.,A dog.,contradiction\n',
    "{R}/xnli/en.test.csv:2: a closing quote for the field opened on this line",
    ext="csv",
)
nli(
    "csv_stray_quote",
    'premise,hypothesis,label\nA man,"sleeps"x,entailment\n',
    "{R}/xnli/en.test.csv:2: well-formed delimited text",
    ext="csv",
)
nli(
    "ok_bom_crlf_trailing_blank_lines",
    ("\ufeff" + NLI_H + OK3).replace("\n", "\r\n") + "\r\n\r\n\r\n",
    None,
    about="BOM, CRLF and trailing blank lines",
    shows='"accuracy": 100.0',
)
nli(
    "ok_dash_marks_an_unlabelled_row",
    NLI_H + OK3 + "x\ty\t-\n",
    None,
    pred=PRED3 + "neutral\n",
    about="- is the unlabelled marker; the row is not scored",
    shows='"n": 3',
)
case(
    "tsv_duplicate_id",
    {"pawsx/de.test.tsv": "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t0\n1\tc\td\t1\n", "p.txt": "0\n1\n"},
    "score pawsx --predictions {R}/p.txt --language de --data-dir {R}",
    "{R}/pawsx/de.test.tsv:3: a unique id, found '1' again (first on line 2)",
)

# ---------------------------------------------------------------- training files
TRAIN = "train mnli --model {M} --data-dir {R} --out {R}/out train.max_steps=1"
case(
    "train_header_only",
    {"mnli/en.train.tsv": NLI_H, "mnli/en.dev.tsv": NLI_H + OK3},
    TRAIN,
    "{R}/mnli/en.train.tsv:2: rows after the header line, found none",
)
case(
    "train_all_unlabelled",
    {"mnli/en.train.tsv": "premise\thypothesis\nx\ty\n", "mnli/en.dev.tsv": NLI_H + OK3},
    TRAIN,
    "{R}/mnli/en.train.tsv: labelled mnli training examples, found none (every example is unlabelled)",
)
case(
    "train_unknown_label",
    {"mnli/en.train.tsv": NLI_H + OK3 + "a\tb\tperhaps\n", "mnli/en.dev.tsv": NLI_H + OK3},
    TRAIN,
    f"{{R}}/mnli/en.train.tsv:5: {LABELS}, found 'perhaps'",
)
case(
    "train_config_yaml_unknown_key",
    {"c.yaml": "train:\n  lr: 1.0e-5\n  learning_rate: 3\n"},
    "train mnli --model {M} --config {R}/c.yaml --out {R}/out",
    "{R}/c.yaml:3: unknown config key 'train.learning_rate'",
)
case(
    "train_config_yaml_wrong_type",
    {"c.yaml": "train:\n  batch_size: eight\n"},
    "train mnli --model {M} --config {R}/c.yaml --out {R}/out",
    "{R}/c.yaml:2: config train.batch_size: Input should be a valid integer",
)
case(
    "train_override_non_positive_lr",
    {},
    "train mnli --model {M} --out {R}/out train.lr=0",
    "config train.lr: Input should be greater than 0 (got 0)",
)
case(
    "train_override_negative_max_examples",
    {},
    "train mnli --model {M} --out {R}/out eval.max_examples=-1",
    "config eval.max_examples: Input should be greater than or equal to 0 (got -1)",
)
case(
    "train_override_dropout_one",
    {},
    "train mnli --model {M} --out {R}/out train.dropout=1",
    "config train.dropout: Input should be less than 1 (got 1)",
)

# ---------------------------------------------------------------- SQuAD JSON (XQuAD is scored as SQuAD v1.1)
ANSWER = {"text": "Paris", "answer_start": 0}
XQ = "{R}/xquad/xquad.de.json"


def squad(*qas: dict, context: str = "Paris is the capital of France.") -> str:
    return json.dumps(
        {"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": context, "qas": list(qas)}]}]},
        indent=1,
    )


def xq(name: str, text: str, expect: str | None, pred: str = '{"a": "Paris"}', **kw: str) -> None:
    case(
        name,
        {"xquad/xquad.de.json": text, "p.json": pred},
        "score xquad --predictions {R}/p.json --language de --data-dir {R}",
        expect,
        **kw,
    )


Q = {"id": "a", "question": "Capital?"}
xq("squad_truncated", squad({**Q, "answers": [ANSWER]})[:60], f"{XQ}:6: valid JSON (Unterminated string")
xq(
    "squad_missing_answers",
    squad(Q),
    f"{XQ}:11: question a: answers for the question (a question without answers is a no-answer question only in a SQuAD 2.0",
)
xq("squad_empty_answers_v1", squad({**Q, "answers": []}), f"{XQ}:11: question a: answers for the question")
xq(
    "squad_duplicate_ids",
    squad({**Q, "answers": [ANSWER]}, {"id": "a", "question": "Again?", "answers": [ANSWER]}),
    f"{XQ}:21: a unique question id, found 'a' again",
)
xq(
    "squad_start_out_of_range",
    squad({**Q, "answers": [{"text": "Paris", "answer_start": 400}]}),
    f"{XQ}:11: question a: answer_start inside the context (0..30), found 400",
)
xq(
    "squad_start_negative",
    squad({**Q, "answers": [{"text": "Paris", "answer_start": -1}]}),
    f"{XQ}:11: question a: answer_start inside the context (0..30), found -1",
)
xq(
    "squad_start_wrong_type",
    squad({**Q, "answers": [{"text": "Paris", "answer_start": "0"}]}),
    f"{XQ}:11: question a: answer_start as an integer, found '0'",
)
xq(
    "squad_text_wrong_type",
    squad({**Q, "answers": [{"text": 7, "answer_start": 0}]}),
    f"{XQ}:11: question a: an answer text (a non-empty string), found 7",
)
xq(
    "squad_question_wrong_type",
    squad({"id": "a", "question": ["Capital?"], "answers": [ANSWER]}),
    f"{XQ}:11: question a: a question string, found ['Capital?']",
)
xq(
    "squad_is_impossible_string",
    squad({**Q, "answers": [ANSWER], "is_impossible": "false"}),
    f"{XQ}:11: question a: is_impossible as true or false, found 'false'",
)
xq(
    "ok_squad_start_not_at_text",
    squad({**Q, "answers": [{"text": "France", "answer_start": 20}]}),
    None,
    pred='{"a": "France"}',
    about="answer_start off by a few characters: moved to the text and counted",
    shows='"exact_match": 100.0',
)
xq(
    "ok_squad_is_impossible_true",
    squad({**Q, "answers": [], "is_impossible": True}),
    None,
    pred='{"a": ""}',
    about="no-answer question said by the file: SQuAD 2.0 scoring",
    shows='"NoAns_exact": 100.0',
)
SQ_TRAIN = {
    "id": "a",
    "context": "Paris is the capital.",
    "question": "Q?",
    "answers": [{"text": "Berlin", "answer_start": 0}],
}
SQ_DEV = {
    "id": "b",
    "context": "Paris is the capital.",
    "question": "Q?",
    "answers": [{"text": "Paris", "answer_start": 0}],
}
case(
    "train_qa_no_locatable_answer",
    {"squad/en.train.jsonl": json.dumps(SQ_TRAIN) + "\n", "squad/en.dev.jsonl": json.dumps(SQ_DEV) + "\n"},
    "train squad --model {M} --data-dir {R} --out {R}/out train.max_steps=1",
    "{R}/squad/en.train.jsonl: training questions whose answers occur in their context; none of the 1 answers",
)

# ---------------------------------------------------------------- CoNLL-U (UD POS)
UD = "{R}/udpos/en.test.conllu"


def row(i: int | str, form: str, upos: str = "NOUN") -> str:
    return f"{i}\t{form}\t{form}\t{upos}\t_\t_\t0\troot\t_\t_\n"


def node(i: str, form: str = "x") -> str:
    return f"{i}\t{form}\t_\t_\t_\t_\t_\t_\t_\t_\n"


def ud(name: str, text: str, expect: str | None, pred: str = "NOUN\nNOUN\n\n", **kw: str) -> None:
    case(
        name,
        {"udpos/en.test.conllu": text, "p.txt": pred},
        "score udpos --predictions {R}/p.txt --language en --data-dir {R}",
        expect,
        **kw,
    )


SID = "# sent_id = s1\n"
GOOD_UD = SID + row(1, "Dogs") + row(2, "bark") + "\n"
ud(
    "conllu_non_integer_id",
    SID + row(1, "Dogs") + row("two", "bark") + "\n",
    f"{UD}:3: a word ID (an integer, a range such as 3-4 or an empty node such as 5.1), found 'two'",
)
ud(
    "conllu_wrong_column_count",
    SID + row(1, "Dogs") + "2\tbark\tNOUN\n\n",
    f"{UD}:3: 10 tab-separated CoNLL-U columns",
)
ud(
    "conllu_unknown_upos",
    SID + row(1, "Dogs") + row(2, "bark", "VRB") + "\n",
    f"{UD}:3: a UPOS tag in {{ADJ, ADP",
)
ud(
    "conllu_range_backwards",
    SID + node("2-1") + row(1, "Dogs") + row(2, "bark") + "\n",
    f"{UD}:2: a multiword range 1-N (N > 1) before word 1, found 2-1",
)
ud(
    "conllu_range_not_at_next_word",
    SID + row(1, "Dogs") + node("3-4") + row(2, "bark") + "\n",
    f"{UD}:3: a multiword range 2-N (N > 2) before word 2, found 3-4",
)
ud(
    "conllu_range_past_sentence_end",
    SID + row(1, "Dogs") + node("2-3") + row(2, "bark") + "\n",
    f"{UD}:3: words 3..3 after the range, found the end of the sentence",
)
ud(
    "conllu_empty_node_misplaced",
    SID + row(1, "Dogs") + node("2.1") + row(2, "bark") + "\n",
    f"{UD}:3: an empty node 1.1 (after word 1), found 2.1",
)
ud(
    "conllu_empty_node_zero",
    SID + row(1, "Dogs") + node("1.0") + row(2, "bark") + "\n",
    f"{UD}:3: an empty node 1.1 (after word 1), found 1.0",
)
ud(
    "conllu_duplicate_sent_id",
    GOOD_UD + GOOD_UD,
    f"{UD}:6: a unique sent_id, found 's1' again (first on line 2)",
    pred="NOUN\nNOUN\n\nNOUN\nNOUN\n\n",
)
ud(
    "conllu_empty_form",
    SID + row(1, "Dogs") + "2\t\tbark\tNOUN\t_\t_\t0\troot\t_\t_\n\n",
    f"{UD}:3: a word form in the FORM column, found an empty field",
)
ud(
    "ok_conllu_range_and_empty_node",
    SID + node("1-2", "Dogsbark") + row(1, "Dogs") + node("1.1") + row(2, "bark") + "\n",
    None,
    about="a multiword range and an empty node: skipped as UD's tools do",
    shows='"accuracy": 100.0',
)

# ---------------------------------------------------------------- IOB2 (Universal NER)
UN = "{R}/uner/en.test.iob2"
NER_TAGS = "a tag in {O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC}"


def un(
    name: str,
    text: str,
    expect: str | None,
    pred: str = "O\nO\n\n",
    args: str = "score uner --predictions {R}/p.txt --language en --data-dir {R}",
    **kw: str,
) -> None:
    case(name, {"uner/en.test.iob2": text, "p.txt": pred}, args, expect, **kw)


STATS_UNER = "data stats uner --data-dir {R}"
un("iob2_unknown_tag", "1\tParis\tB-MISC\n2\tsleeps\tO\n\n", f"{UN}:1: {NER_TAGS}, found 'B-MISC'")
un(
    "iob2_not_an_iob2_tag",
    "1\tParis\tLOC\n2\tsleeps\tO\n\n",
    f"{UN}:1: an IOB2 tag (O, B-TYPE or I-TYPE), found 'LOC'",
)
un(
    "iob2_wrong_columns",
    "Paris\n2\tsleeps\tO\tx\n\n",
    f"{UN}:1: index<TAB>token<TAB>tag, token<TAB>tag or token tag, found 1 field(s)",
)
un(
    "iob2_empty_token",
    "1\t\tB-LOC\n2\tsleeps\tO\n\n",
    f"{UN}:1: a token before its tag, found an empty field",
)
un(
    "iob2_unknown_tag_in_data_stats",
    "1\tParis\tB-MISC\n\n",
    f"{UN}:1: {NER_TAGS}, found 'B-MISC'",
    args=STATS_UNER,
)
un(
    "ok_iob2_i_after_o_counted",
    "1\tin\tO\n2\tParis\tI-LOC\n\n",
    None,
    args=STATS_UNER,
    about="I- after O: accepted as seqeval does, and counted in a warning",
    shows="1 I- tag(s) in 1 sentence(s) continue no entity",
)

# ---------------------------------------------------------------- parallel files (Tatoeba, BUCC, plain pairs)
TAT_XX, TAT_EN = "tatoeba/tatoeba.swh-eng.swh", "tatoeba/tatoeba.swh-eng.eng"
SCORE_TAT = "score tatoeba --predictions {R}/p.txt --language sw --data-dir {R}"


def tat(
    name: str, xx: str, en: str, expect: str | None, pred: str = "0\n1\n", args: str = SCORE_TAT, **kw: str
) -> None:
    case(name, {TAT_XX: xx, TAT_EN: en, "p.txt": pred}, args, expect, **kw)


tat(
    "tatoeba_different_lengths",
    "a\nb\nc\n",
    "A\nB\n",
    f"{{R}}/{TAT_EN}:3: as many lines as its pair file (3), found 2",
)
tat(
    "tatoeba_blank_line_inside",
    "a\n\nb\n",
    "A\nB\nC\n",
    f"{{R}}/{TAT_XX}:2: a sentence on every line (a blank line is never a sentence pair)",
    pred="0\n1\n2\n",
)
tat("tatoeba_zero_byte_files", "", "", f"{{R}}/{TAT_XX}:1: one sentence per line, found no sentence", pred="")
tat(
    "tatoeba_one_empty_line",
    "\n",
    "\n",
    f"{{R}}/{TAT_XX}:1: one sentence per line, found no sentence",
    pred="0\n",
)
tat(
    "tatoeba_different_lengths_in_evaluate",
    "a\nb\nc\n",
    "A\nB\n",
    f"{{R}}/{TAT_EN}:3: as many lines as its pair file (3), found 2",
    args="evaluate --task tatoeba --model {M} --languages sw --data-dir {R} --out {R}/out",
)
tat(
    "ok_tatoeba_trailing_blank_lines",
    "a\nb\n\n\n\n",
    "A\nB\n\n\n\n",
    None,
    about="trailing blank lines are dropped, never pairs",
    shows='"n": 2',
)
BUCC = "bucc2018/de-en.training"


def bucc(
    name: str, de: str, en: str, gold: str, expect: str | None, pred: str = "d1\te1\n", **kw: str
) -> None:
    de += "d9\tTschüss\n"  # a distractor without gold: a mining corpus
    case(
        name,
        {f"{BUCC}.de": de, f"{BUCC}.en": en, f"{BUCC}.gold": gold, "p.txt": pred},
        "score bucc2018 --predictions {R}/p.txt --language de --data-dir {R}",
        expect,
        **kw,
    )


bucc(
    "bucc_empty_sentence",
    "d1\tHallo\nd2\t\n",
    "e1\tHello\n",
    "d1\te1\n",
    f"{{R}}/{BUCC}.de:2: a sentence after the id d2, found none",
)
bucc(
    "bucc_gold_unknown_id",
    "d1\tHallo\n",
    "e1\tHello\n",
    "d1\te9\n",
    f"{{R}}/{BUCC}.gold:1: ids that occur in the sentence files; e9 does not",
)
bucc(
    "bucc_empty_gold_file",
    "d1\tHallo\n",
    "e1\tHello\n",
    "",
    f"{{R}}/{BUCC}.gold:1: <xx-id><TAB><en-id> gold pairs, found none",
)
bucc(
    "bucc_prediction_unknown_id",
    "d1\tHallo\n",
    "e1\tHello\n",
    "d1\te1\n",
    "{R}/p.txt:1: ids that occur in the sentence files; e7 does not",
    pred="d1\te7\n",
)
case(
    "parallel_tsv_empty_field",
    {"tatoeba/sw.test.tsv": "src\ttgt\nhabari\thello\n\tbye\n", "p.txt": "0\n1\n"},
    SCORE_TAT,
    "{R}/tatoeba/sw.test.tsv:3: a sentence in column src, found an empty field (a blank is never a sentence pair)",
)

# ---------------------------------------------------------------- multiple choice
MC_H = "id,context,question,answer0,answer1,answer2,answer3,label\n"
SCORE_COSMOS = "score cosmosqa --predictions {R}/p.txt --language en --data-dir {R} --split dev"
case(
    "mc_label_out_of_range",
    {"cosmosqa/en.dev.csv": MC_H + "q1,C,Q,a,b,c,d,7\n", "p.txt": "0\n"},
    SCORE_COSMOS,
    "{R}/cosmosqa/en.dev.csv:2: a choice index 0..3 as the label, found 7",
)
case(
    "mc_empty_label",
    {"cosmosqa/en.dev.csv": MC_H + "q1,C,Q,a,b,c,d,\nq2,C,Q,a,b,c,d,2\n", "p.txt": "0\n2\n"},
    SCORE_COSMOS,
    "{R}/cosmosqa/en.dev.csv:2: a label in column label, found an empty field",
)
HS = [
    {"ind": 1, "ctx": "C", "endings": ["a", "b", "c", "d"], "label": "0"},
    {"ind": 2, "ctx": "C", "endings": ["a", "b"], "label": "1"},
]
case(
    "mc_choice_count_differs",
    {"hellaswag/en.dev.jsonl": "".join(json.dumps(r) + "\n" for r in HS), "p.txt": "0\n1\n"},
    "score hellaswag --predictions {R}/p.txt --language en --data-dir {R} --split dev",
    "{R}/hellaswag/en.dev.jsonl:2: 4 choices, as the first row has, found 2",
)


# ---------------------------------------------------------------- prediction files
def pred(name: str, p: str | bytes, expect: str | None, **kw: str) -> None:
    case(name, {"xnli/en.test.tsv": NLI_H + OK3, "p.txt": p}, SCORE_XNLI, expect, **kw)


pred(
    "pred_cls_wrong_count",
    "entailment\ncontradiction\n",
    "{R}/p.txt:2: one label per line for 3 examples, found 2 lines",
)
pred(
    "pred_cls_unknown_label", "entailment\ncontradiction\nmaybe\n", f"{{R}}/p.txt:3: {LABELS}, found 'maybe'"
)
pred(
    "pred_cls_invalid_utf8",
    b"entailment\ncontradiction\nneutr\xe9\n",
    "{R}/p.txt:3: UTF-8 text (undecodable byte at column 6)",
)
pred(
    "pred_cls_json_instead_of_lines",
    '{"0": "entailment"}\n{"1": "neutral"}\n{"2": "neutral"}\n',
    f'{{R}}/p.txt:1: {LABELS}, found \'{{"0": "entailment"}}\'',
)
pred(
    "ok_pred_cls_aliases",
    "e\nc\nn\n",
    None,
    about="the aliases the gold reader accepts (before: scored 0.00)",
    shows='"accuracy": 100.0',
)
XQ2 = squad(
    {**Q, "answers": [ANSWER]},
    {"id": "b", "question": "Country?", "answers": [{"text": "France", "answer_start": 24}]},
)


def qpred(name: str, p: str | bytes, expect: str) -> None:
    case(
        name,
        {"xquad/xquad.de.json": XQ2, "p.json": p},
        "score xquad --predictions {R}/p.json --language de --data-dir {R}",
        expect,
    )


qpred(
    "pred_qa_invalid_json",
    '{"a": "Paris", "b": "France"',
    "{R}/p.json:1: valid JSON (Expecting ',' delimiter, column 29)",
)
qpred(
    "pred_qa_lines_instead_of_json", "Paris\nFrance\n", "{R}/p.json:1: valid JSON (Expecting value, column 1)"
)
qpred(
    "pred_qa_non_string_answer",
    '{\n "a": "Paris",\n "b": ["France"]\n}\n',
    "{R}/p.json:3: an answer string for question 'b', found ['France']",
)
qpred(
    "pred_qa_unknown_id",
    '{\n "a": "Paris",\n "b": "France",\n "zz": "x"\n}\n',
    "{R}/p.json:4: answers to the 2 gold questions only, found 1 unknown question id(s), e.g. 'zz'",
)
qpred(
    "pred_qa_missing_id",
    '{"a": "Paris"}',
    "{R}/p.json:1: an answer for every question; 1 missing, e.g. ['b']",
)
qpred("pred_qa_json_list", '["Paris", "France"]', "{R}/p.json:1: a JSON object {question_id: answer_text}")
qpred(
    "pred_qa_invalid_utf8",
    b'{"a": "Paris", "b": "Fr\xe9nce"}',
    "{R}/p.json:1: UTF-8 text (undecodable byte at column 24)",
)
UNER2 = {"uner/en.test.iob2": "1\tParis\tB-LOC\n2\tsleeps\tO\n\n1\tHi\tO\n\n"}


def tpred(name: str, p: str, expect: str) -> None:
    case(
        name, {**UNER2, "p.txt": p}, "score uner --predictions {R}/p.txt --language en --data-dir {R}", expect
    )


tpred(
    "pred_tag_wrong_sentence_count",
    "B-LOC\nO\n\n",
    "{R}/p.txt:4: 2 sentences of tags (a blank line after each), found 1",
)
tpred(
    "pred_tag_wrong_tag_count", "B-LOC\n\nO\n\n", "{R}/p.txt:1: sentence 1 (en.test.iob2:1): 2 tags, found 1"
)
tpred("pred_tag_unknown_tag", "B-LOC\nO\n\nB-MISC\n\n", f"{{R}}/p.txt:4: {NER_TAGS}, found 'B-MISC'")
tpred(
    "pred_tag_two_columns",
    "Paris B-LOC\nO\n\nO\n\n",
    "{R}/p.txt:1: a single tag on the line, found 'Paris B-LOC'",
)
case(
    "pred_mc_out_of_range",
    {"cosmosqa/en.dev.csv": MC_H + "q1,C,Q,a,b,c,d,1\n", "p.txt": "4\n"},
    SCORE_COSMOS,
    "{R}/p.txt:1: a choice index 0..3, found '4'",
)
tat(
    "pred_tatoeba_index_out_of_range",
    "a\nb\n",
    "A\nB\n",
    "{R}/p.txt:2: a target line index in [0, 1], found '5'",
    pred="0\n5\n",
)
tat(
    "pred_tatoeba_invalid_utf8",
    "a\nb\n",
    "A\nB\n",
    "{R}/p.txt:2: UTF-8 text (undecodable byte at column 1)",
    pred=b"0\n\xff\n",
)  # type: ignore[arg-type]

# ---------------------------------------------------------------- run with a YAML spec
RUN = "run {R}/spec.yaml --out {R}/out"
SPEC = "name: corpus\nmodel: {M}\nintermediates: [none]\ntargets: [mini_nli]\n"
case(
    "yaml_unknown_key",
    {"spec.yaml": SPEC + "seedz: [1, 2]\n"},
    RUN,
    "{R}/spec.yaml:5: seedz: Extra inputs are not permitted",
)
case(
    "yaml_wrong_type",
    {"spec.yaml": SPEC + "seeds: one\n"},
    RUN,
    "{R}/spec.yaml:5: seeds: Input should be a valid list",
)
case(
    "yaml_python_object_tag",
    {"spec.yaml": "name: !!python/object/apply:os.system ['echo pwned']\n" + SPEC.split("\n", 1)[1]},
    RUN,
    "{R}/spec.yaml:1: valid YAML (could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system')",
)
case("yaml_syntax_error", {"spec.yaml": SPEC + "seeds: [1, 2\n"}, RUN, "{R}/spec.yaml:")
case(
    "yaml_config_out_of_range",
    {"spec.yaml": SPEC + "config:\n  train.batch_size: 0\n"},
    RUN,
    "{R}/spec.yaml:6: config train.batch_size: Input should be greater than 0 (got 0)",
)
case(
    "yaml_unknown_config_key",
    {"spec.yaml": SPEC + "config:\n  train.learning_rate: 0.1\n"},
    RUN,
    "{R}/spec.yaml:6: unknown config key 'train.learning_rate'",
)
case(
    "yaml_unknown_target",
    {"spec.yaml": SPEC.replace("mini_nli", "mini_nlii")},
    RUN,
    "{R}/spec.yaml:4: unknown task 'mini_nlii'",
)
case(
    "yaml_bad_training_file",
    {
        "spec.yaml": "name: corpus\nmodel: {M}\ndata_dir: {R}\nintermediates: [none]\ntargets: [xnli]\nlanguages: {xnli: [en]}\n",
        "mnli/en.train.tsv": NLI_H + OK3 + "x\ty\n",
        "mnli/en.dev.tsv": NLI_H + OK3,
    },
    RUN,
    "{R}/mnli/en.train.tsv:5: 3 fields (premise, hypothesis, label), found 2",
)

# ---------------------------------------------------------------- evaluate ({RUN}: a finished tiny MNLI run)
EVAL_XNLI = "evaluate --task xnli --run {RUN} --languages de --data-dir {R} --out {R}/out"
case(
    "evaluate_bad_test_file",
    {"xnli/de.test.tsv": NLI_H + "Ein Mann.\tJemand.\tvielleicht\n"},
    EVAL_XNLI,
    f"{{R}}/xnli/de.test.tsv:2: {LABELS}, found 'vielleicht'",
)
case(
    "evaluate_header_only_test_file",
    {"xnli/de.test.tsv": NLI_H},
    EVAL_XNLI,
    "{R}/xnli/de.test.tsv:2: rows after the header line, found none",
)
case(
    "evaluate_run_is_not_a_run",
    {"norun/notes.txt": "x\n"},
    "evaluate --task xnli --run {R}/norun --data-dir {R} --out {R}/out",
    "{R}/norun: no finished encoder (encoder/model.safetensors) in this run",
)
case(
    "evaluate_run_result_truncated",
    {"broken/result.json": '{"schema": 2, "kind": "tra'},
    "evaluate --task xnli --run {R}/broken --data-dir {R} --out {R}/out",
    "{R}/broken/result.json: a complete run result (the file is truncated or damaged",
)
