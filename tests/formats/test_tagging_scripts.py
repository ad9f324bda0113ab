"""Tagging words of whitespace-free scripts as written (``train.tokenize_words=as_written``).

Why: fed one by one with a leading space (XTREME's way, the default), every Japanese, Chinese or Thai
word becomes ``▁word``, text a SentencePiece model never saw. These tests pin the alignment of subwords
back to words on hand cases in ja, zh and th: one label position per word, mixed scripts, a subword
fused across a word boundary (counted, never silent), truncation, and the default left exactly as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from tests.conftest import require_shared_data
from xstilts.config import RunConfig
from xstilts.data.load import Split
from xstilts.data.schema import TaggingExample
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.formats import features
from xstilts.formats.base import get_format
from xstilts.formats.scripts import is_whitespace_free, joins, script_of, written_text
from xstilts.train.phase import train_run

LABELS = ["ADP", "NOUN", "PROPN", "PUNCT", "VERB", "X"]
JA = TaggingExample("ja", ["米国", "で", "デジタル", "へ", "の", "移行", "が"], ["PROPN", "ADP", "NOUN", "ADP", "ADP", "NOUN", "ADP"])
ZH = TaggingExample("zh", ["我", "喜欢", "Python", "编程", "。"], ["X", "VERB", "PROPN", "NOUN", "PUNCT"])
TH = TaggingExample("th", ["การ", "เปลี่ยน", "ไป", "ใช้", "ระบบ"], ["X", "VERB", "VERB", "VERB", "NOUN"])
EN = TaggingExample("en", ["The", "transition", "is", "peaceful", "."], ["X", "NOUN", "VERB", "X", "PUNCT"])

#: a SentencePiece-like Unigram vocabulary; ``への`` outscores ``へ`` + ``の``, so it fuses two words
PIECES = {
    "▁": -2.0, "米国": -1.0, "で": -1.0, "デジタル": -1.0, "への": -1.0, "へ": -5.0, "の": -5.0, "▁の": -4.0,
    "移行": -1.0, "が": -1.0, "我": -1.0, "喜欢": -1.0, "编程": -1.0, "。": -1.0, "▁Python": -1.0,
    "การ": -1.0, "เปลี่ยน": -1.0, "ไป": -1.0, "ใช้": -1.0, "ระบบ": -1.0,
    "▁The": -1.0, "▁transition": -1.0, "▁is": -1.0, "▁peace": -1.0, "ful": -1.0, ".": -1.0,
}  # fmt: skip


def unigram_tokenizer() -> PreTrainedTokenizerFast:
    """A tiny Unigram tokenizer with a ``Metaspace`` pre-tokenizer that does not split, like the embedded model's."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = [(s, 0.0) for s in specials] + list(PIECES.items())
    tok = Tokenizer(models.Unigram(vocab, unk_id=3))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", cls_token="<s>", sep_token="</s>"
    )


@pytest.fixture(scope="module")
def unigram() -> PreTrainedTokenizerFast:
    return unigram_tokenizer()


def pieces_by_word(tokenizer: Any, feat: dict[str, Any]) -> list[tuple[str, int]]:
    """(subword, word) for each labelled position: the word's first subword."""
    tokens = tokenizer.convert_ids_to_tokens(feat["input_ids"])
    return [(t, w) for t, w in zip(tokens, feat["word_ids"], strict=True) if w >= 0]


def assert_one_position_per_word(ex: TaggingExample, feat: dict[str, Any]) -> None:
    positions = [w for w in feat["word_ids"] if w >= 0]
    assert positions == list(range(len(ex.tokens)))
    labelled = [LABELS[lab] for lab in feat["labels"] if lab != -100]
    assert labelled == ex.tags
    for w, lab in zip(feat["word_ids"], feat["labels"], strict=True):
        assert (lab == -100) == (w < 0)


# --------------------------------------------------------------------------- scripts


def test_scripts_written_without_spaces_are_recognised() -> None:
    assert [script_of(c) for c in "米でデกລកကཀ"] == ["Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan"]
    assert [script_of(c) for c in "aЖ한अ1."] == [None] * 6
    assert script_of("𠀋") == "Han" and script_of("、") == "CJK punctuation" and script_of("，") == "CJK punctuation"
    assert is_whitespace_free("移行") and is_whitespace_free("2016年") and not is_whitespace_free("Tokyo")
    assert not is_whitespace_free("2016") and not is_whitespace_free("한국")


