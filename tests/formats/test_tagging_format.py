"""The tagging format: first-subword labels, one tag per word back, fallbacks that are counted, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from xstilts.config import RunConfig
from xstilts.data.schema import TaggingExample
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.formats.base import get_format
from xstilts.formats.features import cached_features
from xstilts.formats.tagging import TagPrediction
from xstilts.tasks.registry import get_task
from xstilts.train.phase import train_run

LABELS = ["B-PER", "I-PER", "O"]


@pytest.fixture(scope="module")
def tokenizer(tiny_model: Path):
    return AutoTokenizer.from_pretrained(tiny_model)


def wordpiece_tokenizer() -> PreTrainedTokenizerFast:
    """A BERT-style tokenizer whose normaliser deletes zero-width characters (so a word can vanish)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "##s", "on"])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")


def gold_outputs(feature: dict, gold: list[int]) -> list[int]:
    """Model outputs that are right on first subwords and deliberately wrong everywhere else."""
    return [gold[w] if w >= 0 else 0 for w in feature["word_ids"]]


def test_only_first_subwords_are_labelled_and_decode_one_tag_per_word(tokenizer) -> None:
    fmt = get_format("tagging")
    ex = TaggingExample("s", ["Amara", "xyzzyq", "sat", "."], ["B-PER", "I-PER", "O", "O"])
    (feat,) = fmt.featurize([ex], tokenizer, LABELS, 64, 0)
    pieces = tokenizer(" xyzzyq", add_special_tokens=False)["input_ids"]
    assert len(pieces) > 1, "the test needs a word that splits into several subwords"
    assert [w for w in feat["word_ids"] if w >= 0] == [0, 1, 2, 3]
    assert sum(lab != -100 for lab in feat["labels"]) == 4
    for w, lab in zip(feat["word_ids"], feat["labels"], strict=True):
        assert (lab == -100) == (w < 0)
        if w >= 0:
            assert LABELS[lab] == ex.tags[w]
    assert feat["len"] == len(feat["input_ids"]) > 4 + 2
    # byte-level BPE sees each word with its leading space, as inside running text
    spaced = tokenizer(" Amara xyzzyq sat .")["input_ids"]
    assert feat["input_ids"] == spaced
    gold = [LABELS.index(t) for t in ex.tags]
    preds = fmt.decode([ex], [feat], [gold_outputs(feat, gold)], LABELS)
    assert preds["s"].tags == ex.tags and preds["s"].truncated == preds["s"].empty == 0
    metrics = fmt.score([ex], preds, "en")
    assert metrics["f1"] == metrics["accuracy"] == 100.0 and metrics["truncated_words"] == 0.0
    assert set(metrics) == {"f1", "precision", "recall", "accuracy", "n", "truncated_words", "empty_words"}


def test_truncated_words_get_the_fallback_and_are_counted(tokenizer) -> None:
    fmt = get_format("tagging")
    words = ["The", "cat", "sat", "on", "the", "mat", "A", "man", "is", "playing"]  # one piece each
    ex = TaggingExample("long", words, ["B-PER"] + ["O"] * 9)
    (feat,) = fmt.featurize([ex], tokenizer, LABELS, 6, 0)
    assert feat["len"] == 6 and feat["input_ids"][0] == tokenizer.cls_token_id and feat["input_ids"][-1] == tokenizer.sep_token_id
    seen = [w for w in feat["word_ids"] if w >= 0]
    assert seen == [0, 1, 2, 3] and feat["truncated"] == 6
    outputs = [[LABELS.index("I-PER")] * feat["len"]]
    pred = fmt.decode([ex], [feat], outputs, LABELS)["long"]
    assert len(pred.tags) == len(words)
    assert pred.tags[:4] == ["I-PER"] * 4 and pred.tags[4:] == ["O"] * 6
    assert pred.truncated == 6 and pred.fallback_at == list(range(4, 10))
    assert fmt.score([ex], {"long": pred}, "en")["truncated_words"] == 6.0


def test_words_without_subwords_still_get_a_tag() -> None:
    fmt = get_format("tagging")
    tok = wordpiece_tokenizer()
    labels = ["DET", "NOUN", "VERB", "X"]
    ex = TaggingExample("z", ["the", "\u200b", "cats", "sat"], ["DET", "X", "NOUN", "VERB"])
    (feat,) = fmt.featurize([ex], tok, labels, 32, 0)
    assert [w for w in feat["word_ids"] if w >= 0] == [0, 2, 3]  # "cats" = cat ##s, labelled once
    assert feat["truncated"] == 0
    gold = [labels.index(t) for t in ex.tags]
    pred = fmt.decode([ex], [feat], [gold_outputs(feat, gold)], labels)["z"]
    # no "O" in a POS label set: the fallback is the tag predicted most often
    assert len(pred.tags) == 4 and pred.tags[1] in labels and pred.empty == 1 and pred.truncated == 0
    assert fmt.score([ex], {"z": pred}, "en")["empty_words"] == 1.0


