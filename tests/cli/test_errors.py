"""Bad input on the command line: one line on stderr naming what was expected, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import cli, run_main


def test_unknown_override_is_one_line_exit_2(tmp_path: Path) -> None:
    res = cli("train", "mnli", "train.learning_rate=1", "--out", str(tmp_path))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown config key 'train.learning_rate'" in lines[0] and "train.lr" in lines[0]
    assert "Traceback" not in res.stderr


def test_bad_data_is_one_line_with_file_and_line(tmp_path: Path, tiny_model: Path) -> None:
    root = tmp_path / "data"
    (root / "mnli").mkdir(parents=True)
    (root / "mnli" / "en.train.tsv").write_text("premise\thypothesis\tlabel\na\tb\tentailment\nc\td\tperhaps\n")
    res = cli("train", "mnli", "--model", str(tiny_model), "--data-dir", str(root), "--out", str(tmp_path / "runs"))
    assert res.returncode == 2
    assert res.stderr.strip() == f"xstilts: error: {root / 'mnli' / 'en.train.tsv'}:3: a label in {{entailment, neutral, contradiction}} (or an alias), found 'perhaps'"
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    debug = cli("--debug", "train", "mnli", "--model", str(tiny_model), "--data-dir", str(root), "--out", str(tmp_path / "runs"))
    assert "Traceback" in debug.stderr


def test_bad_inputs_are_one_line_exit_2(
    grid: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    _, runs = grid
    code, _, err = run_main(monkeypatch, capsys, "results", runs, "--format", "xml")
    assert code == 2 and err.strip() == "xstilts: error: --format xml: table, csv or json"
    code, _, err = run_main(monkeypatch, capsys, "claims", "nonesuch", runs)
    assert code == 2 and "not a bundled claim file" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(monkeypatch, capsys, "report", tmp_path / "missing")
    assert code == 2 and "missing" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nclaims:\n  - {id: a, text: t, type: top_k, k: 2, expected: [mnli]}\n")
    code, _, err = run_main(monkeypatch, capsys, "claims", bad, runs)
    assert code == 2 and str(bad) in err and "top_k needs k" in err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("xstilts: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("train.batch_size=-4", "config train.batch_size: Input should be greater than 0 (got -4)"),
        ("train.batch_size=0", "config train.batch_size: Input should be greater than 0 (got 0)"),
        ("train.max_length=0", "config train.max_length: Input should be greater than 0 (got 0)"),
        ("eval.max_examples=-1", "config eval.max_examples: Input should be greater than or equal to 0 (got -1)"),
        ("train.lr=nan", "config train.lr: Input should be a finite number (got nan)"),
        ("train.dropout=1.0", "config train.dropout: Input should be less than 1 (got 1.0)"),
    ],
)
def test_out_of_range_config_is_one_line_exit_2(
    override: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = run_main(monkeypatch, capsys, "train", "mini_nli", override, "--out", tmp_path / "runs")
    assert code == 2 and one_error_line(err) == f"xstilts: error: {expected}"
    assert not (tmp_path / "runs").exists()


def test_bad_paths_are_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder\n")
    for command in (["train", "mini_nli"], ["transfer", "--target", "mini_nli"], ["run", "smoke"], ["demo"]):
        code, _, err = run_main(monkeypatch, capsys, *command, "--out", a_file)
        assert code == 2 and one_error_line(err) == f"xstilts: error: --out {a_file}: expected a folder for runs, found a file"
    code, _, err = run_main(monkeypatch, capsys, "train", "mini_nli", "--out", a_file / "runs")
    assert code == 2 and one_error_line(err) == f"xstilts: error: --out {a_file / 'runs'}: expected a folder for runs, found a file at {a_file}"

    missing = tmp_path / "no-such-model"
    code, _, err = run_main(monkeypatch, capsys, "train", "mini_nli", "--model", missing, "--out", tmp_path / "runs")
    assert code == 2 and one_error_line(err) == (
        f"xstilts: error: --model {missing}: expected a model folder, a hub id such as org/name, or 'embedded'; found nothing there"
    )
    code, _, err = run_main(monkeypatch, capsys, "train", "mini_nli", "--model", a_file, "--out", tmp_path / "runs")
    assert code == 2 and one_error_line(err).endswith("found a file")
    code, _, err = run_main(monkeypatch, capsys, "train", "mini_nli", "model.name=./typo/model", "--out", tmp_path / "runs")
    assert code == 2 and one_error_line(err).startswith("xstilts: error: model.name ./typo/model: expected a model folder")

    code, _, err = run_main(monkeypatch, capsys, "train", "mini_nli", "--config", tmp_path / "missing.yaml", "--out", tmp_path / "runs")
    assert code == 2 and one_error_line(err) == f"xstilts: error: {tmp_path / 'missing.yaml'}: no such file or folder"
    code, _, err = run_main(monkeypatch, capsys, "train", "mini_nli", "--config", tmp_path, "--out", tmp_path / "runs")
    assert code == 2 and one_error_line(err) == f"xstilts: error: {tmp_path}: expected a file, found a folder"
    assert not (tmp_path / "runs").exists()


def test_undecodable_prediction_files_are_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    truncated = tmp_path / "qa.json"
    truncated.write_text('{"q1": "an answer",\n')
    code, _, err = run_main(monkeypatch, capsys, "score", "mini_qa", "--predictions", truncated, "--language", "en")
    assert code == 2 and one_error_line(err).startswith(f"xstilts: error: {truncated}:2: ")
    latin1 = tmp_path / "nli.txt"
    latin1.write_bytes(b"entailment\nneutral\xe9\n")
    code, _, err = run_main(monkeypatch, capsys, "score", "mini_nli", "--predictions", latin1, "--language", "en")
    assert code == 2 and one_error_line(err).startswith(f"xstilts: error: {latin1}:2: ")


def test_decoding_errors_name_the_file_they_came_from(tmp_path: Path) -> None:
    import json

    from xstilts.cli import decode_error

    preds = tmp_path / "p.json"
    preds.write_text('{"a":\n  1,,}\n')
    try:
        json.loads(preds.read_text())
    except json.JSONDecodeError as err:
        assert str(decode_error(err, preds)) == f"{preds}:2: valid JSON (Expecting property name enclosed in double quotes at column 5)"
        other = tmp_path / "other.json"
        other.write_text("{}")
        assert decode_error(err, other) is err  # never blamed on a file that did not hold the text
    raw = b"ok\nok\n\xff\n"
    preds.write_bytes(raw)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        assert str(decode_error(err, preds)) == f"{preds}:3: UTF-8 text (byte 0xff at offset 6 is not UTF-8)"


def test_a_diverging_run_exits_1_naming_the_step(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    args = ["train.lr=1e9", "train.max_steps=6", "train.eval_every=1", "train.eval_examples=16", "train.max_length=64",
            "data.max_train_examples=64", "train.precision=fp32", "train.device=cpu"]
    code, _, err = run_main(monkeypatch, capsys, "train", "mini_nli", "--model", tiny_model, "--out", tmp_path / "runs", *args)
    line = one_error_line(err)
    assert code == 1
    assert line.startswith("xstilts: error: train mini_nli: non-finite loss (nan) at step ")
    assert "keeping the weights of step" in line and str(tmp_path / "runs") in line


def test_unlabelled_training_file_and_unsafe_language_are_one_line_exit_2(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    root = tmp_path / "data"
    (root / "mnli").mkdir(parents=True)
    rows = "".join(f"a{i}\tb{i}\t-\n" for i in range(4))  # '-' marks an unlabelled row (SNLI's convention)
    (root / "mnli" / "en.train.tsv").write_text("premise\thypothesis\tlabel\n" + rows, encoding="utf-8")
    (root / "mnli" / "en.dev.tsv").write_text("premise\thypothesis\tlabel\nx\ty\tneutral\n", encoding="utf-8")
    args = ["train", "mnli", "--model", str(tiny_model), "--data-dir", str(root), "--out", str(tmp_path / "runs")]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 2 and err.startswith(f"xstilts: error: {root / 'mnli' / 'en.train.tsv'}: labelled mnli training examples, found none")
    code, _, err = run_main(monkeypatch, capsys, *args, "data.train_language=../outside")
    assert code == 2 and "language '../outside': a plain name" in err and len(err.strip().splitlines()) == 1