def test_words_join_where_the_writing_puts_no_space() -> None:
    assert joins("米国", "で") and joins("」", "と") and joins("2016", "年") and joins("ระบบ", "“")
    assert not joins(".", ",") and not joins("東京", "Tokyo") and not joins("Python", "编程") and not joins("한국", "어")
    text, spans, joined = written_text(ZH.tokens)
    assert text == " 我喜欢 Python 编程。"
    assert [text[s:e] for s, e in spans] == ZH.tokens and joined == [False, True, False, False, True]
    text, spans, _ = written_text(ZH.tokens, spaced=frozenset({1}))
    assert text == " 我 喜欢 Python 编程。" and [text[s:e] for s, e in spans] == ZH.tokens
    assert written_text(EN.tokens)[0] == " " + " ".join(EN.tokens)


# --------------------------------------------------------------------------- alignment


def test_default_is_xtreme_words_one_by_one_with_a_space(unigram) -> None:
    fmt = get_format("tagging")
    (feat,) = fmt.featurize([JA], unigram, LABELS, 64, 0)
    assert fmt.featurize([JA], unigram, LABELS, 64, 0, tokenize_words="xtreme") == [feat]
    assert feat["input_ids"] == unigram([" " + w for w in JA.tokens], is_split_into_words=True)["input_ids"]
    assert "merged" not in feat
    # every word is "▁" + the word: a bare "▁" is the first subword of each, but "の" (a piece "▁の")
    assert [t for t, _ in pieces_by_word(unigram, feat)] == ["▁", "▁", "▁", "▁", "▁の", "▁", "▁"]
    preds = fmt.decode([JA], [feat], [[0] * feat["len"]], LABELS)
    assert preds["ja"].merged is None and "merged_words" not in fmt.score([JA], preds, "ja")


def test_sentences_with_nothing_to_join_are_tokenised_as_in_the_default(unigram, tiny_model: Path) -> None:
    fmt = get_format("tagging")
    for tok in (unigram, AutoTokenizer.from_pretrained(tiny_model)):
        xtreme = fmt.featurize([EN], tok, LABELS, 64, 0)
        (written,) = fmt.featurize([EN], tok, LABELS, 64, 0, tokenize_words="as_written")
        assert written.pop("merged") == 0 and [written] == xtreme


@pytest.mark.parametrize("ex", [JA, ZH, TH], ids=lambda ex: ex.id)
def test_as_written_gives_every_word_one_label_position(unigram, ex: TaggingExample) -> None:
    fmt = get_format("tagging")
    (feat,) = fmt.featurize([ex], unigram, LABELS, 64, 0, tokenize_words="as_written")
    assert_one_position_per_word(ex, feat)
    assert feat["truncated"] == 0
    gold = [LABELS.index(t) for t in ex.tags]
    pred = fmt.decode([ex], [feat], [[gold[w] if w >= 0 else 0 for w in feat["word_ids"]]], LABELS)[ex.id]
    assert pred.tags == ex.tags and pred.empty == pred.truncated == 0


def test_whitespace_free_words_lose_their_artificial_space(unigram) -> None:
    fmt = get_format("tagging")
    (th,) = fmt.featurize([TH], unigram, LABELS, 64, 0, tokenize_words="as_written")
    assert pieces_by_word(unigram, th) == [("▁", 0), ("เปลี่ยน", 1), ("ไป", 2), ("ใช้", 3), ("ระบบ", 4)]
    assert unigram.convert_ids_to_tokens(th["input_ids"]) == ["<s>", "▁", "การ", "เปลี่ยน", "ไป", "ใช้", "ระบบ", "</s>"]
    assert th["merged"] == 0


def test_mixed_latin_and_han_keeps_the_latin_spaces(unigram) -> None:
    fmt = get_format("tagging")
    (zh,) = fmt.featurize([ZH], unigram, LABELS, 64, 0, tokenize_words="as_written")
    # " 我喜欢 Python 编程。": Python keeps its space, so does the Han word after it; "。" joins on
    assert unigram.convert_ids_to_tokens(zh["input_ids"]) == ["<s>", "▁", "我", "喜欢", "▁Python", "▁", "编程", "。", "</s>"]
    assert pieces_by_word(unigram, zh) == [("▁", 0), ("喜欢", 1), ("▁Python", 2), ("▁", 3), ("。", 4)]


