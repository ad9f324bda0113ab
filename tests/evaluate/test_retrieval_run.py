"""The retrieval stage end to end: Tatoeba and BUCC runs on the tiny model, sweeps, reuse and provenance.

Why these checks: a retrieval run's id, metrics and prediction files must be exactly reproducible, a
finished run must never be recomputed, a layer sweep must not change the reported layer's numbers,
and a BUCC run without the dev split that tunes its threshold must say what is missing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import require_shared_data
from xstilts.config import ConfigError, RunConfig, build_config
from xstilts.data.schema import DataError
from xstilts.evaluate.retrieval_run import retrieval_run
from xstilts.formats.base import get_format
from xstilts.models import pooling

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


SENTS = [f"sentence {w} number {i}" for i, w in enumerate(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])]


def write_tatoeba(root: Path) -> None:
    folder = root / "tatoeba"
    folder.mkdir(parents=True)
    (folder / "tatoeba.deu-eng.deu").write_text("\n".join(SENTS) + "\n")  # identical sides: all found
    (folder / "tatoeba.deu-eng.eng").write_text("\n".join(SENTS) + "\n")
    shifted = SENTS[1:] + SENTS[:1]  # fr line i is en line i + 1: never the gold line
    (folder / "tatoeba.fra-eng.fra").write_text("\n".join(shifted) + "\n")
    (folder / "tatoeba.fra-eng.eng").write_text("\n".join(SENTS) + "\n")


def cfg_for(tiny_model: Path, root: Path, **retrieval: object) -> RunConfig:
    return build_config({"model": {"name": str(tiny_model)}, "data": {"data_dir": str(root)}, "retrieval": {"batch_size": 4, **retrieval}})


def test_tatoeba_run_end_to_end_and_reuse(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, out = tmp_path / "data", tmp_path / "runs"
    write_tatoeba(root)
    result = retrieval_run("tatoeba", cfg_for(tiny_model, root), out)
    assert result.kind == "retrieval" and set(result.metrics) == {"de", "fr"}
    assert result.metrics["de"]["accuracy"] == 100.0 and result.metrics["de"]["accuracy_en_xx"] == 100.0
    assert result.metrics["fr"]["accuracy"] == 0.0
    assert result.average["accuracy"] == 50.0
    run_dir = out / result.run_id
    assert (run_dir / result.predictions["de"]).read_text() == "0\n1\n2\n3\n4\n5\n"
    assert (run_dir / result.predictions["fr"]).read_text() == "1\n2\n3\n4\n5\n0\n"
    assert json.loads((run_dir / "result.json").read_text())["run_id"] == result.run_id

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished run must not be recomputed")

    monkeypatch.setattr(pooling, "embed", boom)
    assert retrieval_run("tatoeba", cfg_for(tiny_model, root), out).run_id == result.run_id


def test_tatoeba_layer_sweep_records_every_layer(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_tatoeba(root)
    result = retrieval_run("tatoeba", cfg_for(tiny_model, root, sweep=True, layer=1), tmp_path / "runs", languages=["de"])
    layers = result.slices["layer"]
    assert sorted(layers) == ["0", "1", "2"]
    assert all(layers[key]["de"]["accuracy"] == 100.0 for key in layers)
    assert result.metrics["de"] == layers["1"]["de"]
    single = retrieval_run("tatoeba", cfg_for(tiny_model, root, layer=1), tmp_path / "runs", languages=["de"])
    assert single.run_id != result.run_id and single.metrics["de"] == result.metrics["de"]


def test_cli_layers_all_maps_to_the_sweep(tiny_model: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xstilts.cli import app

    root = tmp_path / "data"
    write_tatoeba(root)
    args = ["evaluate", "--task", "tatoeba", "--model", str(tiny_model), "--data-dir", str(root), "--languages", "de",
            "--out", str(tmp_path / "runs"), "--layers", "all", "retrieval.batch_size=4"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    (found,) = (tmp_path / "runs").glob("retrieval-tatoeba-*/result.json")
    assert sorted(json.loads(found.read_text())["slices"]["layer"]) == ["0", "1", "2"]
    bad = CliRunner().invoke(app, [*args[:-3], "--layers", "middle"])
    assert isinstance(bad.exception, ConfigError) and "'all' or a layer number" in str(bad.exception)


def test_run_of_an_intermediate_trained_encoder_records_its_parent(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_tatoeba(root)
    trained = tmp_path / "train-mnli-abc"
    shutil.copytree(tiny_model, trained / "encoder")
    (trained / "result.json").write_text(json.dumps({"run_id": "train-mnli-abc", "task": "mnli", "model": str(tiny_model)}))
    result = retrieval_run("tatoeba", cfg_for(tiny_model, root), tmp_path / "runs", model_run=trained, languages=["de"])
    assert result.intermediate == "mnli" and result.model == str(tiny_model)
    assert result.parent is not None and result.parent["run_id"] == "train-mnli-abc" and len(result.parent["checkpoint_sha256"]) == 64
    assert result.metrics["de"]["accuracy"] == 100.0


def test_plain_row_files_merge_into_one_corpus(tiny_model: Path, tmp_path: Path) -> None:
    # the mini benchmark's parallel set is one pair per row: the run and the format merge the rows
    result = retrieval_run("mini_parallel", cfg_for(tiny_model, tmp_path), tmp_path / "runs", languages=["de"], intermediate="none")
    assert result.intermediate == "none" and result.metrics["de"]["n"] > 100
    from xstilts.data.load import load_split
    from xstilts.tasks.registry import get_task

    rows = load_split(get_task("mini_parallel"), "de", "test").examples
    fmt = get_format("retrieval")
    preds = fmt.read_predictions(tmp_path / "runs" / result.run_id / result.predictions["de"], rows)
    assert fmt.score(rows, preds, "de")["accuracy"] == pytest.approx(result.metrics["de"]["accuracy"])


def write_bucc(root: Path, name: str, n_pairs: int, offset: int) -> None:
    folder = root / "bucc2018"
    folder.mkdir(parents=True, exist_ok=True)
    pairs = [f"shared text {w} {offset + i}" for i, w in enumerate(["red", "green", "blue", "white", "black"][:n_pairs])]
    de = [*pairs, "only german words hier", "nur deutsch", pairs[0]]  # the last one repeats a gold text
    en = [*pairs, "only english words here", "just english"]
    de_ids = [f"de-{offset + i}" for i in range(len(de))]
    en_ids = [f"en-{offset + i}" for i in range(len(en))]
    (folder / f"de-en.{name}.de").write_text("".join(f"{i}\t{t}\n" for i, t in zip(de_ids, de, strict=True)))
    (folder / f"de-en.{name}.en").write_text("".join(f"{i}\t{t}\n" for i, t in zip(en_ids, en, strict=True)))
    (folder / f"de-en.{name}.gold").write_text("".join(f"{de_ids[i]}\t{en_ids[i]}\n" for i in range(n_pairs)))


def test_bucc_run_end_to_end(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_bucc(root, "sample", 4, 0)
    write_bucc(root, "training", 5, 100)
    result = retrieval_run("bucc2018", cfg_for(tiny_model, root), tmp_path / "runs")
    m = result.metrics["de"]
    assert {"precision", "recall", "f1", "threshold", "dev_f1"} <= set(m)
    assert all(0.0 <= m[key] <= 100.0 for key in ("precision", "recall", "f1", "dev_f1"))
    assert m["dev_f1"] > 0 and "threshold" not in result.average
    lines = (tmp_path / "runs" / result.run_id / result.predictions["de"]).read_text().splitlines()
    assert all(line.split("\t")[0].startswith("de-1") and line.split("\t")[1].startswith("en-1") for line in lines)


def test_bucc_without_a_dev_split_is_a_clear_error(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_bucc(root, "training", 5, 100)
    with pytest.raises(DataError, match="sample"):
        retrieval_run("bucc2018", cfg_for(tiny_model, root), tmp_path / "runs")


# --------------------------------------------------------------------------- the real embedded model on real data


@pytest.mark.embedded
@pytest.mark.realdata
def test_tatoeba_embedded_model_on_real_data(tmp_path: Path) -> None:
    source = require_shared_data("tatoeba")
    assert source == SHARED_DATA / "tatoeba"
    root = tmp_path / "data"
    (root / "tatoeba").mkdir(parents=True)
    for iso3 in ("deu", "fra", "spa"):
        for side in (iso3, "eng"):
            lines = (source / f"tatoeba.{iso3}-eng.{side}").read_text(encoding="utf-8").splitlines()[:200]
            (root / "tatoeba" / f"tatoeba.{iso3}-eng.{side}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = build_config({"data": {"data_dir": str(root)}, "retrieval": {"batch_size": 32}})
    result = retrieval_run("tatoeba", cfg, tmp_path / "runs")
    assert "'query: '" in result.notes[0]
    for lang in ("de", "fr", "es"):
        assert result.metrics[lang]["accuracy"] > 80.0, result.metrics
        assert result.metrics[lang]["n"] == 200.0
    shutil.rmtree(tmp_path / "runs")


def test_a_perturbation_asked_of_retrieval_is_noted_not_applied(tiny_model: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_tatoeba(root)
    cfg = build_config({"model": {"name": str(tiny_model)}, "data": {"data_dir": str(root)},
                        "retrieval": {"batch_size": 4}, "eval": {"perturb": ["swap"]}})  # fmt: skip
    result = retrieval_run("tatoeba", cfg, tmp_path / "runs", languages=["de"])
    assert result.metrics["de"]["accuracy"] == 100.0
    assert any("eval.perturb (swap) not applied" in note for note in result.notes)
