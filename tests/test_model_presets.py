"""Model presets: listed, found by any of their names, and applied in one place under the user's config.

Why: hidden retrieval defaults decide whether published numbers are reproduced (PAPER.md). A preset
must reach every resolved config (and so every result.json), an explicit value must still win, and a
model without a preset (or the embedded one) must resolve exactly as before, so finished runs keep their ids.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.helpers import run_main
from xstilts.config import ConfigError, RetrievalConfig, build_config, parse_overrides, phase_config
from xstilts.model_presets import MODEL_PRESETS, PRESETS, find_preset, preset_defaults
from xstilts.models import encoder

ISSUE_PRESETS = {"xlm-roberta-base", "xlm-roberta-large", "bert-base-multilingual-cased", "mdeberta-v3-base",
                 "multilingual-e5-small", "multilingual-e5-base", "embedded"}  # fmt: skip


def test_every_preset_is_there_with_a_pinned_revision_and_a_layer_it_has() -> None:
    assert set(MODEL_PRESETS) == ISSUE_PRESETS
    for p in PRESETS:
        assert -p.layers - 1 <= p.retrieval_layer <= p.layers, p.name
        assert p.pooling in ("mean", "cls") and p.why_layer and p.tokenizer
        if p.hub_id is not None:
            assert re.fullmatch(r"[0-9a-f]{40}", p.revision or ""), p.name  # a commit, never a branch
    assert MODEL_PRESETS["xlm-roberta-large"].retrieval_layer == 14 and MODEL_PRESETS["xlm-roberta-large"].layers == 24
    assert MODEL_PRESETS["xlm-roberta-base"].retrieval_layer == 8
    assert MODEL_PRESETS["bert-base-multilingual-cased"].retrieval_layer == 8
    assert MODEL_PRESETS["multilingual-e5-base"].retrieval_layer == -1 and MODEL_PRESETS["multilingual-e5-base"].prefix == "query: "


def test_a_preset_is_found_by_name_hub_id_or_alias() -> None:
    large = MODEL_PRESETS["xlm-roberta-large"]
    assert find_preset("xlm-roberta-large") is large
    assert find_preset("FacebookAI/xlm-roberta-large") is large
    assert find_preset("facebookai/XLM-RoBERTa-large") is large
    assert find_preset("mbert") is MODEL_PRESETS["bert-base-multilingual-cased"]
    assert find_preset("someone/xlm-roberta-large-finetuned") is None
    assert find_preset(None) is None and preset_defaults("/some/folder") == {}


def test_preset_defaults_reach_the_resolved_config() -> None:
    cfg = phase_config({}, parse_overrides(["model.name=FacebookAI/xlm-roberta-large"]))
    assert cfg.retrieval.layer == 14 and cfg.retrieval.pooling == "mean" and cfg.retrieval.prefix == ""
    assert cfg.model.revision == MODEL_PRESETS["xlm-roberta-large"].revision
    e5 = phase_config({"train.epochs": 2}, {"model": {"name": "multilingual-e5-small"}})
    assert e5.retrieval.prefix == "query: " and e5.retrieval.layer == -1 and e5.train.epochs == 2
    # an intermediate phase is resolved through the same place
    inter = phase_config({}, {"model": {"name": "xlm-roberta-base"}, "intermediate": {"max_steps": 3}}, intermediate=True)
    assert inter.retrieval.layer == 8 and inter.train.max_steps == 3
    assert inter.model.revision == MODEL_PRESETS["xlm-roberta-base"].revision


def test_an_explicit_user_value_wins_over_the_preset() -> None:
    user = parse_overrides(["model.name=xlm-roberta-large", "retrieval.layer=10", "retrieval.pooling=cls", "model.revision=main"])
    cfg = phase_config({}, user)
    assert (cfg.retrieval.layer, cfg.retrieval.pooling, cfg.model.revision) == (10, "cls", "main")
    assert phase_config({}, parse_overrides(["model.name=xlm-roberta-large", "model.revision=null"])).model.revision is None


def test_embedded_and_unknown_models_resolve_exactly_as_without_presets() -> None:
    """Their resolved configs (hence the ids of runs made before presets existed) do not change."""
    plain = build_config().model_dump()
    assert phase_config({}, {}).model_dump() == plain
    assert phase_config({}, {"model": {"name": "embedded"}}).model_dump() == plain
    assert phase_config({}, {"model": {"name": "/some/folder"}}).retrieval == RetrievalConfig()
    assert phase_config({}, {"model": {"name": "org/unknown-model"}}).model.revision is None


def test_preset_names_resolve_to_hub_ids_and_folders_stay_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert encoder.resolve_model_path("multilingual-e5-small") == "intfloat/multilingual-e5-small"
    assert encoder.resolve_model_path("mbert") == "google-bert/bert-base-multilingual-cased"
    assert encoder.resolve_model_path("org/other") == "org/other"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xlm-roberta-base").mkdir()  # a local copy by that name is used as it is
    assert encoder.resolve_model_path("xlm-roberta-base") == "xlm-roberta-base"


def test_a_missing_tokenizer_package_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder, "missing_packages", lambda preset: list(preset.needs))
    with pytest.raises(ConfigError, match=r"mdeberta-v3-base.*sentencepiece and protobuf.*pip install sentencepiece protobuf"):
        encoder.load_tokenizer("microsoft/mdeberta-v3-base")
    encoder.check_tokenizer_needs("FacebookAI/xlm-roberta-base")  # needs nothing extra


def test_models_lists_the_presets(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    code, out, err = run_main(monkeypatch, capsys, "models", "--json")
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) == ISSUE_PRESETS
    large = rows["xlm-roberta-large"]
    assert large["hub_id"] == "FacebookAI/xlm-roberta-large" and large["layers"] == 24 and large["hidden_size"] == 1024
    assert large["defaults"]["retrieval.layer"] == 14 and large["parameters_m"] > 500
    assert any("sentencepiece" in note for note in rows["mdeberta-v3-base"]["notes"])
    code, listed, _ = run_main(monkeypatch, capsys, "models", "list", "--json")
    assert code == 0 and json.loads(listed) == json.loads(out)
    code, table, _ = run_main(monkeypatch, capsys, "models")
    assert code == 0 and "xlm-roberta-large" in table and "14/24" in table
    code, path, _ = run_main(monkeypatch, capsys, "models", "path", "tiny-random")  # `models path` still works
    assert code == 0 and (Path(path.strip()) / "model.safetensors").is_file()


def test_evaluate_run_takes_the_preset_of_the_model_the_run_started_from(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``evaluate --run`` without --model: the run's recorded model picks the retrieval defaults, not ``embedded``'s."""
    import shutil

    from tests.evaluate.test_retrieval_run import write_tatoeba

    root = tmp_path / "data"
    write_tatoeba(root)
    trained = tmp_path / "train-mnli-abc"
    shutil.copytree(tiny_model, trained / "encoder")
    (trained / "result.json").write_text(json.dumps({"run_id": "train-mnli-abc", "task": "mnli", "model": "xlm-roberta-base"}))
    args = ["evaluate", "--task", "tatoeba", "--run", trained, "--data-dir", root, "--languages", "de", "--out", tmp_path / "runs"]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 2 and "retrieval.layer=8" in err  # xlm-roberta-base's layer 8; the tiny encoder has 2
    code, _, err = run_main(monkeypatch, capsys, *args, "retrieval.layer=1", "retrieval.batch_size=4")
    assert code == 0, err
    (found,) = (tmp_path / "runs").glob("retrieval-tatoeba-*/result.json")
    config = json.loads(found.read_text())["config"]
    assert config["model"]["name"] == "xlm-roberta-base" and config["retrieval"]["layer"] == 1
    assert config["retrieval"]["prefix"] == "" and config["model"]["revision"] == MODEL_PRESETS["xlm-roberta-base"].revision