def test_a_subword_fused_across_words_gives_the_later_word_its_space_back(unigram) -> None:
    fmt = get_format("tagging")
    text = written_text(JA.tokens)[0]
    assert "への" in unigram.convert_ids_to_tokens(unigram(text)["input_ids"]), "the test needs a fused subword"
    (feat,) = fmt.featurize([JA], unigram, LABELS, 64, 0, tokenize_words="as_written")
    assert_one_position_per_word(JA, feat)
    assert pieces_by_word(unigram, feat) == [("▁", 0), ("で", 1), ("デジタル", 2), ("へ", 3), ("▁の", 4), ("移行", 5), ("が", 6)]
    assert feat["merged"] == 1
    preds = fmt.decode([JA], [feat], [[0] * feat["len"]], LABELS)
    assert preds["ja"].merged == 1 and preds["ja"].empty == 0
    metrics = fmt.score([JA], preds, "ja")
    assert metrics["merged_words"] == 1.0 and metrics["empty_words"] == 0.0


def test_truncation_counts_the_words_cut_away(unigram) -> None:
    fmt = get_format("tagging")
    (feat,) = fmt.featurize([JA], unigram, LABELS, 6, 0, tokenize_words="as_written")
    # <s> ▁ 米国 で デジタル </s>: words 0-2 kept, 3-6 cut
    assert feat["len"] == 6 and [w for w in feat["word_ids"] if w >= 0] == [0, 1, 2]
    assert feat["truncated"] == 4
    pred = fmt.decode([JA], [feat], [[LABELS.index("NOUN")] * 6], LABELS)["ja"]
    assert len(pred.tags) == 7 and pred.truncated == 4 and pred.empty == 0 and pred.fallback_at == [3, 4, 5, 6]


def test_unknown_modes_and_slow_tokenizers_are_refused(unigram) -> None:
    fmt = get_format("tagging")
    with pytest.raises(ValueError, match="as_written"):
        fmt.featurize([JA], unigram, LABELS, 64, 0, tokenize_words="joined")

    class Slow:
        is_fast = False

    with pytest.raises(ValueError, match="fast tokenizer"):
        fmt.featurize([JA], Slow(), LABELS, 64, 0, tokenize_words="as_written")


# --------------------------------------------------------------------------- cache key and results


def test_the_mode_is_part_of_the_feature_cache_key(unigram, monkeypatch: pytest.MonkeyPatch) -> None:
    fmt = get_format("tagging")
    split = Split("udpos", "ja", "test", [JA], "memory", "fp-ja")
    keys: list[dict[str, Any]] = []
    real = features.cached_features
    monkeypatch.setattr(features, "cached_features", lambda key, build, use_cache=True: keys.append(key) or real(key, build, use_cache))
    xtreme = features.features_for(fmt, split, [JA], unigram, LABELS, 64, 0)
    written = features.features_for(fmt, split, [JA], unigram, LABELS, 64, 0, tokenize_words="as_written")
    assert "tokenize_words" not in keys[0]  # the default keeps the keys of caches written before the option
    assert keys[1] == {**keys[0], "tokenize_words": "as_written"}
    assert "merged" not in xtreme[0] and written[0]["merged"] == 1 and written[0]["input_ids"] != xtreme[0]["input_ids"]


def write_conllu(path: Path, sentences: list[TaggingExample]) -> None:
    blocks = []
    for s, ex in enumerate(sentences):
        rows = [f"{i}\t{w}\t_\t{t}\t_\t_\t_\t_\t_\t_" for i, (w, t) in enumerate(zip(ex.tokens, ex.tags or (), strict=True), start=1)]
        blocks.append("\n".join([f"# sent_id = s{s}", *rows]) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(blocks) + "\n", encoding="utf-8")


