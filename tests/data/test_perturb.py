"""Seeded perturbations: determinism, rates, grapheme safety in many scripts, and example-level invariants."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import regex

from xstilts.data.perturb import KINDS, Perturbation, perturb_example, perturb_examples, perturb_text
from xstilts.data.schema import ClassificationExample, MultipleChoiceExample, QAExample, TaggingExample

LATIN = "The quick brown fox jumps over the lazy dog"
MIXED = "Hello, world! Crème brûlée — Tiếng Việt\tภาษาไทย  क्षत्रिय\na👩\u200d👩\u200d👧b 🇫🇷 👍🏽"
HARD = [
    "cafe\u0301 ete\u0301 re\u0301sume\u0301",  # e + combining acute, not NFC
    "क्षत्रिय हिन्दी स्वतंत्रता",
    "ภาษาไทย ที่นี่ น้ำใจ",
    "hi👩\u200d👩\u200d👧yo fam👩\u200d👩\u200d👧ily",
    "go🇫🇷fr 🇫🇷🇩🇪ab",
    "ok👍🏽ay th👍🏽umbs",
    "Tiếng Việt Ελληνικά ёлка",
]
SRC = Path(__file__).resolve().parents[2] / "src"


def clusters(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def words(text: str) -> list[str]:
    return text.split()


def symbols(text: str) -> Counter[str]:
    """The clusters a typo never touches: those that start with neither a letter nor a digit."""
    return Counter(c for c in clusters(text) if unicodedata.category(c[0])[0] not in "LN")


# ---------------------------------------------------------------- spec


@pytest.mark.parametrize(
    ("kind", "rate", "seed"),
    [
        ("typo", 0.1, 0),
        ("", 0.1, 0),
        ("swap", -0.1, 0),
        ("swap", 1.5, 0),
        ("swap", float("nan"), 0),
        ("swap", "0.3", 0),
        ("swap", True, 0),
        ("swap", 0.1, "1"),
        ("swap", 0.1, 1.5),
    ],
)
def test_bad_spec_raises_value_error(kind: object, rate: object, seed: object) -> None:
    with pytest.raises(ValueError, match="perturbation"):
        Perturbation(kind, rate, seed)  # type: ignore[arg-type]


def test_spec_is_frozen_and_normalised() -> None:
    spec = Perturbation("drop", 1, 3)
    assert spec.rate == 1.0 and isinstance(spec.rate, float)
    assert spec.as_meta() == {"kind": "drop", "rate": 1.0, "seed": 3}
    with pytest.raises(AttributeError):
        spec.rate = 0.5  # type: ignore[misc]


# ---------------------------------------------------------------- determinism and rates


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic_across_calls_and_sensitive_to_seed_and_key(kind: str) -> None:
    text = " ".join([MIXED, *HARD] * 3 + ["a, b. c! d? (e); f: g-h"] * 4)
    spec = Perturbation(kind, 0.5, 7)  # type: ignore[arg-type]
    first = perturb_text(text, spec, "ex-1")
    assert perturb_text(text, spec, "ex-1") == first
    others = {perturb_text(text, spec, "ex-2"), perturb_text(text, Perturbation(kind, 0.5, 8), "ex-1")}  # type: ignore[arg-type]
    assert first not in others


def test_same_output_in_another_process_with_another_hash_seed() -> None:
    cases = [(kind, text) for kind in KINDS for text in [MIXED, *HARD]]
    here = [perturb_text(text, Perturbation(kind, 0.5, 11), "k") for kind, text in cases]  # type: ignore[arg-type]
    code = (
        "import json, sys\n"
        "from xstilts.data.perturb import Perturbation, perturb_text\n"
        "cases = json.loads(sys.stdin.read())\n"
        "print(json.dumps([perturb_text(t, Perturbation(k, 0.5, 11), 'k') for k, t in cases]))\n"
    )
    outputs = []
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(SRC)}
        done = subprocess.run(
            [sys.executable, "-c", code], input=json.dumps(cases), capture_output=True, text=True, env=env, check=True
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == here
    assert outputs[1] == here


@pytest.mark.parametrize("kind", KINDS)
def test_rate_zero_is_identity(kind: str) -> None:
    for text in [LATIN, MIXED, *HARD[1:], "", "   ", "\t a  \n"]:
        assert perturb_text(text, Perturbation(kind, 0.0, 5), "k") == text  # type: ignore[arg-type]
    # non-NFC input comes back as its NFC form, as at every rate
    assert perturb_text(HARD[0], Perturbation(kind, 0.0), "k") == unicodedata.normalize("NFC", HARD[0])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["swap", "drop", "insert", "case"])
def test_rate_one_changes_every_latin_word(kind: str) -> None:
    for seed in range(5):
        out = perturb_text(LATIN, Perturbation(kind, 1.0, seed), "k")  # type: ignore[arg-type]
        pairs = list(zip(words(LATIN), words(out), strict=True))
        assert all(a != b for a, b in pairs), (kind, seed, out)


VOCAB = ["house", "river", "Mountain", "table", "quickly", "Über", "naïve", "garden", "winter", "seven"]


@pytest.mark.parametrize("kind", ["swap", "drop", "insert", "case"])
def test_rate_is_respected_and_noise_is_nested(kind: str) -> None:
    text = " ".join(VOCAB[i % len(VOCAB)] for i in range(2000))
    low = perturb_text(text, Perturbation(kind, 0.2, 1), "k")  # type: ignore[arg-type]
    mid = perturb_text(text, Perturbation(kind, 0.3, 1), "k")  # type: ignore[arg-type]
    changed = [a != b for a, b in zip(words(text), words(mid), strict=True)]
    assert 0.25 <= sum(changed) / len(changed) <= 0.35
    # a word changed at p=0.2 is changed the same way at p=0.3
    for orig, a, b in zip(words(text), words(low), words(mid), strict=True):
        if a != orig:
            assert a == b


def test_punct_rate_counts_each_mark() -> None:
    text = " ".join(["word, other. yes! no?"] * 500)
    out = perturb_text(text, Perturbation("punct", 0.3, 2), "k")
    kept = sum(ch in ",.!?" for ch in out) / sum(ch in ",.!?" for ch in text)
    assert 0.65 <= kept <= 0.75


# ---------------------------------------------------------------- grapheme safety


@pytest.mark.parametrize("kind", ["swap", "drop", "insert"])
def test_graphemes_are_never_split(kind: str) -> None:
    for text in [MIXED, *HARD]:
        nfc = unicodedata.normalize("NFC", text)
        for seed in range(20):
            out = perturb_text(text, Perturbation(kind, 1.0, seed), "k")  # type: ignore[arg-type]
            assert unicodedata.is_normalized("NFC", out)
            assert set(clusters(out)) <= set(clusters(nfc)), (text, seed, out)
            assert not any(unicodedata.category(c[0]).startswith("M") for c in clusters(out))
            # the clusters that are not letters (emoji, flags, punctuation) are all still there
            assert symbols(out) == symbols(nfc)


def test_decomposed_accent_moves_as_one_unit() -> None:
    text = "cafe\u0301 ete\u0301 re\u0301sume\u0301"
    for seed in range(20):
        out = perturb_text(text, Perturbation("swap", 1.0, seed), "k")
        assert out.count("é") == 4 and "\u0301" not in out
        assert sorted(out.replace(" ", "")) == sorted(unicodedata.normalize("NFC", text).replace(" ", ""))


@pytest.mark.parametrize("text", ["ภาษาไทย ที่นี่ น้ำใจ", "क्षत्रिय हिन्दी", "Über naïve straße", "hi👩\u200d👩\u200d👧yo"])
def test_insert_repeats_a_cluster_of_the_same_word(text: str) -> None:
    for seed in range(20):
        out = perturb_text(text, Perturbation("insert", 1.0, seed), "k")
        for before, after in zip(words(text), words(out), strict=True):
            extra = Counter(clusters(after)) - Counter(clusters(before))
            assert sum(extra.values()) == 1 and set(extra) <= set(clusters(before)), (before, after)
    thai = perturb_text("ภาษาไทย ที่นี่", Perturbation("insert", 1.0, 3), "k")
    assert not regex.search(r"\p{Latin}", thai)


def test_drop_never_empties_a_word() -> None:
    text = "a I o 7 ก é👍🏽 🇫🇷 ab"
    out = perturb_text(text, Perturbation("drop", 1.0, 0), "k")
    assert words(out)[:-1] == words(text)[:-1]
    assert words(out)[-1] in {"a", "b"}


# ---------------------------------------------------------------- the other kinds


def test_diacritics_strip_latin_greek_cyrillic_accents() -> None:
    spec = Perturbation("diacritics", 1.0)
    assert perturb_text("Crème brûlée", spec) == "Creme brulee"
    assert perturb_text("Tiếng Việt", spec) == "Tieng Viet"
    assert perturb_text("cafe\u0301 ÉTÉ", spec) == "cafe ETE"
    assert perturb_text("Ελληνικά ёлка", spec) == "Ελληνικα елка"
    # letters without a canonical decomposition are letters of their own
    assert perturb_text("øl łódź đường", spec) == "øl łodz đuong"


@pytest.mark.parametrize(
    "text",
    [
        "क्षत्रिय हिन्दी स्वतंत्रता",  # Devanagari: vowel signs and virama are marks
        "ภาษาไทย ที่นี่ น้ำใจ",  # Thai: vowels and tone marks
        "كَتَبَ الوَلَدُ",  # Arabic harakat
        "שָׁלוֹם",  # Hebrew niqqud
        "👩\u200d👩\u200d👧 🇫🇷 👍🏽 x\u20dd",  # emoji; an enclosing mark (Me) on a Latin letter
    ],
)
def test_diacritics_leave_other_scripts_alone(text: str) -> None:
    assert perturb_text(text, Perturbation("diacritics", 1.0)) == unicodedata.normalize("NFC", text)


def test_punct_removes_unicode_punctuation() -> None:
    spec = Perturbation("punct", 1.0)
    assert perturb_text("Hello, world!", spec) == "Hello world"
    assert perturb_text("«Bonjour», dit-il.", spec) == "Bonjour ditil"
    assert perturb_text("你好，世界。", spec) == "你好世界"
    assert perturb_text("price $5 + 3% tax", spec) == "price $5 + 3 tax"  # symbols (S*) stay


def test_case_is_a_no_op_for_caseless_scripts() -> None:
    text = "ภาษาไทย 中文 क्षत्रिय العربية 123"
    assert perturb_text(text, Perturbation("case", 1.0)) == text
    out = perturb_text("hello WORLD Title", Perturbation("case", 1.0, 4))
    for before, after in zip(words("hello WORLD Title"), words(out), strict=True):
        assert after != before and after.lower() == before.lower()


@pytest.mark.parametrize("kind", KINDS)
def test_whitespace_is_preserved_exactly(kind: str) -> None:
    text = "  Leading\ttabs  and  double spaces\nnew lines\r\nCRLF\u00a0nbsp\u3000ideographic trailing \n"
    out = perturb_text(text, Perturbation(kind, 1.0, 9), "k")  # type: ignore[arg-type]
    assert regex.findall(r"\s+", out) == regex.findall(r"\s+", text)
    assert regex.match(r"\s*", out).group() == "  " and out.endswith(" \n")  # type: ignore[union-attr]


# ---------------------------------------------------------------- examples


SPECS = [Perturbation(kind, 1.0, seed) for kind in KINDS for seed in (0, 1)]  # type: ignore[arg-type]


def test_classification_and_multiple_choice_fields() -> None:
    pair = ClassificationExample("c1", "The quick brown fox", "jumps over the lazy dog", "entailment", {"genre": "x"})
    single = ClassificationExample("c2", "Some single sentence here", None, None)
    mc = MultipleChoiceExample("m1", "A long context sentence", "What question now", ["first choice", "second choice"], 1)
    spec = Perturbation("swap", 1.0, 3)
    for ex in (pair, single, mc):
        before = copy.deepcopy(ex)
        new = perturb_example(ex, spec)
        assert ex == before  # not mutated
        assert type(new) is type(ex) and new.id == ex.id
        assert new.meta["perturbation"] == {"kind": "swap", "rate": 1.0, "seed": 3}
        assert "perturbation" not in ex.meta
    new_pair = perturb_example(pair, spec)
    assert new_pair.text_a != pair.text_a and new_pair.text_b != pair.text_b
    assert new_pair.label == "entailment" and new_pair.meta["genre"] == "x"
    assert perturb_example(single, spec).text_b is None
    new_mc = perturb_example(mc, spec)
    assert new_mc.context != mc.context and new_mc.question != mc.question
    assert all(a != b for a, b in zip(new_mc.choices, mc.choices, strict=True))
    assert new_mc.label == 1 and new_mc.choices is not mc.choices
    # each field has its own draws: identical texts in two fields need not get the same noise
    twin = perturb_example(ClassificationExample("t", LATIN, LATIN, None), spec)
    assert twin.text_a != twin.text_b


@pytest.mark.parametrize("spec", SPECS)
def test_tagging_keeps_count_and_tags_and_never_empties_a_token(spec: Perturbation) -> None:
    ex = TaggingExample("t1", ["Hello", ",", "Crème", "a", "!", "ภาษาไทย", "👩\u200d👩\u200d👧", "--", "U.S."], list("OOBIOOOOB"))
    before = copy.deepcopy(ex)
    new = perturb_example(ex, spec)
    assert ex == before
    assert len(new.tokens) == len(ex.tokens) and new.tags == ex.tags and new.tags is not ex.tags
    assert all(new.tokens)
    assert new.tokens[1] == "," and new.tokens[4] == "!" and new.tokens[7] == "--"  # would be emptied: kept
    if spec.kind in {"drop", "swap"}:
        assert new.tokens[3] == "a"  # one letter: nothing to swap, and never dropped


def qa_checks(ex: QAExample, new: QAExample) -> None:
    assert len(new.answers) == len(ex.answers)
    for (text, _), (new_text, start) in zip(ex.answers, new.answers, strict=True):
        assert new_text == text
        assert new.context[start : start + len(text)] == text


CONTEXT = "Paris is big. The city of Paris, in France, has many bridges and Paris has museums at Paris"


def qa_example() -> QAExample:
    first = CONTEXT.index("Paris")
    second = CONTEXT.index("Paris", first + 1)
    third = CONTEXT.index("Paris has")
    last = CONTEXT.rindex("Paris")
    answers = [
        ("Paris", first),  # at position 0
        ("Paris", second),  # same text elsewhere
        ("city of Paris, in France", CONTEXT.index("city")),  # overlaps the second
        ("Paris", second),  # a repeat
        ("Paris has museums", third),
        ("Paris", last),  # at the very end
    ]
    assert answers[0][1] == 0 and last + len("Paris") == len(CONTEXT)
    return QAExample("q1", CONTEXT, "Where are the many bridges?", answers, {"src": "x"})


@pytest.mark.parametrize("spec", SPECS)
def test_qa_answer_spans_survive_with_recomputed_starts(spec: Perturbation) -> None:
    ex = qa_example()
    before = copy.deepcopy(ex)
    new = perturb_example(ex, spec)
    assert ex == before
    qa_checks(ex, new)
    assert new.meta == {"src": "x", "perturbation": spec.as_meta()}
    if spec.kind in {"swap", "drop", "insert", "case"}:
        assert new.context != ex.context and new.question != ex.question


def test_qa_starts_move_when_text_before_them_changes() -> None:
    ex = QAExample("q2", "Well, well, the answer is here, well!", "What?", [("answer", 16), ("here", 26)])
    new = perturb_example(ex, Perturbation("punct", 1.0))
    assert new.context == "Well well the answer is here well"
    assert new.answers == [("answer", 14), ("here", 24)]
    # an answer that holds punctuation keeps it
    ex = QAExample("q3", "Yes, it is U.S. policy, sadly.", "What?", [("U.S. policy,", 11)])
    new = perturb_example(ex, Perturbation("punct", 1.0))
    assert new.context == "Yes it is U.S. policy, sadly"
    qa_checks(ex, new)


@pytest.mark.parametrize("spec", SPECS)
def test_qa_in_other_scripts_and_span_inside_a_word(spec: Perturbation) -> None:
    context = "ภาษาไทยเป็นภาษาราชการ ของประเทศไทย และ क्षत्रिय हिन्दी"
    answers = [("ราชการ", context.index("ราชการ")), ("ประเทศ", context.index("ประเทศ")), ("हिन्दी", context.index("हिन्दी"))]
    ex = QAExample("q4", context, "ภาษาอะไร", answers)
    new = perturb_example(ex, spec)
    qa_checks(ex, new)
    assert unicodedata.is_normalized("NFC", new.context)


def test_qa_unanswerable_and_unlocated_answers() -> None:
    spec = Perturbation("swap", 1.0, 2)
    ex = QAExample("q5", LATIN, "What jumps?", [])
    new = perturb_example(ex, spec)
    assert new.answers == [] and new.context != LATIN and new.is_impossible
    # a reader's unlocated answer (start -1) cannot be protected; it is passed through as it was
    ex = QAExample("q6", LATIN, "What jumps?", [("fox", LATIN.index("fox")), ("wolf", -1)])
    new = perturb_example(ex, spec)
    assert new.answers[1] == ("wolf", -1)
    qa_checks(QAExample("q6", LATIN, "", ex.answers[:1]), QAExample("q6", new.context, "", new.answers[:1]))


def test_perturb_examples_keys_by_id() -> None:
    exs = [ClassificationExample(f"id{i}", LATIN, None, None) for i in range(4)]
    spec = Perturbation("drop", 0.5, 0)
    out = perturb_examples(exs, spec)
    assert out == [perturb_example(ex, spec) for ex in exs]
    assert out[1:3] == perturb_examples(exs[1:3], spec)  # a subset gets the same noise
    assert len({ex.text_a for ex in out}) > 1  # same text, different ids, different noise
    # an explicit key replaces the id
    assert perturb_example(exs[0], spec, key="k").text_a == perturb_example(exs[1], spec, key="k").text_a


def test_unknown_example_type_raises() -> None:
    with pytest.raises(TypeError, match="cannot perturb"):
        perturb_example(object(), Perturbation("swap", 0.5))  # type: ignore[type-var]
