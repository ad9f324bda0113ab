"""Walk the malformed-input corpus through the real entry point: exit 2 and one line naming file, line and expectation."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.helpers import run_main
from tests.corpus.cases import CASES, COMMANDS, Case
from tests.e2e.test_transfer_tiny import write_nli

PREFIX = "xstilts: error: "


@pytest.fixture(scope="module")
def trained_run(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished tiny MNLI run, for the cases that evaluate a run."""
    from xstilts.config import build_config
    from xstilts.train.phase import train_run

    root = tmp_path_factory.mktemp("corpus-train")
    write_nli(root / "data" / "mnli" / "en.train.tsv", 16, 1)
    write_nli(root / "data" / "mnli" / "en.dev.tsv", 8, 2)
    cfg = build_config(
        {
            "model": {"name": str(tiny_model)},
            "data": {"data_dir": str(root / "data")},
            "train": {"max_steps": 1, "batch_size": 4},
        }
    )
    train_run(["mnli"], cfg, root / "runs")
    return next((root / "runs").iterdir())


def fill(text: str, places: dict[str, str]) -> str:
    for key, value in places.items():
        text = text.replace("{" + key + "}", value)
    return text


def materialise(case: Case, root: Path, places: dict[str, str]) -> list[str]:
    for rel, content in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else fill(content, places).encode("utf-8"))
    return [fill(word, places) for word in case.args.split()]


def test_the_corpus_covers_every_command_and_reader() -> None:
    errors = [c for c in CASES if c.expect is not None]
    assert len(errors) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    commands = Counter(c.command for c in errors)
    assert set(commands) == set(COMMANDS), commands
    kinds = {c.name.split("_")[0] for c in errors}
    assert {
        "tsv",
        "csv",
        "squad",
        "conllu",
        "iob2",
        "tatoeba",
        "bucc",
        "mc",
        "pred",
        "yaml",
        "train",
        "evaluate",
    } <= kinds


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(
    case: Case,
    tmp_path: Path,
    tiny_model: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    root = tmp_path / "case"
    root.mkdir()
    places = {"R": str(root), "M": str(tiny_model)}
    if "{RUN}" in case.args:
        run = root / "run"
        shutil.copytree(request.getfixturevalue("trained_run"), run)
        places["RUN"] = str(run)
    code, out, err = run_main(monkeypatch, capsys, *materialise(case, root, places))
    if case.expect is None:
        assert code == 0, err
        assert case.shows in out + err
        return
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, (code, err)
    assert "Traceback" not in err
    assert lines[0].startswith(PREFIX + fill(case.expect, places)), lines[0]