def test_the_mode_is_recorded_and_scores_ja_as_written_end_to_end(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_conllu(root / "udpos" / "en.train.conllu", [EN] * 8)
    write_conllu(root / "udpos" / "en.dev.conllu", [EN] * 2)
    write_conllu(root / "udpos" / "ja.test.conllu", [JA, ZH, TH])
    base = {
        "model": {"name": str(tiny_model)},
        "data": {"data_dir": str(root)},
        "train": {"max_steps": 2, "batch_size": 4, "lr": 1e-3, "precision": "fp32", "max_length": 128},
    }
    cfg = RunConfig.model_validate(base)
    out = tmp_path / "runs"
    trained = train_run(["udpos"], cfg, out)
    assert trained.config["train"]["tokenize_words"] == "xtreme"
    xtreme = evaluate_run("udpos", cfg, out / trained.run_id, out, languages=["ja"])
    written_cfg = RunConfig.model_validate({**base, "train": {**base["train"], "tokenize_words": "as_written"}})
    written = evaluate_run("udpos", written_cfg, out / trained.run_id, out, languages=["ja"])
    assert written.run_id != xtreme.run_id
    assert xtreme.config["train"]["tokenize_words"] == "xtreme" and written.config["train"]["tokenize_words"] == "as_written"
    assert "merged_words" not in xtreme.metrics["ja"] and written.metrics["ja"]["merged_words"] >= 0.0
    assert written.metrics["ja"]["n"] == 3.0 and written.metrics["ja"]["truncated_words"] == 0.0
    lines = (out / written.run_id / written.predictions["ja"]).read_text().split("\n\n")
    assert [len(block.split()) for block in lines if block.strip()] == [7, 5, 5]


# --------------------------------------------------------------------------- the embedded model


@pytest.fixture(scope="module")
def embedded() -> Any:
    from xstilts.models.embedded import ensure_embedded_model

    return AutoTokenizer.from_pretrained(ensure_embedded_model(progress=False))


@pytest.mark.embedded
def test_embedded_tokenizer_reads_ja_zh_th_as_written(embedded) -> None:
    fmt = get_format("tagging")
    feats = fmt.featurize([JA, ZH, TH, EN], embedded, LABELS, 128, 0, tokenize_words="as_written")
    for ex, feat in zip([JA, ZH, TH, EN], feats, strict=True):
        assert_one_position_per_word(ex, feat)
    ja, zh, th, en = feats
    # the XLM-R vocabulary has a piece "への": "の" gets its space back, and is counted
    assert pieces_by_word(embedded, ja) == [("▁", 0), ("で", 1), ("デジタル", 2), ("へ", 3), ("▁", 4), ("移", 5), ("が", 6)]
    assert ja["merged"] == 1
    assert pieces_by_word(embedded, th) == [("▁การ", 0), ("เปลี่ยน", 1), ("ไป", 2), ("ใช้", 3), ("ระบบ", 4)]
    assert pieces_by_word(embedded, zh) == [("▁我", 0), ("喜欢", 1), ("▁Python", 2), ("▁", 3), ("。", 4)]
    assert zh["merged"] == th["merged"] == en["merged"] == 0
    assert [en] == [{**f, "merged": 0, "ex": 3} for f in fmt.featurize([EN], embedded, LABELS, 128, 0)]
    # the default: every Thai word begins with "▁", as XTREME feeds it
    (xtreme,) = fmt.featurize([TH], embedded, LABELS, 128, 0)
    assert [t[0] for t, _ in pieces_by_word(embedded, xtreme)] == ["▁"] * len(TH.tokens)


@pytest.mark.embedded
@pytest.mark.realdata
def test_every_word_of_zh_pud_gets_its_own_first_subword(embedded) -> None:
    from xstilts.data.conllu import UPOS_TAGS, read_conllu

    sentences = list(read_conllu(require_shared_data("udpos", "zh_pud-ud-test.conllu"), UPOS_TAGS))
    feats = get_format("tagging").featurize(sentences, embedded, list(UPOS_TAGS), 512, 0, tokenize_words="as_written")
    for ex, feat in zip(sentences, feats, strict=True):
        assert [w for w in feat["word_ids"] if w >= 0] == list(range(len(ex.tokens))), ex.id
    # re-spacing one word can fuse the next ("會有一項" -> "會 有一項"): it repeats until none is fused
    merged = sum(f["merged"] for f in feats)
    assert 0 < merged < sum(len(ex.tokens) for ex in sentences) / 5
