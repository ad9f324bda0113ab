"""``xstilts export model``: a trained encoder as a Hugging Face folder with a model card.

Why: a shared checkpoint is only worth sharing if it loads with plain ``AutoModel``/``AutoTokenizer``
(no remote code, no pickle) to the very same numbers, and if its card says what produced it: base
model, intermediate and target tasks, data and revisions, metrics per language, software versions.
The card is read back the way the hub reads it (YAML front matter) and as a table.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from tests.cli.helpers import run_main
from tests.e2e.test_transfer_tiny import user, write_nli
from xstilts.experiment.transfer import run_transfer
from xstilts.models.encoder import load_encoder, load_tokenizer
from xstilts.report.export_model import CARD_FILE, ModelCard, Phase, read_card
from xstilts.runs import ENCODER_DIR, WEIGHTS_FILE, RunResult, read_result


@pytest.fixture(scope="module")
def transfer(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResult]:
    """qqp (intermediate) -> mnli (target training) -> xnli zero-shot in en and de, on the tiny model."""
    base = tmp_path_factory.mktemp("export-model")
    root = base / "data"
    write_nli(root / "mnli" / "en.train.tsv", 48, 1)
    write_nli(root / "mnli" / "en.dev.tsv", 16, 2)
    write_nli(root / "xnli" / "en.test.tsv", 20, 3)
    write_nli(root / "xnli" / "de.test.tsv", 20, 4, "de")
    qqp = ["question1\tquestion2\tlabel"] + [f"what is {i}\twhat is {i}\t{i % 2}" for i in range(32)]
    (root / "qqp").mkdir()
    (root / "qqp" / "en.train.tsv").write_text("\n".join(qqp) + "\n")
    (root / "qqp" / "en.dev.tsv").write_text("\n".join(qqp[:13]) + "\n")
    out = base / "runs"
    return out, run_transfer("xnli", "qqp", user(tiny_model, root), out)


def table_rows(body: str, header: str) -> list[dict[str, str]]:
    """The rows of the Markdown table whose header line starts with ``header``."""
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    names = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=True)))
    return rows


def export(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str | Path) -> tuple[int, str, str]:
    return run_main(monkeypatch, capsys, "export", "model", *args)


def test_card_records_what_produced_the_model(transfer: tuple[Path, RunResult], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    out, zero_shot = transfer
    target = read_result(out / zero_shot.parent["run_id"])
    inter = read_result(out / target.parent["run_id"])
    code, stdout, err = export(monkeypatch, capsys, out / target.run_id, tmp_path / "model")
    assert code == 0, err
    assert "qqp → mnli" in stdout
    meta, body = read_card(tmp_path / "model" / CARD_FILE)
    assert meta["library_name"] == "transformers" and meta["pipeline_tag"] == "feature-extraction"
    assert {"xstilts", "qqp", "mnli", "xnli"} <= set(meta["tags"])
    assert meta["language"] == ["de", "en"]
    assert "base_model" not in meta and "license" not in meta and "datasets" not in meta  # a local model, local data
    # the chain of phases, root first
    phases = table_rows(body, "| # | phase |")
    assert [(p["phase"], p["task"], p["run"]) for p in phases] == [
        ("intermediate", "qqp", f"`{inter.run_id}`"), ("target", "mnli", f"`{target.run_id}`")]  # fmt: skip
    assert phases[1]["steps"] == str(target.training["steps"])
    # the metrics per language, from the zero-shot run of this encoder
    metrics = {(r["task"], r["split"], r["language"], r["metric"]): r for r in table_rows(body, "| task | split |")}
    for lang in ("de", "en"):
        row = metrics[("xnli", "test", lang, "accuracy")]
        assert float(row["value"]) == pytest.approx(zero_shot.metrics[lang]["accuracy"], abs=0.005)
        assert row["run"] == f"`{zero_shot.run_id}`"
    assert float(metrics[("xnli", "test", "average", "accuracy")]["value"]) == pytest.approx(zero_shot.average["accuracy"], abs=0.005)
    assert not any(key[3] == "n" for key in metrics)  # counts are not metrics
    # data sources with fingerprints, and no path of this machine
    data = table_rows(body, "| phase | task:split |")
    assert {(d["task:split"], d["source (revision)"]) for d in data} >= {("mnli:train", "<data-dir>/mnli/en.train.tsv")}
    assert all(d["fingerprint"].strip("`") == target.data_fingerprint[d["task:split"]] for d in data if d["phase"] == "mnli")
    assert str(tmp_path) not in body and str(out) not in body
    # the weights' hash and the software that produced them
    assert target.checksums[f"{ENCODER_DIR}/{WEIGHTS_FILE}"] in body
    software = table_rows(body, "| phase | run | xstilts |")
    assert software[-1]["xstilts"] == target.versions["xstilts"]
    assert software[-1]["git commit"] == f"`{target.git_commit or 'unknown'}`"


def test_exported_model_loads_with_automodel_to_the_same_hidden_states(transfer: tuple[Path, RunResult], tmp_path: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    from xstilts.report.export_model import export_model

    out, zero_shot = transfer
    run = out / zero_shot.parent["run_id"]
    exported = export_model(run, tmp_path / "model")
    folder = exported.out_dir
    assert sorted(p.name for p in folder.iterdir()) == sorted(exported.files)
    assert (folder / WEIGHTS_FILE).read_bytes() == (run / ENCODER_DIR / WEIGHTS_FILE).read_bytes()
    assert not [p for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl")]
    assert json.loads((folder / "tokenizer.json").read_text())["truncation"] is None  # training's max_length=32 is not shipped

    model = AutoModel.from_pretrained(folder, trust_remote_code=False, use_safetensors=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    original, original_tok = load_encoder(str(run / ENCODER_DIR)), load_tokenizer(str(run / ENCODER_DIR))
    texts = ["Der Hund schläft im Garten.", "what is " * 30 + "the answer"]
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    assert enc["input_ids"].tolist() == original_tok(texts, padding=True, return_tensors="pt")["input_ids"].tolist()
    model.eval()
    original.eval()
    with torch.no_grad():
        got = model(**enc, output_hidden_states=True).hidden_states
        want = original(**enc, output_hidden_states=True).hidden_states
    assert len(got) == len(want) == original.config.num_hidden_layers + 1
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-6)


def test_refusals_are_one_line_with_exit_2(transfer: tuple[Path, RunResult], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    out, zero_shot = transfer
    run = out / zero_shot.parent["run_id"]

    def refused(folder: Path, dest: Path, expected: str) -> None:
        code, _, err = export(monkeypatch, capsys, folder, dest)
        assert code == 2, err
        assert err.startswith("xstilts: error: ") and err.count("\n") == 1 and expected in err, err

    empty = tmp_path / "not-a-run"
    empty.mkdir()
    refused(empty, tmp_path / "a", "not a finished run")
    refused(out / zero_shot.run_id, tmp_path / "b", "holds no trained encoder")
    pickled = tmp_path / "pickled" / run.name
    shutil.copytree(run, pickled)
    (pickled / ENCODER_DIR / "pytorch_model.bin").write_bytes(b"\x80\x04not loaded")  # never opened
    refused(pickled, tmp_path / "c", "pickled weights")
    no_weights = tmp_path / "no-weights" / run.name
    shutil.copytree(run, no_weights)
    (no_weights / ENCODER_DIR / WEIGHTS_FILE).unlink()
    refused(no_weights, tmp_path / "d", f"no {WEIGHTS_FILE}")
    damaged = tmp_path / "damaged" / run.name
    shutil.copytree(run, damaged)
    raw = bytearray((damaged / ENCODER_DIR / WEIGHTS_FILE).read_bytes())
    raw[-1] ^= 0xFF
    (damaged / ENCODER_DIR / WEIGHTS_FILE).write_bytes(bytes(raw))
    refused(damaged, tmp_path / "e", "sha256")
    refused(run, run / "exported", "inside the run folder")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    refused(run, busy, "not empty")
    code, _, err = export(monkeypatch, capsys, run, busy, "--force")
    assert code == 0, err
    assert not (busy / "keep.txt").exists() and (busy / CARD_FILE).is_file()


def test_a_parent_not_beside_the_run_is_named_in_the_card(transfer: tuple[Path, RunResult], tmp_path: Path) -> None:
    from xstilts.report.export_model import export_model

    out, zero_shot = transfer
    run = out / zero_shot.parent["run_id"]
    alone = tmp_path / "alone" / run.name
    shutil.copytree(run, alone)
    exported = export_model(alone, tmp_path / "model")
    parent = read_result(run).parent
    assert [(p.run_id, p.result is None) for p in exported.phases] == [(parent["run_id"], True), (run.name, False)]
    assert any(parent["run_id"] in note for note in exported.notes)
    meta, body = read_card(tmp_path / "model" / CARD_FILE)
    assert meta["language"] == ["en"]  # no evaluation beside it: the English dev score instead
    assert "English dev score" in body
    rows = table_rows(body, "| task | split |")
    assert rows and all(r["task"] == "mnli" and r["language"] == "en" for r in rows)


def test_card_of_a_preset_model_trained_on_hub_data(transfer: tuple[Path, RunResult], tmp_path: Path) -> None:
    """base_model, license and datasets come from the model preset and the hub sources the run recorded."""
    out, zero_shot = transfer
    run = out / zero_shot.parent["run_id"]
    result = read_result(run)
    glue = "hf://nyu-mll/glue@bcdcba79d07bc864c1c254ccfcedcce55bcc9a8c/mnli/train"
    for model, base, license_ in (("xlm-roberta-base", "FacebookAI/xlm-roberta-base", "mit"),
                                  ("embedded", "intfloat/multilingual-e5-small", "mit")):  # fmt: skip
        config = {**result.config, "model": {**result.config["model"], "name": model}}
        hub = result.model_copy(update={"model": model, "config": config, "data_sources": {"mnli:train": glue}})
        card = ModelCard(hub, [Phase(hub.run_id, hub.task, hub)], [], run / ENCODER_DIR / WEIGHTS_FILE, [])
        meta = card.metadata()
        assert (meta["base_model"], meta["license"], meta["datasets"]) == (base, license_, ["nyu-mll/glue"])
        text = card.text()
        assert glue in text and (model != "embedded" or "must not be quoted" in text)
