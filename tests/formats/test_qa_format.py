"""The QA format on the tiny tokenizer: windows, span labels, decoding, the three metrics, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from xstilts.config import RunConfig
from xstilts.data.schema import QAExample
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.formats.base import get_format
from xstilts.formats.features import cached_features
from xstilts.formats.qa import QA, QAPrediction, metric_variant
from xstilts.tasks.registry import get_task
from xstilts.train.phase import train_run

FILLER = "The cat sat on the mat. A man is playing a guitar on the street. "


def long_example(qid: str, answer: str, position: int) -> QAExample:
    """A context of filler sentences with ``answer`` inserted after ``position`` of them."""
    before = FILLER * position
    context = before + f"Nobody knows {answer} today. " + FILLER * 3
    start = context.index(answer, len(before))
    return QAExample(qid, context, "Who knows?", [(answer, start)])


@pytest.fixture(scope="module")
def tokenizer(tiny_model: Path):
    return AutoTokenizer.from_pretrained(tiny_model)


def gold_logits(feature: dict) -> tuple[np.ndarray, np.ndarray]:
    """Logits that put all mass on the feature's own labels (the CLS index where it has no answer)."""
    start, end = np.zeros(feature["len"], np.float32), np.zeros(feature["len"], np.float32)
    start[feature["start"]] = end[feature["end"]] = 10.0
    return start, end


def test_gold_logits_decode_to_the_gold_answer_across_windows(tokenizer) -> None:
    fmt = get_format("qa")
    examples = [long_example("q0", "Hanna Loeff", 0), long_example("q1", "the engineer", 3), long_example("q2", "Mtoto", 6)]
    feats = fmt.featurize(examples, tokenizer, fmt.label_list(None, examples), max_length=48, doc_stride=16)
    for i, ex in enumerate(examples):
        windows = [f for f in feats if f["ex"] == i]
        assert len(windows) >= 3, "a long context must be cut into several windows"
        assert all(f["len"] <= 48 for f in windows)
        labelled = [f for f in windows if f["start"] != f["cls"]]
        assert labelled and len(labelled) < len(windows)  # windows without the answer point at CLS
        for f in labelled:
            first, last = f["offsets"][f["start"]], f["offsets"][f["end"]]
            assert ex.context[first[0] : last[1]].strip() == ex.answers[0][0]
        # offsets exist for context tokens only
        assert windows[0]["offsets"][0] is None and any(o is not None for o in windows[0]["offsets"])
    preds = fmt.decode(examples, feats, [gold_logits(f) for f in feats], ["start", "end"])
    assert {qid: p.text for qid, p in preds.items()} == {"q0": "Hanna Loeff", "q1": "the engineer", "q2": "Mtoto"}
    metrics = fmt.score(examples, preds, "en")
    assert metrics == {"f1": 100.0, "exact_match": 100.0, "n": 3.0}


def test_features_survive_the_feature_cache(tokenizer) -> None:
    fmt = get_format("qa")
    examples = [long_example("q0", "Hanna Loeff", 2)]
    key = {"test": "qa-cache", "n": 1}
    built = cached_features(key, lambda: fmt.featurize(examples, tokenizer, ["start", "end"], 48, 16))
    again = cached_features(key, lambda: pytest.fail("the second call must read the cache"))
    assert again == built


def test_unanswerable_questions_decode_to_no_answer_and_score_as_squad_v2(tokenizer) -> None:
    fmt = get_format("qa")
    answerable = long_example("has", "Hanna Loeff", 1)
    impossible = QAExample("none", answerable.context, "Who is absent?", [])
    examples = [answerable, impossible]
    assert metric_variant(examples) == "squad_v2"
    feats = fmt.featurize(examples, tokenizer, ["start", "end"], 48, 16)
    assert all(f["start"] == f["end"] == f["cls"] for f in feats if f["ex"] == 1)
    preds = fmt.decode(examples, feats, [gold_logits(f) for f in feats], ["start", "end"])
    assert preds["has"].text == "Hanna Loeff" and preds["none"].text == ""
    assert preds["none"].na_prob > 0 > preds["has"].na_prob
    metrics = fmt.score(examples, preds, "en")
    assert metrics["f1"] == metrics["exact_match"] == 100.0 and metrics["n"] == 2
    assert metrics["HasAns_f1"] == metrics["NoAns_f1"] == 100.0
    assert metrics["best_f1"] == 100.0 and "best_f1_thresh" in metrics


