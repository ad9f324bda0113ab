"""The multiple-choice format: (context, choice) pairs flattened for the encoder and folded back per example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from xstilts.config import RunConfig
from xstilts.data.schema import MultipleChoiceExample
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.formats.base import get_format
from xstilts.formats.features import cached_features
from xstilts.models.encoder import load_encoder
from xstilts.models.model import MultiTaskModel
from xstilts.train.phase import train_run


@pytest.fixture(scope="module")
def tokenizer(tiny_model: Path):
    return AutoTokenizer.from_pretrained(tiny_model)


def examples() -> list[MultipleChoiceExample]:
    return [
        MultipleChoiceExample("a", "The cat sat on the mat.", "Where is the cat?", ["on the mat", "in the street", "gone", "asleep"], 0),
        MultipleChoiceExample("b", "A man is playing a guitar.", "", ["music", "a long and winding answer about it", "no", "yes"], 3),
        MultipleChoiceExample("c", "Nobody is outside.", "Why?", ["rain", "sun", "snow", "wind"], None),
    ]


def test_pairs_are_flattened_for_the_encoder_and_folded_back(tokenizer, tiny_model: Path) -> None:
    fmt = get_format("multiple_choice")
    exs = examples()
    labels = fmt.label_list(None, exs)
    assert labels == ["0", "1", "2", "3"]
    feats = fmt.featurize(exs, tokenizer, labels, 32, 0)
    assert [f["label"] for f in feats] == [0, 3, -100]
    assert feats[0]["choice_lens"][0] == len(tokenizer("The cat sat on the mat. Where is the cat?", "on the mat")["input_ids"])
    assert feats[1]["len"] == max(feats[1]["choice_lens"]) and sum(feats[1]["choice_lens"]) == len(feats[1]["input_ids"])
    batch = fmt.collate(feats, tokenizer.pad_token_id)
    width = max(feats[i]["len"] for i in range(3))
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (3 * 4, width)
    assert batch["attention_mask"][4:8].sum(-1).tolist() == feats[1]["choice_lens"]  # rows 4..7 are example b's choices
    model = MultiTaskModel(load_encoder(str(tiny_model)))
    model.add_head("mc", "multiple_choice", labels, 0.0)
    logits = model("mc", batch)
    assert logits.shape == (3, 4)
    loss = fmt.loss(logits, batch)
    assert loss.item() == pytest.approx(torch.nn.functional.cross_entropy(logits[:2], torch.tensor([0, 3])).item())
    loss.backward()
    assert model.heads["mc"].scorer.weight.grad is not None
    assert fmt.outputs(logits, batch) == logits.argmax(-1).tolist()


def test_features_survive_the_feature_cache(tokenizer) -> None:
    fmt = get_format("multiple_choice")
    key = {"test": "mc-cache"}
    built = cached_features(key, lambda: fmt.featurize(examples(), tokenizer, ["0", "1", "2", "3"], 32, 0))
    assert cached_features(key, lambda: pytest.fail("the second call must read the cache")) == built


def test_a_mixed_number_of_choices_is_refused(tokenizer) -> None:
    fmt = get_format("multiple_choice")
    exs = [*examples(), MultipleChoiceExample("d", "x", "", ["y", "z"], 1)]
    with pytest.raises(ValueError, match="same number of choices"):
        fmt.label_list(None, exs)
    with pytest.raises(ValueError, match="built for 5"):
        fmt.featurize(examples(), tokenizer, ["0", "1", "2", "3", "4"], 32, 0)


def test_score_and_prediction_files(tmp_path: Path) -> None:
    fmt = get_format("multiple_choice")
    exs = examples()
    preds = {"a": 0, "b": 1, "c": 2}
    assert fmt.score(exs, preds, "en") == {"accuracy": 50.0, "n": 2.0}  # the unlabeled example is not scored
    path = tmp_path / "en.txt"
    fmt.write_predictions(path, exs, preds)
    assert path.read_text() == "0\n1\n2\n"
    assert fmt.read_predictions(path, exs) == preds
    path.write_text("0\n7\n2\n")
    with pytest.raises(ValueError, match=r":2: a choice index 0\.\.3"):
        fmt.read_predictions(path, exs)


def write_cosmos(path: Path, n: int) -> None:
    rows = []
    for i in range(n):
        right = i % 4
        answers = {f"answer{k}": ("yes it is" if k == right else f"no {k}") for k in range(4)}
        rows.append({"id": f"c{i}", "context": f"Story number {i}.", "question": "Is it?", **answers, "label": right})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_train_and_evaluate_cosmosqa_end_to_end(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_cosmos(root / "cosmosqa" / "en.train.jsonl", 12)
    write_cosmos(root / "cosmosqa" / "en.dev.jsonl", 6)
    cfg = RunConfig.model_validate({
        "model": {"name": str(tiny_model)},
        "data": {"data_dir": str(root), "eval_split": "dev"},
        "train": {"max_steps": 3, "batch_size": 4, "lr": 1e-3, "precision": "fp32", "max_length": 32},
    })
    out = tmp_path / "runs"
    trained = train_run(["cosmosqa"], cfg, out)
    assert trained.training["heads"]["cosmosqa"] == {"format": "multiple_choice", "labels": ["0", "1", "2", "3"]}
    result = evaluate_run("cosmosqa", cfg, out / trained.run_id, out)
    assert result.metrics["en"]["n"] == 6 and 0.0 <= result.metrics["en"]["accuracy"] <= 100.0
    lines = (out / result.run_id / result.predictions["en"]).read_text().splitlines()
    assert len(lines) == 6 and set(lines) <= {"0", "1", "2", "3"}
