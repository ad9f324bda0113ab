"""Names that come from data or a config never build a path outside the task's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from xstilts.data.load import load_split
from xstilts.paths import UnsafePathError
from xstilts.tasks.registry import get_task


@pytest.mark.parametrize(("lang", "split"), [("../outside", "dev"), ("en", "../../etc/passwd"), ("en/..", "dev"), ("", "dev")])
def test_language_and_split_must_be_plain_names(tmp_path: Path, lang: str, split: str) -> None:
    (tmp_path / "xnli").mkdir()
    with pytest.raises(UnsafePathError, match="a plain name"):
        load_split(get_task("xnli"), lang, split, tmp_path)


def test_slices_of_a_plain_split_still_load(tmp_path: Path) -> None:
    folder = tmp_path / "xnli"
    folder.mkdir()
    rows = "".join(f"p{i}\th{i}\tentailment\n" for i in range(10))
    (folder / "en.dev.tsv").write_text("premise\thypothesis\tlabel\n" + rows, encoding="utf-8")
    assert len(load_split(get_task("xnli"), "en", "dev[:80%]", tmp_path).examples) == 8
