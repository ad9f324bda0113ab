"""QA metrics: hand-computed cases, then every official-script number in the shared test vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xstilts.formats.qa_metric import (
    mixed_segmentation,
    mlqa_scores,
    normalize_mlqa,
    normalize_squad,
    read_squad_dataset,
    read_squad_gold,
    squad_v1_scores,
    squad_v2_scores,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
VECTORS = SHARED / "testvectors"


# --------------------------------------------------------------------------- SQuAD v1.1 by hand


def test_squad_normalisation_drops_ascii_punct_and_english_articles() -> None:
    assert normalize_squad("The  Cat, a dog & AN owl!") == "cat dog owl"
    # Only ASCII punctuation goes: guillemets and CJK brackets stay.
    assert normalize_squad("«Paris»") == "«paris»"


def test_squad_v1_em_f1_max_over_golds() -> None:
    gold = {"q1": ["Denver Broncos", "the Broncos"], "q2": ["in 1990"]}
    preds = {"q1": "Broncos", "q2": "1990 in"}
    # q1: EM 1 (vs "the Broncos"), F1 1. q2: EM 0, F1 1 (same bag of tokens).
    assert squad_v1_scores(gold, preds) == pytest.approx({"exact_match": 50.0, "f1": 100.0})


def test_squad_v1_partial_f1() -> None:
    # pred 3 tokens, gold 2, overlap 1: P=1/3, R=1/2, F1=0.4
    assert squad_v1_scores({"q": ["big red"]}, {"q": "a big blue dog"})["f1"] == pytest.approx(40.0)


def test_squad_v1_empty_and_missing_prediction_score_zero(capsys: pytest.CaptureFixture[str]) -> None:
    gold = {"q1": ["Paris"], "q2": ["Rome"], "q3": ["Oslo"]}
    scores = squad_v1_scores(gold, {"q1": "Paris", "q2": ""})
    assert scores == pytest.approx({"exact_match": 100 / 3, "f1": 100 / 3})
    assert "Unanswered question q3 will receive score 0." in capsys.readouterr().err


def test_squad_v1_unicode_punctuation_is_kept() -> None:
    # v1.1 keeps «», so the prediction with guillemets is not an exact match and shares no token.
    assert squad_v1_scores({"q": ["Paris"]}, {"q": "«Paris»"}) == {"exact_match": 0.0, "f1": 0.0}


# --------------------------------------------------------------------------- MLQA by hand


def test_mlqa_removes_unicode_punctuation() -> None:
    assert normalize_mlqa("«Paris»", "en") == "paris"
    assert normalize_mlqa("「北京」。", "zh") == "北 京"
    assert mlqa_scores({"q": ["Paris"]}, {"q": "«Paris»"}, "en") == {"exact_match": 100.0, "f1": 100.0}


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("en", "The house of an owl", "house of owl"),
        ("es", "Los perros y unas casas", "perros y casas"),
        ("de", "Die Katze und dem Hund eines Mannes", "katze und hund mannes"),
        ("vi", "những con mèo của tôi", "con mèo tôi"),
        ("hi", "एक the घर", "एक the घर"),  # no articles removed for Hindi
        ("zh", "the 猫", "the 猫"),  # nor for Chinese
        # Arabic: every occurrence of "ال" is replaced by a space, even inside a word.
        ("ar", "الكتاب", "كتاب"),
        ("ar", "في المدرسة", "في مدرسة"),
        ("ar", "قال", "ق"),
    ],
)
def test_mlqa_articles_per_language(lang: str, text: str, expected: str) -> None:
    assert normalize_mlqa(text, lang) == expected


def test_mlqa_english_articles_not_removed_in_other_languages() -> None:
    assert normalize_mlqa("the la der", "en") == "la der"
    assert normalize_mlqa("the la der", "es") == "the der"
    assert normalize_mlqa("the la der", "de") == "the la"


def test_mixed_segmentation_splits_cjk_keeps_latin_runs() -> None:
    assert mixed_segmentation("北京2008年Olympic Games，") == [
        "北",
        "京",
        "2008",
        "年",
        "Olympic",
        "Games",
        "，",
    ]


def test_mlqa_chinese_scored_by_characters() -> None:
    # gold 北京大学 -> 4 chars, pred 北京 -> 2 chars, overlap 2: P=1, R=1/2, F1=2/3
    scores = mlqa_scores({"q": ["北京大学"]}, {"q": "北京"}, "zh")
    assert scores == pytest.approx({"exact_match": 0.0, "f1": 200 / 3})
    # Under SQuAD v1.1 each side is a single token, so there is no partial credit.
    assert squad_v1_scores({"q": ["北京大学"]}, {"q": "北京"})["f1"] == 0.0


def test_mlqa_empty_and_missing_prediction() -> None:
    scores = mlqa_scores({"q1": ["Berlin"], "q2": ["Bonn"]}, {"q1": ""}, "de")
    assert scores == {"exact_match": 0.0, "f1": 0.0}


def test_mlqa_unknown_language_raises() -> None:
    with pytest.raises(ValueError, match="th"):
        mlqa_scores({"q": ["x"]}, {"q": "x"}, "th")


def test_thai_answer_under_squad_v1() -> None:
    # Thai has no spaces between words: one whitespace token each side, so F1 is all or nothing.
    gold = {"q1": ["กรุงเทพมหานคร"], "q2": ["ประเทศ ไทย"]}
    preds = {"q1": "กรุงเทพ", "q2": "ไทย"}
    # q2: P=1, R=1/2, F1=2/3
    assert squad_v1_scores(gold, preds) == pytest.approx({"exact_match": 0.0, "f1": 100 / 3})


# --------------------------------------------------------------------------- SQuAD 2.0 by hand


def _v2_dataset(questions: list[tuple[str, list[str]]]) -> dict[str, Any]:
    qas = [
        {"id": qid, "answers": [{"text": t, "answer_start": 0} for t in answers]}
        for qid, answers in questions
    ]
    return {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}]}


def test_squad_v2_no_answer_handling_without_probs() -> None:
    data = _v2_dataset([("a", ["red car"]), ("b", []), ("c", [])])
    preds = {"a": "red", "b": "", "c": "something"}
    out = squad_v2_scores(data, preds)
    # a: EM 0, F1 2*1*0.5/1.5 = 2/3. b: '' vs [''] -> 1/1. c: non-empty vs [''] -> 0/0.
    assert out == pytest.approx(
        {
            "exact": 100 / 3,
            "f1": (2 / 3 + 1) / 3 * 100,
            "total": 3,
            "HasAns_exact": 0.0,
            "HasAns_f1": 200 / 3,
            "HasAns_total": 1,
            "NoAns_exact": 50.0,
            "NoAns_f1": 50.0,
            "NoAns_total": 2,
        }
    )
    assert "best_f1" not in out


def test_squad_v2_gold_normalising_to_empty_is_dropped() -> None:
    # "The" normalises to '' and is dropped; the gold list becomes [''] although the question has answers.
    out = squad_v2_scores(_v2_dataset([("a", ["The"])]), {"a": ""})
    assert out["exact"] == 100.0 and out["HasAns_total"] == 1


def test_squad_v2_threshold_search_hand_example() -> None:
    data = _v2_dataset([("a", ["x"]), ("b", ["y z"]), ("c", []), ("d", [])])
    preds = {"a": "x", "b": "y", "c": "w", "d": ""}
    probs = {"a": 0.1, "b": 0.3, "c": 0.2, "d": 0.4}
    # raw EM: a 1, b 0, c 0, d 1.  raw F1: a 1, b 2/3, c 0, d 1.
    # Start: answer nothing -> 2 no-answer right. Rising prob: a(+1)=3 best@0.1, c(-1)=2, b(EM +0 / F1 +2/3)
    # = 2 / 2.667, d (+0) unchanged. Best EM 3/4 at 0.1; best F1 3/4 at 0.1 (2.667 < 3).
    out = squad_v2_scores(data, preds, probs)
    assert out["best_exact"] == pytest.approx(75.0) and out["best_exact_thresh"] == 0.1
    assert out["best_f1"] == pytest.approx(75.0) and out["best_f1_thresh"] == 0.1
    # Default na_prob_thresh=1.0: nothing is forced to no-answer.
    assert out["exact"] == pytest.approx(50.0)
    # With thresh 0.25: b, d (prob > .25) become no-answer: b (has ans) -> 0, d -> 1.
    low = squad_v2_scores(data, preds, probs, na_prob_thresh=0.25)
    assert low["exact"] == pytest.approx(50.0) and low["f1"] == pytest.approx(50.0)


def test_squad_v2_threshold_needs_strict_improvement() -> None:
    # Answering b adds 1 and answering c (wrong no-answer) removes 1, then a adds 1: ties keep the earlier thresh.
    data = _v2_dataset([("a", ["x"]), ("b", ["y"]), ("c", [])])
    preds = {"a": "x", "b": "y", "c": "w"}
    out = squad_v2_scores(data, preds, {"b": 0.2, "c": 0.3, "a": 0.5})
    # start 1; b -> 2 (best @0.2); c -> 1; a -> 2 (not > 2) -> thresh stays 0.2
    assert out["best_exact"] == pytest.approx(200 / 3) and out["best_exact_thresh"] == 0.2


def test_squad_v2_missing_prediction_raises() -> None:
    with pytest.raises(ValueError, match="no prediction"):
        squad_v2_scores(_v2_dataset([("a", ["x"]), ("b", [])]), {"a": "x"})


def test_read_squad_gold_refuses_duplicate_ids(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(_v2_dataset([("a", ["x"]), ("a", ["y"])])), encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate"):
        read_squad_gold(path)


# --------------------------------------------------------------------------- official test vectors


def _qa_cases() -> list[Any]:
    expected = VECTORS / "qa" / "expected.json"
    if not expected.is_file():
        return [pytest.param(None, id="no-shared-testvectors")]
    cases = json.loads(expected.read_text(encoding="utf-8"))
    return [pytest.param(c, id=f"{c['definition']}-{c['language']}") for c in cases]


def _resolve(rel: str) -> Path:
    """Gold paths are written relative to the repo (``../shared/...``) or to the vectors folder."""
    return REPO / rel if rel.startswith("..") else VECTORS / rel


@pytest.mark.realdata
@pytest.mark.parametrize("case", _qa_cases())
def test_qa_testvector(case: dict[str, Any] | None) -> None:
    if case is None:
        pytest.skip(f"shared test vectors not found at {VECTORS}")
    gold_path = _resolve(case["gold"])
    if not gold_path.is_file():
        pytest.skip(f"gold file {gold_path} not found")
    preds = json.loads((VECTORS / case["predictions"]).read_text(encoding="utf-8"))
    definition = case["definition"]
    if definition == "squad_v2.0":
        na_probs = json.loads((VECTORS / case["na_probs"]).read_text(encoding="utf-8"))
        out = squad_v2_scores(read_squad_dataset(gold_path), preds, na_probs)
        keys = [k for k in case if k not in {"gold", "predictions", "na_probs", "definition", "language"}]
        assert set(keys) == set(out)
    else:
        gold = read_squad_gold(gold_path)
        out = (
            squad_v1_scores(gold, preds)
            if definition == "squad_v1.1"
            else mlqa_scores(gold, preds, case["language"])
        )
        keys = ["exact_match", "f1"]
    for key in keys:
        assert out[key] == pytest.approx(case[key], abs=1e-6), key
