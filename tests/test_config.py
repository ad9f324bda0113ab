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