def test_metric_variant_comes_from_the_task() -> None:
    ex = QAExample("q", "Der Hund schläft im Garten.", "Wer?", [("der Hund", 0)], meta={"qa_metric": "mlqa"})
    # MLQA drops German articles, SQuAD v1.1 only English ones; example metadata decides nothing
    mlqa, xquad = get_task("mlqa").fmt, get_task("xquad").fmt
    assert mlqa.score([ex], {"q": QAPrediction("Hund")}, "de")["exact_match"] == 100.0
    assert xquad.score([ex], {"q": "Hund"}, "de")["exact_match"] == 0.0
    assert xquad.score([ex], {}, "de") == {"f1": 0.0, "exact_match": 0.0, "n": 1.0}  # unanswered counts as 0
    assert get_task("squad_v2").fmt.variant == "squad_v2" and get_format("qa").variant is None
    with pytest.raises(ValueError, match="squad3"):
        QA("squad3")


def test_long_questions_are_cut_instead_of_crashing(tokenizer) -> None:
    fmt = get_format("qa")
    ex = long_example("q", "Hanna Loeff", 1)
    ex.question = "Who is it " * 80
    feats = fmt.featurize([ex], tokenizer, ["start", "end"], 48, 16)
    assert feats and all(f["len"] <= 48 for f in feats)
    with pytest.raises(ValueError, match="doc_stride"):
        fmt.featurize([ex], tokenizer, ["start", "end"], 20, 16)


def test_head_loss_and_outputs_shapes(tokenizer) -> None:
    fmt = get_format("qa")
    examples = [long_example("q0", "Hanna Loeff", 0), long_example("q1", "Mtoto", 2)]
    feats = fmt.featurize(examples, tokenizer, ["start", "end"], 48, 16)
    batch = fmt.collate(feats[:4], tokenizer.pad_token_id)
    head = fmt.head(8, 2, 0.1)
    logits = head(torch.randn(*batch["input_ids"].shape, 8), batch)
    assert logits.shape == (*batch["input_ids"].shape, 2)
    assert torch.isfinite(fmt.loss(logits, batch))
    outs = fmt.outputs(logits, batch)
    assert [len(s) for s, _ in outs] == [f["len"] for f in feats[:4]]
    # windows whose answer could not be located train nothing (and never make the loss NaN)
    batch["start_positions"][:] = -100
    batch["end_positions"][:] = -100
    assert fmt.loss(logits, batch).item() == 0.0


def test_prediction_files_are_official_json(tmp_path: Path) -> None:
    fmt = get_format("qa")
    examples = [QAExample("a", "x y", "?", [("x", 0)]), QAExample("b", "x y", "?", [])]
    preds = {"a": QAPrediction("x", -2.5), "b": QAPrediction("", 3.0)}
    path = tmp_path / "en.json"
    fmt.write_predictions(path, examples, preds)
    assert json.loads(path.read_text()) == {"a": "x", "b": ""}
    assert json.loads((tmp_path / "en.na_probs.json").read_text()) == {"a": -2.5, "b": 3.0}
    assert fmt.read_predictions(path, examples) == preds
    with pytest.raises(ValueError, match="missing"):
        fmt.read_predictions(path, [*examples, QAExample("c", "x", "?", [])])


def write_qa(path: Path, n: int, lang: str = "en") -> None:
    names = ["Hanna", "Amara", "Ilse", "Tomas", "Mira"]
    rows = []
    for i in range(n):
        name = names[i % len(names)]
        context = f"{FILLER}The key of room {i} is kept by {name}. {FILLER}"
        start = context.index(f"by {name}") + 3
        rows.append({"id": f"{lang}-{i}", "context": context, "question": f"Who keeps the key of room {i}?",
                     "answers": {"text": [name], "answer_start": [start]}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_train_squad_then_evaluate_xquad_end_to_end(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_qa(root / "squad" / "en.train.jsonl", 16)
    write_qa(root / "squad" / "en.dev.jsonl", 6)
    write_qa(root / "xquad" / "en.test.jsonl", 5)
    write_qa(root / "xquad" / "de.test.jsonl", 4, "de")
    cfg = RunConfig.model_validate({
        "model": {"name": str(tiny_model)},
        "data": {"data_dir": str(root)},
        "train": {"max_steps": 3, "batch_size": 8, "lr": 1e-3, "precision": "fp32", "max_length": 48, "doc_stride": 16},
    })
    out = tmp_path / "runs"
    trained = train_run(["squad"], cfg, out)
    assert trained.training["heads"]["squad"] == {"format": "qa", "labels": ["start", "end"]}
    assert 0.0 <= trained.metrics["en"]["dev_squad"] <= 100.0  # the dev F1 used for checkpoint selection
    result = evaluate_run("xquad", cfg, out / trained.run_id, out)
    assert set(result.metrics) == {"de", "en"}
    assert result.metrics["de"]["n"] == 4 and 0.0 <= result.metrics["de"]["f1"] <= 100.0
    assert result.predictions["de"] == "predictions/de.json"
    preds = json.loads((out / result.run_id / result.predictions["de"]).read_text())
    assert sorted(preds) == [f"de-{i}" for i in range(4)] and all(isinstance(v, str) for v in preds.values())
