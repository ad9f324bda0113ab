"""Real XQuAD, end to end: a model trained briefly on English QA (the mini set, not SQuAD dev, whose
questions XQuAD translates) is scored on XQuAD files from ../shared/data with the official metric."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_shared_data
from xstilts.config import build_config
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.formats.qa_metric import squad_v1_scores
from xstilts.train.phase import train_run

pytestmark = pytest.mark.realdata


def test_brief_english_qa_then_xquad(tmp_path: Path) -> None:
    root = require_shared_data()
    require_shared_data("xquad", "xquad.de.json")
    cfg = build_config({
        "model": {"name": "tiny-random"},
        "data": {"data_dir": str(root), "train_task": "mini_qa"},
        "train": {"max_steps": 4, "batch_size": 8, "lr": 1e-3, "eval_every": 2, "eval_examples": 16,
                  "max_length": 128, "doc_stride": 48, "precision": "fp32"},
        "eval": {"max_examples": 40},
    })
    trained = train_run(["mini_qa"], cfg, tmp_path)
    result = evaluate_run("xquad", cfg, tmp_path / trained.run_id, tmp_path, languages=["en", "de", "zh"])
    assert set(result.metrics) == {"en", "de", "zh"}
    for lang, metrics in result.metrics.items():
        assert metrics["n"] == 40 and 0.0 <= metrics["exact_match"] <= metrics["f1"] <= 100.0
        # the reported numbers are the official v1.1 definition applied to the saved predictions
        import json

        from xstilts.data.load import load_split
        from xstilts.tasks.registry import get_task

        preds = json.loads((tmp_path / result.run_id / result.predictions[lang]).read_text())
        gold_ex = load_split(get_task("xquad"), lang, "test", root).examples[:40]
        gold = {ex.id: [a[0] for a in ex.answers] for ex in gold_ex}
        again = squad_v1_scores(gold, preds)
        assert again["f1"] == pytest.approx(metrics["f1"], abs=1e-6)
        assert again["exact_match"] == pytest.approx(metrics["exact_match"], abs=1e-6)
