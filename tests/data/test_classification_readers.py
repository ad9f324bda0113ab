"""Classification readers: plain files, release files, slicing, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_shared_data
from xstilts.data.load import available_languages, load_split
from xstilts.data.schema import DataError
from xstilts.tasks.registry import get_task


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_plain_tsv_labels_by_name_and_meta(tmp_path: Path) -> None:
    write(tmp_path / "xnli" / "de.test.tsv", "genre\tlabel\tpremise\thypothesis\nfiction\tc\tA.\tB.\ntravel\tentailment\tC.\tD.\n")
    split = load_split(get_task("xnli"), "de", "test", tmp_path)
    assert [ex.label for ex in split.examples] == ["contradiction", "entailment"]
    assert split.examples[0].meta == {"genre": "fiction"}
    assert len(split.fingerprint) == 16


def test_slices_keep_file_order(tmp_path: Path) -> None:
    rows = "".join(f"g\tneutral\tp{i}\th{i}\n" for i in range(10))
    write(tmp_path / "xnli" / "en.dev.tsv", "genre\tlabel\tpremise\thypothesis\n" + rows)
    task = get_task("xnli")
    head = load_split(task, "en", "dev[:80%]", tmp_path).examples
    tail = load_split(task, "en", "dev[80%:]", tmp_path).examples
    assert [e.text_a for e in head] == [f"p{i}" for i in range(8)]
    assert [e.text_a for e in tail] == ["p8", "p9"]
    assert load_split(task, "en", "dev[2:4]", tmp_path).examples[0].text_a == "p2"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("premise\tlabel\nA.\tentailment\n", "text columns"),
        ("premise\thypothesis\tlabel\nA.\tB.\tmaybe\n", "a label in {entailment, neutral, contradiction}"),
        ("premise\thypothesis\tlabel\nA.\tB.\n", "3 fields"),
        (b"premise\thypothesis\tlabel\nA.\tB\xff.\tneutral\n", "UTF-8"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = write(tmp_path / "xnli" / "en.test.tsv", content)
    with pytest.raises(DataError) as err:
        load_split(get_task("xnli"), "en", "test", tmp_path)
    assert str(err.value).startswith(f"{path}:2:")
    assert expected in str(err.value)


def test_jsonl_rows_must_agree_on_labels(tmp_path: Path) -> None:
    path = write(tmp_path / "mnli" / "en.train.jsonl", '{"premise": "a", "hypothesis": "b", "label": "e"}\n{"premise": "c", "hypothesis": "d"}\n')
    with pytest.raises(DataError, match=f"{path}:2: a label column"):
        load_split(get_task("mnli"), "en", "train", tmp_path)


def test_missing_files_say_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "pawsx").mkdir()
    with pytest.raises(DataError, match=r"ja\.test\.<tsv"):
        load_split(get_task("pawsx"), "ja", "test", tmp_path)


def test_release_formats(tmp_path: Path) -> None:
    header = "language\tgold_label\tsentence1_binary_parse\tsentence1\tsentence2\tpromptID\tpairID\tgenre\n"
    write(tmp_path / "xnli" / "xnli.test.tsv", header + "de\tneutral\t( x )\tA\tB\t1\t7\tslate\nfr\tentailment\t( x )\tC\tD\t1\t8\tslate\n")
    de = load_split(get_task("xnli"), "de", "test", tmp_path).examples
    assert len(de) == 1 and de[0].id == "7" and de[0].meta == {"genre": "slate", "promptID": "1"}
    write(tmp_path / "pawsx" / "x-final" / "de" / "dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n")
    assert load_split(get_task("pawsx"), "de", "dev", tmp_path).examples[0].label == "1"
    write(tmp_path / "anli" / "R2" / "dev.jsonl", '{"uid": "u", "context": "c", "hypothesis": "h", "label": "n", "reason": ""}\n')
    assert load_split(get_task("anli"), "en", "dev_r2", tmp_path).examples[0].label == "neutral"
    write(tmp_path / "snli" / "snli_1.0_dev.jsonl", '{"sentence1": "a", "sentence2": "b", "gold_label": "-"}\n')
    assert load_split(get_task("snli"), "en", "dev", tmp_path).examples[0].label is None
    write(tmp_path / "qqp" / "dev.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t1\t2\ta?\tb?\t1\n")
    assert load_split(get_task("qqp"), "en", "dev", tmp_path).examples[0].label == "1"
    assert available_languages(get_task("xnli"), "test", tmp_path) == ["de", "fr"]


@pytest.mark.realdata
def test_shared_xnli_pawsx_anli() -> None:
    root = require_shared_data()
    require_shared_data("xnli")
    for lang in ("en", "sw", "ur"):
        test = load_split(get_task("xnli"), lang, "test", root).examples
        dev = load_split(get_task("xnli"), lang, "dev", root).examples
        assert (len(dev), len(test)) == (2490, 5010)
        assert len({ex.meta["genre"] for ex in test}) == 10
        assert {ex.label for ex in test} == {"entailment", "neutral", "contradiction"}
    assert len(load_split(get_task("pawsx"), "de", "test", root).examples) == 2000
    dev = load_split(get_task("anli"), "en", "dev", root).examples
    assert len(dev) == 1000 + 1000 + 1198
    assert all(ex.label in {"entailment", "neutral", "contradiction"} for ex in dev)