def test_features_survive_the_feature_cache(tokenizer) -> None:
    fmt = get_format("tagging")
    exs = [TaggingExample("a", ["Amara", "xyzzyq"], ["B-PER", "I-PER"]), TaggingExample("b", ["sat"], None)]
    key = {"test": "tagging-cache"}
    built = cached_features(key, lambda: fmt.featurize(exs, tokenizer, LABELS, 64, 0))
    assert cached_features(key, lambda: pytest.fail("the second call must read the cache")) == built
    assert built[1]["labels"] == [-100] * built[1]["len"]  # unlabeled sentences train nothing


def test_loss_ignores_unlabelled_positions(tokenizer) -> None:
    fmt = get_format("tagging")
    exs = [TaggingExample("a", ["Amara", "xyzzyq"], ["B-PER", "I-PER"]), TaggingExample("b", ["sat", "on", "it"], ["O"] * 3)]
    feats = fmt.featurize(exs, tokenizer, LABELS, 64, 0)
    batch = fmt.collate(feats, tokenizer.pad_token_id)
    logits = fmt.head(8, len(LABELS), 0.0)(torch.randn(*batch["input_ids"].shape, 8), batch)
    assert logits.shape == (2, batch["input_ids"].shape[1], 3)
    labelled = batch["labels"] != -100
    expected = torch.nn.functional.cross_entropy(logits[labelled], batch["labels"][labelled])
    assert fmt.loss(logits, batch).item() == pytest.approx(expected.item())
    batch["labels"][:] = -100
    assert fmt.loss(logits, batch).item() == 0.0


def test_prediction_files_round_trip(tmp_path: Path) -> None:
    fmt = get_format("tagging")
    exs = [TaggingExample("a", ["x", "y"], ["O", "O"]), TaggingExample("b", ["z"], ["O"])]
    preds = {"a": TagPrediction(["B-PER", "O"]), "b": TagPrediction(["O"])}
    path = tmp_path / "en.txt"
    fmt.write_predictions(path, exs, preds)
    assert path.read_text() == "B-PER\nO\n\nO\n\n"
    assert fmt.read_predictions(path, exs) == preds
    with pytest.raises(ValueError, match="sentence 2"):
        fmt.read_predictions(path, [exs[0], TaggingExample("b", ["z", "w"], None)])


def write_conllu(path: Path, n: int, offset: int = 0) -> None:
    words = [("The", "DET"), ("cat", "NOUN"), ("sat", "VERB"), ("on", "ADP"), ("the", "DET"), ("mat", "NOUN"), (".", "PUNCT")]
    blocks = []
    for s in range(n):
        sent = words[(s + offset) % 3 :]
        lines = [f"# sent_id = s{s}"] + [f"{i}\t{w}\t_\t{t}\t_\t_\t_\t_\t_\t_" for i, (w, t) in enumerate(sent, start=1)]
        blocks.append("\n".join(lines) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(blocks) + "\n", encoding="utf-8")


def test_train_and_evaluate_udpos_end_to_end(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_conllu(root / "udpos" / "en.train.conllu", 16)
    write_conllu(root / "udpos" / "en.dev.conllu", 5, 1)
    write_conllu(root / "udpos" / "en.test.conllu", 4, 2)
    write_conllu(root / "udpos" / "de.test.conllu", 3, 1)
    cfg = RunConfig.model_validate({
        "model": {"name": str(tiny_model)},
        "data": {"data_dir": str(root)},
        "train": {"max_steps": 3, "batch_size": 8, "lr": 1e-3, "precision": "fp32", "max_length": 32},
    })
    out = tmp_path / "runs"
    trained = train_run(["udpos"], cfg, out)
    assert trained.training["heads"]["udpos"]["labels"] == list(get_task("udpos").labels)
    result = evaluate_run("udpos", cfg, out / trained.run_id, out, languages=["en", "de"])
    assert result.metrics["de"]["n"] == 3 and result.metrics["de"]["truncated_words"] == 0.0
    assert 0.0 <= result.metrics["en"]["accuracy"] <= 100.0
    lines = (out / result.run_id / result.predictions["de"]).read_text().split("\n\n")
    assert [len(block.split()) for block in lines if block.strip()] == [6, 5, 7]
