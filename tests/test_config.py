from __future__ import annotations

from pathlib import Path

import pytest

from xstilts.config import ConfigError, build_config, load_yaml, parse_overrides, phase_config, valid_keys


def test_overrides_are_typed_and_dotted() -> None:
    tree = parse_overrides(["train.lr=2e-5", "train.max_steps=150", "eval.max_examples=500", "retrieval.layer=-1", "model.trust_remote_code=true"])
    cfg = build_config(tree)
    assert cfg.train.lr == pytest.approx(2e-5)
    assert cfg.train.max_steps == 150 and cfg.eval.max_examples == 500
    assert cfg.retrieval.layer == -1 and cfg.model.trust_remote_code is True


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(ConfigError) as err:
        parse_overrides(["train.learning_rate=1"])
    assert "train.lr" in str(err.value) and "train.learning_rate" in str(err.value)


def test_bad_value_and_missing_equals() -> None:
    with pytest.raises(ConfigError, match=r"train\.batch_size"):
        build_config(parse_overrides(["train.batch_size=many"]))
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["train.lr"])


def test_paper_defaults() -> None:
    cfg = build_config()
    assert cfg.train.lr == 1e-5 and cfg.train.weight_decay == 0.01 and cfg.train.adam_eps == 1e-8
    assert cfg.train.max_grad_norm == 1.0 and cfg.train.warmup_ratio == 0.1 and cfg.train.max_length == 256
    assert cfg.train.eval_examples == 500 and cfg.model.trust_remote_code is False
    assert "intermediate.max_steps" in valid_keys()


def test_task_defaults_then_user_then_intermediate() -> None:
    user = parse_overrides(["train.batch_size=8", "intermediate.max_steps=5", "data.train_split=dev[:80%]"])
    target = phase_config({"train.epochs": 2, "train.batch_size": 32}, user)
    assert target.train.epochs == 2 and target.train.batch_size == 8 and target.train.max_steps is None
    assert target.data.train_split == "dev[:80%]"
    inter = phase_config({}, user, intermediate=True)
    assert inter.train.max_steps == 5 and inter.train.batch_size == 8
    assert inter.data.train_split is None  # the target's split never leaks into the intermediate task


def test_yaml_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  lr: [1,\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+"):
        load_yaml(bad)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("train.batch_size=-4", "config train.batch_size: Input should be greater than 0 (got -4)"),
        ("train.batch_size=0", "config train.batch_size: Input should be greater than 0 (got 0)"),
        ("train.max_steps=0", "config train.max_steps: Input should be greater than 0 (got 0)"),
        ("train.epochs=0", "config train.epochs: Input should be greater than 0 (got 0)"),
        ("train.max_length=0", "config train.max_length: Input should be greater than 0 (got 0)"),
        ("train.doc_stride=-1", "config train.doc_stride: Input should be greater than or equal to 0 (got -1)"),
        ("train.grad_accum=0", "config train.grad_accum: Input should be greater than 0 (got 0)"),
        ("train.lr=0", "config train.lr: Input should be greater than 0 (got 0)"),
        ("train.lr=-1e-5", "config train.lr: Input should be greater than 0 (got -1e-05)"),
        ("train.lr=nan", "config train.lr: Input should be a finite number (got nan)"),
        ("train.lr=.inf", "config train.lr: Input should be a finite number (got inf)"),
        ("train.dropout=1", "config train.dropout: Input should be less than 1 (got 1)"),
        ("train.dropout=-0.1", "config train.dropout: Input should be greater than or equal to 0 (got -0.1)"),
        ("train.warmup_ratio=1.5", "config train.warmup_ratio: Input should be less than or equal to 1 (got 1.5)"),
        ("train.eval_every=-1", "config train.eval_every: Input should be greater than or equal to 0 (got -1)"),
        ("train.patience=-1", "config train.patience: Input should be greater than or equal to 0 (got -1)"),
        ("eval.batch_size=0", "config eval.batch_size: Input should be greater than 0 (got 0)"),
        ("eval.max_examples=-1", "config eval.max_examples: Input should be greater than or equal to 0 (got -1)"),
        ("retrieval.batch_size=0", "config retrieval.batch_size: Input should be greater than 0 (got 0)"),
        ("retrieval.max_length=0", "config retrieval.max_length: Input should be greater than 0 (got 0)"),
        ("retrieval.k=0", "config retrieval.k: Input should be greater than 0 (got 0)"),
        ("intermediate.batch_size=0", "config intermediate.batch_size: Input should be greater than 0 (got 0)"),
        ("intermediate.lr=nan", "config intermediate.lr: Input should be a finite number (got nan)"),
        ("data.max_train_examples=-5", "config data.max_train_examples: Input should be greater than or equal to 0 (got -5)"),
    ],
)
def test_values_out_of_range_name_key_expected_and_got(override: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_config(parse_overrides([override]))
    assert str(err.value) == expected


def test_device_must_be_a_torch_device() -> None:
    with pytest.raises(ConfigError, match=r"^config train\.device: String should match pattern .* \(got 'foo'\)$"):
        build_config(parse_overrides(["train.device=foo"]))
    assert build_config(parse_overrides(["train.device=cuda:1"])).train.device == "cuda:1"


def test_zero_and_none_keep_their_meaning() -> None:
    """0 and None mean "all" or "the default" where they always did; only negative values are refused."""
    cfg = build_config(parse_overrides(["eval.max_examples=0", "train.eval_every=0", "train.patience=0", "train.eval_examples=0",
                                        "eval.max_length=0", "train.doc_stride=0", "train.warmup_ratio=0", "train.dropout=0"]))
    assert cfg.eval.max_examples == 0 and cfg.train.eval_every == 0 and cfg.train.patience == 0 and cfg.train.dropout == 0
    cfg = build_config(parse_overrides(["eval.max_examples=null", "train.max_steps=null", "train.dropout=null", "train.warmup_ratio=1"]))
    assert cfg.eval.max_examples is None and cfg.train.max_steps is None and cfg.train.dropout is None


def test_intermediate_overrides_are_range_checked_after_merging() -> None:
    with pytest.raises(ConfigError, match=r"intermediate\.max_steps.*greater than 0"):
        phase_config({}, parse_overrides(["intermediate.max_steps=-3"]), intermediate=True)


def test_undecodable_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"train:\n  lr: \xff\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(bad)
    assert str(err.value) == f"{bad}:2: UTF-8 text (byte 0xff is not UTF-8)"
