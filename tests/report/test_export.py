"""XTREME submission export: layout, and the exported files re-scored independently of the formats.

Runs get their predictions and metrics from the real format modules; the test reads the exported
files back with nothing but the official-equivalent metric functions (and plain accuracy) and must
reproduce every reported number.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.report.synthetic import DataRoot, scored_run, uniform, write_run
from xstilts.config import ConfigError
from xstilts.data.load import load_split
from xstilts.formats.qa_metric import squad_v1_scores
from xstilts.formats.tagging_metric import read_tag_predictions, seqeval_scores
from xstilts.report.export import MANIFEST, export_xtreme
from xstilts.runs import read_result
from xstilts.tasks.registry import get_task

WRONG = {
    "pawsx": {"en": 0.1, "de": 0.3},
    "udpos": {"en": 0.2, "de": 0.4},
    "xquad": {"en": 0.2, "de": 0.5, "ro": 0.1},
    "tatoeba": {"de": 0.25, "fr": 0.5},
    "bucc2018": {"de": 0.2, "fr": 0.4},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("export")
    root, runs = base / "data", base / "runs"
    data = DataRoot(root)
    for lang in ("en", "de"):
        data.pawsx(lang, 40)
        data.udpos(lang, 30)
    for lang in ("en", "de", "ro"):
        data.xquad(lang, 20)
    data.tatoeba("de", "deu", 30)
    data.tatoeba("fr", "fra", 30)
    data.bucc("de", 40)
    data.bucc("fr", 40)
    for task, wrong in WRONG.items():
        kind = "retrieval" if get_task(task).format == "retrieval" else "transfer"
        scored_run(runs, root, task, "none", 0, wrong, kind=kind)
    scored_run(runs, root, "pawsx", "mnli", 0, {"en": 0.0, "de": 0.0})
    scored_run(runs, root, "pawsx", "none", 3, {"en": 0.5, "de": 0.5})
    return root, runs


def rescore(task: str, lang: str, path: Path, root: Path) -> dict[str, float]:
    """Score an exported file with plain code: no format module involved."""
    examples = load_split(get_task(task), lang, "test", str(root)).examples
    lines = path.read_text(encoding="utf-8").splitlines()
    if task == "pawsx":
        return {"accuracy": 100.0 * sum(p == ex.label for p, ex in zip(lines, examples, strict=True)) / len(examples)}
    if task == "udpos":
        return seqeval_scores([ex.tags for ex in examples], read_tag_predictions(path))
    if task == "xquad":
        return squad_v1_scores({ex.id: [a for a, _ in ex.answers] for ex in examples}, json.loads(path.read_text(encoding="utf-8")))
    corpus = examples[0]
    if task == "tatoeba":  # line i of both sides is a pair
        return {"accuracy": 100.0 * sum(int(line) == i for i, line in enumerate(lines)) / len(lines)}
    pred = {tuple(line.split("\t")) for line in lines if line}
    gold = set(corpus.gold)
    tp = len(pred & gold)
    return {"f1": 200.0 * tp / (len(pred) + len(gold))}


def test_export_layout_and_independent_rescoring(runs: tuple[Path, Path], tmp_path: Path) -> None:
    root, run_dir = runs
    out = tmp_path / "submission"
    export = export_xtreme(run_dir, out)
    assert export.seed == 0 and export.intermediate == "none"
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == sorted([
        MANIFEST, "bucc2018/test-de.tsv", "bucc2018/test-fr.tsv", "pawsx/test-de.tsv", "pawsx/test-en.tsv",
        "tatoeba/test-de.tsv", "tatoeba/test-fr.tsv", "udpos/test-de.tsv", "udpos/test-en.tsv",
        "xquad/test-de.json", "xquad/test-en.json",
    ])  # fmt: skip
    assert any("ro" in note for note in export.notes)  # Romanian is not an XTREME XQuAD language
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["runs"]["pawsx"] == "transfer-pawsx-none-0"
    checked = 0
    for task, rid in export.runs.items():
        reported = read_result(run_dir / rid).metrics
        for path in export.files[task]:
            lang = path.stem.split("-", 1)[1]
            for key, value in rescore(task, lang, path, root).items():
                if key in reported[lang]:
                    assert value == pytest.approx(reported[lang][key]), (task, lang, key)
                    checked += 1
    assert checked >= 14
    assert (out / "udpos" / "test-en.tsv").read_text().count("\n\n") == 30  # a blank line after each of 30 sentences


def test_export_picks_by_intermediate_and_seed(runs: tuple[Path, Path], tmp_path: Path) -> None:
    _, run_dir = runs
    export = export_xtreme(run_dir, tmp_path / "a", intermediate="mnli")
    assert export.runs == {"pawsx": "transfer-pawsx-mnli-0"}
    assert "no predictions exported for" in export.notes[-1]
    export = export_xtreme(run_dir, tmp_path / "b", seed=3)
    assert export.runs == {"pawsx": "transfer-pawsx-none-3"}
    assert any("udpos: no run with seed 3" in note for note in export.notes)


def test_export_refuses_mixing_and_unknown_choices(tmp_path: Path) -> None:
    write_run(tmp_path, "pawsx", "none", 0, uniform("pawsx", accuracy=1.0), model="a")
    write_run(tmp_path, "xnli", "none", 1, uniform("xnli", accuracy=1.0), model="a")
    with pytest.raises(ConfigError, match="no seed shared"):
        export_xtreme(tmp_path, tmp_path / "out")
    with pytest.raises(ConfigError, match="intermediate 'squad'"):
        export_xtreme(tmp_path, tmp_path / "out", intermediate="squad")
    write_run(tmp_path, "pawsx", "none", 1, uniform("pawsx", accuracy=1.0), model="b", run_id="other-model")
    with pytest.raises(ConfigError, match="several models"):
        export_xtreme(tmp_path, tmp_path / "out", seed=1)
    write_run(tmp_path, "udpos", "none", 1, uniform("udpos", f1=1.0), model="a", split="dev", run_id="dev-run")
    with pytest.raises(ConfigError, match="test-split"):
        export_xtreme(tmp_path, tmp_path / "out", seed=1, model="a")


def test_malformed_prediction_files_are_refused(tmp_path: Path) -> None:
    from xstilts.data.schema import DataError
    from xstilts.formats.base import get_format

    bad = tmp_path / "p.txt"
    bad.write_text("0\n1\tx\n")
    with pytest.raises(DataError, match=r"p.txt:2: one label per line"):
        get_format("classification").export_text(bad)
    bad.write_text("3\nseven\n")
    with pytest.raises(DataError, match=r"p.txt:2: one retrieved index per line"):
        get_format("retrieval").export_text(bad)
    bad.write_text('{"q1": 3}')
    with pytest.raises(DataError, match=r"an answer string for question .q1., found 3"):
        get_format("qa").export_text(bad)
