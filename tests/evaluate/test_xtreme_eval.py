"""``xstilts score xtreme``: agreement with XTREME's official ``evaluate.py``.

The shared vectors are outputs of the official script; hand-made folders pin the aggregation
(languages -> task -> group -> all_task) without them; the round trips check that what
``xstilts export xtreme`` writes is what the scorer reads, with the numbers the runs reported.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_main
from tests.conftest import SHARED
from tests.e2e.test_transfer_tiny import write_nli
from tests.report.synthetic import DataRoot, scored_run
from xstilts.data.load import load_split
from xstilts.data.schema import DataError, ParallelCorpus, QAExample, TaggingExample
from xstilts.evaluate.xtreme_eval import score_file, score_folder, submission_file
from xstilts.formats.retrieval import is_aligned
from xstilts.formats.tagging_metric import write_tag_predictions
from xstilts.report.export import export_xtreme
from xstilts.report.xtreme import task_score
from xstilts.runs import read_result
from xstilts.tasks.registry import get_task, xtreme_tasks

VECTORS = SHARED / "testvectors" / "xtreme"
TOL = 1e-6


def _vector_cases() -> list[Any]:
    cases = VECTORS / "per_file" / "cases.json"
    if not cases.is_file():
        return [pytest.param(None, id="absent")]
    return [pytest.param(c, id=c["id"]) for c in json.loads(cases.read_text(encoding="utf-8"))]


# --------------------------------------------------------------------------- the official vectors


@pytest.mark.realdata
@pytest.mark.parametrize("case", _vector_cases())
def test_per_file_vectors(case: dict[str, Any] | None) -> None:
    if case is None:
        pytest.skip(f"XTREME test vectors are absent ({VECTORS})")
    base = VECTORS / "per_file"
    out = score_file(case["task"], case["language"], base / case["prediction"], base / case["label"])
    assert set(out) == set(case["official"])
    for key, value in case["official"].items():
        assert out[key] == pytest.approx(value, abs=TOL), key


@pytest.mark.realdata
def test_full_folder_vector() -> None:
    folder = VECTORS / "full_folder"
    if not (folder / "official.json").is_file():
        pytest.skip(f"XTREME test vectors are absent ({folder})")
    official = json.loads((folder / "official.json").read_text(encoding="utf-8"))
    ours = score_folder(folder / "predictions", folder / "labels")
    assert set(ours["overall_scores"]) == set(official["overall_scores"]) == {"all_task", "classification", "tagging", "qa", "retrieval"}
    for key, value in official["overall_scores"].items():
        assert ours["overall_scores"][key] == pytest.approx(value, abs=TOL), key
    assert set(ours["detailed_scores"]) == set(official["detailed_scores"]) == set(xtreme_tasks())
    for task, expected in official["detailed_scores"].items():
        got = ours["detailed_scores"][task]
        assert set(got) == set(expected), task
        for key, value in expected.items():
            if isinstance(value, dict):  # {lang: value}: XTREME's languages, every one of them
                assert set(got[key]) == set(value), (task, key)
                for lang, v in value.items():
                    assert got[key][lang] == pytest.approx(v, abs=TOL), (task, key, lang)
            else:
                assert got[key] == pytest.approx(value, abs=TOL), (task, key)


# --------------------------------------------------------------------------- hand-made files


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _squad(questions: dict[str, str], context: str = "Der Hund schläft, und der Baum wächst.") -> str:
    qas = [{"id": qid, "question": "?", "answers": [{"text": a, "answer_start": context.index(a)}]} for qid, a in questions.items()]
    return json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}]}, ensure_ascii=False)


def test_hand_computed_files(tmp_path: Path) -> None:
    # classification: compared as text, 3 of 4
    p = _write(tmp_path / "p.tsv", "entailment\nneutral\ncontradiction\nneutral\n")
    g = _write(tmp_path / "g.tsv", "entailment\nneutral\ncontradiction\nentailment\n")
    assert score_file("xnli", "de", p, g) == {"accuracy": 75.0}
    # tagging: seqeval default mode, an I- without B- starts an entity; UPOS read as chunks (PAPER.md's example)
    g = _write(tmp_path / "g.tsv", "B-PER\nI-PER\nO\nB-LOC\n\nB-ORG\n\n")
    p = _write(tmp_path / "p.tsv", "B-PER\nI-PER\nO\nI-LOC\n\nO\n\n")
    assert score_file("panx", "en", p, g) == pytest.approx({"f1": 80.0, "precision": 100.0, "recall": 200 / 3})
    g = _write(tmp_path / "g.tsv", "NOUN\nNOUN\nVERB\nDET\nNOUN\n")
    p = _write(tmp_path / "p.tsv", "NOUN\nVERB\nVERB\nDET\nNOUN\n")
    assert score_file("udpos", "en", p, g)["f1"] == pytest.approx(50.0)
    # QA: German articles go under MLQA only; a missing question scores 0, an unknown id is ignored
    gold = _write(tmp_path / "g.json", _squad({"q1": "Der Hund", "q2": "der Baum", "q3": "schläft"}))
    pred = _write(tmp_path / "p.json", json.dumps({"q1": "Hund", "q2": "der Baum.", "zz": "x"}))
    assert score_file("mlqa", "de", pred, gold) == pytest.approx({"exact_match": 200 / 3, "f1": 200 / 3})
    assert score_file("xquad", "de", pred, gold) == pytest.approx({"exact_match": 100 / 3, "f1": (2 / 3 + 1) / 3 * 100})
    # BUCC: sets of lines, so a repeated line counts once
    g = _write(tmp_path / "g.tsv", "de-1\ten-1\nde-2\ten-2\nde-3\ten-3\nde-4\ten-4\n")
    p = _write(tmp_path / "p.tsv", "de-1\ten-1\nde-1\ten-1\nde-2\ten-9\n")
    assert score_file("bucc2018", "de", p, g) == pytest.approx({"f1": 100 / 3, "precision": 50.0, "recall": 25.0})
    # Tatoeba: indices compared as text
    g = _write(tmp_path / "g.tsv", "0\n1\n2\n3\n4\n")
    p = _write(tmp_path / "p.tsv", "0\n1\n2\n4\n3\n")
    assert score_file("tatoeba", "sw", p, g) == {"accuracy": 60.0}


def _complete_folder(root: Path, *, pawsx_de_wrong: bool = True, mlqa_zh_missing: bool = True) -> tuple[Path, Path]:
    """Every file of a submission, all right except PAWS-X de (1 of 2 wrong) and MLQA zh (unanswered)."""
    preds, labels = root / "predictions", root / "labels"
    for task in xtreme_tasks():
        fmt = get_task(task).format
        for lang in get_task(task).scored_languages:
            rel = submission_file(task, lang)
            if fmt == "qa":
                gold, guess = _squad({"q": "Hund"}), json.dumps({} if (task, lang) == ("mlqa", "zh") and mlqa_zh_missing else {"q": "Hund"})
            elif fmt == "tagging":
                gold = guess = "B-PER\nO\n\n" if task == "panx" else "NOUN\nVERB\n\n"
            elif task == "bucc2018":
                gold = guess = f"{lang}-000001\ten-000007\n"
            else:
                gold = "0\n1\n"
                guess = "1\n1\n" if (task, lang) == ("pawsx", "de") and pawsx_de_wrong else gold
            _write(labels / rel, gold)
            _write(preds / rel, guess)
    return preds, labels


def test_complete_folder_aggregates_as_evaluate_py(tmp_path: Path) -> None:
    preds, labels = _complete_folder(tmp_path)
    out = score_folder(preds, labels)
    pawsx, mlqa = 6 * 100 / 7 + 50 / 7, 6 * 100 / 7  # one language of seven at 50 / at 0
    assert out["detailed_scores"]["pawsx"]["accuracy"]["de"] == 50.0
    assert out["detailed_scores"]["pawsx"]["avg_accuracy"] == pytest.approx(pawsx)
    assert out["detailed_scores"]["mlqa"]["exact_match"]["zh"] == 0.0
    assert out["detailed_scores"]["mlqa"]["avg_metric"] == pytest.approx(mlqa)
    assert set(out["detailed_scores"]["udpos"]) == {"f1", "precision", "recall", "avg_f1", "avg_precision", "avg_recall", "avg_metric"}
    assert out["overall_scores"] == pytest.approx({
        "all_task": (7 * 100 + pawsx + mlqa) / 9,
        "classification": (100 + pawsx) / 2,
        "tagging": 100.0,
        "qa": (200 + mlqa) / 3,
        "retrieval": 100.0,
    })  # fmt: skip
    assert list(out["overall_scores"]) == ["all_task", "classification", "tagging", "qa", "retrieval"]
    # a task folder missing on one side: that task, its group and all_task go, as in evaluate.py
    (labels / "tydiqa").rename(tmp_path / "tydiqa-away")
    partial = score_folder(preds, labels)
    assert "tydiqa" not in partial["detailed_scores"]
    assert set(partial["overall_scores"]) == {"classification", "tagging", "retrieval"}


def test_bad_input_names_file_line_and_expectation(tmp_path: Path) -> None:
    g = _write(tmp_path / "g.tsv", "0\n1\n0\n")
    p = _write(tmp_path / "p.tsv", "0\n1\n")
    with pytest.raises(DataError, match=r"p\.tsv:3: one label per line: 3 lines as in .*g\.tsv, found 2"):
        score_file("pawsx", "de", p, g)
    with pytest.raises(DataError, match=r"nothing\.tsv: a prediction file, found nothing"):
        score_file("pawsx", "de", tmp_path / "nothing.tsv", g)
    _write(p, "0\n\n1\n")
    with pytest.raises(DataError, match=r"p\.tsv:2: one label on the line, found ''"):
        score_file("pawsx", "de", p, g)
    gj = _write(tmp_path / "g.json", _squad({"q1": "Hund"}))
    pj = _write(tmp_path / "p.json", '{\n"q1": "Hund",\n}\n')
    with pytest.raises(DataError, match=r"p\.json:3: valid JSON"):
        score_file("xquad", "de", pj, gj)
    g = _write(tmp_path / "g.tsv", "B-PER\nO\n\nO\n\n")
    p = _write(tmp_path / "p.tsv", "B-PER\n\nO\n\n")
    with pytest.raises(DataError, match=r"p\.tsv:1: sentence 1: 2 tags as in .*g\.tsv, found 1"):
        score_file("panx", "de", p, g)
    _write(p, "de-1 en-1\n")
    with pytest.raises(DataError, match=r"p\.tsv:1: <xx-id><TAB><en-id>"):
        score_file("bucc2018", "de", p, _write(tmp_path / "b.tsv", "de-1\ten-1\n"))
    with pytest.raises(ValueError, match="language 'xx' for pawsx"):
        score_file("pawsx", "xx", p, g)
    preds, labels = _complete_folder(tmp_path / "sub")
    (preds / "udpos" / "test-yo.tsv").unlink()
    with pytest.raises(DataError, match=r"test-yo\.tsv: a file for every XTREME language of each task scored; 1 missing"):
        score_folder(preds, labels)


def test_cli_scores_a_folder_and_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    preds, labels = _complete_folder(tmp_path, pawsx_de_wrong=False, mlqa_zh_missing=False)
    code, out, _ = run_main(monkeypatch, capsys, "score", "xtreme", preds, labels)
    assert code == 0
    result = json.loads(out)
    assert result["overall_scores"] == {"all_task": 100.0, "classification": 100.0, "tagging": 100.0, "qa": 100.0, "retrieval": 100.0}
    assert result["detailed_scores"]["tatoeba"]["avg_metric"] == 100.0
    code, out, _ = run_main(monkeypatch, capsys, "score", "xtreme", preds / "pawsx" / "test-de.tsv", labels / "pawsx" / "test-de.tsv",
                            "--task", "pawsx", "--language", "de")  # fmt: skip
    assert code == 0 and json.loads(out) == {"task": "pawsx", "language": "de", "metrics": {"accuracy": 100.0}}
    (preds / "xnli" / "test-sw.tsv").write_text("0\n")
    code, out, err = run_main(monkeypatch, capsys, "score", "xtreme", preds, labels)
    assert code == 2 and not out
    assert err.startswith(f"xstilts: error: {preds / 'xnli' / 'test-sw.tsv'}:2: one label per line: 2 lines as in ")
    code, _, err = run_main(monkeypatch, capsys, "score", "xtreme", preds, labels, "--task", "pawsx")
    assert code == 2 and "--task and --language go together" in err
    code, _, err = run_main(monkeypatch, capsys, "score", "pawsx", preds, labels)
    assert code == 2 and "belong to 'xstilts score xtreme'" in err


# --------------------------------------------------------------------------- round trips through export


def _write_labels(task: str, lang: str, examples: list[Any], path: Path) -> None:
    """Gold in XTREME's label layout (what the scorer's LABEL side holds), from the loaded split."""
    if task in ("pawsx", "xnli"):
        _write(path, "".join(f"{ex.label}\n" for ex in examples))
    elif isinstance(examples[0], TaggingExample):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tag_predictions(path, [list(ex.tags) for ex in examples])
    elif isinstance(examples[0], QAExample):
        paragraphs = [{"context": ex.context, "qas": [{"id": ex.id, "question": ex.question,
                       "answers": [{"text": t, "answer_start": s} for t, s in ex.answers]}]} for ex in examples]  # fmt: skip
        _write(path, json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}))
    else:
        corpus: ParallelCorpus = examples[0]
        if is_aligned(corpus):  # Tatoeba: the gold en line of each xx sentence
            gold = dict(corpus.gold)
            _write(path, "".join(f"{corpus.tgt_ids.index(gold[s])}\n" for s in corpus.src_ids))
        else:
            _write(path, "".join(f"{s}\t{t}\n" for s, t in corpus.gold))


def _check_round_trip(run_dir: Path, data_root: Path, out: Path) -> tuple[Path, Path, dict[str, dict[str, dict[str, float]]]]:
    """Export, write labels beside it, and compare every exported file's scores with the run's metrics."""
    export = export_xtreme(run_dir, out / "predictions")
    reported: dict[str, dict[str, dict[str, float]]] = {}
    checked = 0
    for task, rid in export.runs.items():
        reported[task] = read_result(run_dir / rid).metrics
        for path in export.files[task]:
            lang = path.stem.split("-", 1)[1]
            assert path == out / "predictions" / submission_file(task, lang)
            examples = load_split(get_task(task), lang, "test", str(data_root)).examples
            _write_labels(task, lang, examples, out / "labels" / submission_file(task, lang))
            scores = score_file(task, lang, path, out / "labels" / submission_file(task, lang))
            for key, value in scores.items():
                assert value == pytest.approx(reported[task][lang][key], abs=TOL), (task, lang, key)
                checked += 1
    assert checked
    return out / "predictions", out / "labels", reported


def test_exported_runs_score_as_they_reported(tmp_path: Path) -> None:
    root, runs = tmp_path / "data", tmp_path / "runs"
    data = DataRoot(root)
    rng = random.Random(0)
    wrong: dict[str, dict[str, float]] = {}
    for task, write in (("pawsx", data.pawsx), ("udpos", data.udpos), ("xquad", data.xquad)):
        for lang in get_task(task).scored_languages:
            write(lang, 12)
        wrong[task] = {lang: rng.choice([0.0, 0.25, 0.5]) for lang in get_task(task).scored_languages}
    for lang in get_task("bucc2018").scored_languages:
        data.bucc(lang, 16)
    wrong["bucc2018"] = {lang: rng.choice([0.0, 0.25, 0.5]) for lang in get_task("bucc2018").scored_languages}
    data.tatoeba("de", "deu", 10)
    wrong["tatoeba"] = {"de": 0.3}  # one language only: scored per file, not as a folder
    for task, share in wrong.items():
        scored_run(runs, root, task, "none", 0, share, kind="retrieval" if task in ("bucc2018", "tatoeba") else "transfer")
    preds, labels, reported = _check_round_trip(runs, root, tmp_path / "submission")
    # the tasks exported for all their languages score as a folder too, to the report's task score
    shutil.rmtree(preds / "tatoeba")
    detailed = score_folder(preds, labels)["detailed_scores"]
    assert set(detailed) == {"pawsx", "udpos", "xquad", "bucc2018"}
    for task, scores in detailed.items():
        assert scores["avg_metric"] == pytest.approx(task_score(get_task(task), reported[task]).score, abs=TOL), task


def test_tiny_model_run_round_trip(tiny_model: Path, tmp_path: Path) -> None:
    """A real zero-shot run of the tiny random model (XNLI, en -> de), exported and re-scored."""
    from xstilts.experiment.transfer import run_transfer

    root = tmp_path / "data"
    write_nli(root / "mnli" / "en.train.tsv", 32, 1)
    write_nli(root / "mnli" / "en.dev.tsv", 8, 2)
    write_nli(root / "xnli" / "en.test.tsv", 20, 3)
    write_nli(root / "xnli" / "de.test.tsv", 20, 4, "de")
    user = {
        "model": {"name": str(tiny_model)},
        "data": {"data_dir": str(root)},
        "train": {"max_steps": 2, "batch_size": 8, "lr": 1e-3, "eval_every": 2, "precision": "fp32", "max_length": 32},
    }
    result = run_transfer("xnli", "none", user, tmp_path / "runs")
    assert set(result.metrics) == {"de", "en"}
    _check_round_trip(tmp_path / "runs", root, tmp_path / "submission")
