"""``xstilts bench`` on the tiny model: two steps per system, one round; the JSON's fields and ratios.

A smoke test of the plumbing, never a measurement (timings on a test machine mean nothing).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import invoke
from tests.e2e.test_transfer_tiny import write_nli

SMALL = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_nli(root / "xnli" / "en.dev.tsv", 40, 1)
    write_nli(root / "xnli" / "de.test.tsv", 20, 2, "de")
    return root


def check_phase(phase: dict, examples: int) -> None:
    assert phase["examples"] == examples and phase["tokens"] > examples
    for key in ("examples_per_s", "tokens_per_s", "mfu", "peak_memory_mb", "flops_per_token"):
        assert phase[key] > 0, key
    assert 0 <= phase["score"] <= 100
    assert phase["precision"] in ("fp32", "bf16")
    assert len(phase["rounds"]) == 1


def test_bench_json(tmp_path: Path, tiny_model: Path, data_root: Path) -> None:
    out = tmp_path / "bench.json"
    invoke("bench", "--model", tiny_model, "--data-dir", data_root, "--eval-language", "de", "--steps", "2", "--batch", "4",
           "--length", "32", "--rounds", "1", "--gemm-size", "128", "--out", out, "data.train_split=dev[:30]", "data.dev_split=dev[30:]")  # fmt: skip
    result = json.loads(out.read_text())
    assert result["workload"]["train_examples"] == 30 and result["workload"]["eval_examples"] == 20
    assert result["gemm_peak_flops"]["fp32"] > 0
    assert result["model"]["non_embedding_params"] < result["model"]["params"] and result["model"]["layers"] == 2
    assert 0 < result["embedding_rows"]["fraction"] < 1
    mine = result["systems"]["xstilts"]
    check_phase(mine["train"], 8)
    assert mine["train"]["steps"] == 2 and mine["train"]["s_per_step"] > 0
    check_phase(mine["evaluate"], 20)

    if result["skipped"]:
        assert "accelerate" in result["skipped"]["trainer-default"]
        pytest.skip(f"Trainer systems skipped: {result['skipped']['trainer-default']}")
    for name in ("trainer-default", "trainer-tuned"):
        check_phase(result["systems"][name]["train"], 8)
        check_phase(result["systems"][name]["evaluate"], 20)
        row = result["ratios"][f"xstilts/{name}"]
        for key in ("train_examples_per_s", "train_tokens_per_s", "evaluate_examples_per_s", "evaluate_tokens_per_s"):
            assert row[key] > 0, key
        assert row["evaluate_score_diff"] == mine["evaluate"]["score"] - result["systems"][name]["evaluate"]["score"]
    assert result["systems"]["trainer-tuned"]["settings"]["group_by_length"] is True
    assert result["systems"]["trainer-tuned"]["settings"]["optim"] == "adamw_torch_fused"
    assert result["systems"]["trainer-tuned"]["settings"]["eval_batch_size"] == 64


def test_bench_random_weights(tiny_model: Path, data_root: Path) -> None:
    """``--random-large``'s path at a small shape: random weights in the model's vocabulary, no download."""
    from xstilts.experiment.bench import Workload, bench_config, run_bench

    user = {"model": {"name": str(tiny_model)}, "data": {"data_dir": str(data_root), "train_split": "dev[:30]", "dev_split": "dev[30:]"},
            "train": {"max_steps": 2, "batch_size": 4, "max_length": 32}}
    work = Workload(bench_config("xnli", user), "xnli", "de", 1, ("xstilts",), SMALL, 128)
    result = run_bench(work)
    assert result["model"]["random_weights"] and result["model"]["layers"] == 1 and result["model"]["hidden_size"] == 32
    assert result["workload"]["model"].startswith("random-1x32")
    check_phase(result["systems"]["xstilts"]["train"], 8)
    assert result["ratios"] == {} and result["skipped"] == {}


def test_bench_refuses_other_formats(tiny_model: Path) -> None:
    from tests.cli.helpers import runner
    from xstilts.cli import app

    res = runner.invoke(app, ["bench", "--task", "udpos", "--model", str(tiny_model), "--steps", "1"])
    assert res.exit_code != 0 and "classification" in str(res.exception)
