"""Print every corpus case with its exit code and the line it now prints (Markdown), for notes and reviews.

``python -m tests.corpus.table`` builds the tiny model and a tiny MNLI run in a temporary folder, walks the
corpus through the real entry point, and prints one table row per case; paths are shown relative to the case.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path

from tests.corpus.cases import CASES, Case
from tests.corpus.test_corpus import materialise


def run_case(case: Case, root: Path, places: dict[str, str]) -> tuple[int, str]:
    from xstilts.cli import main

    args = materialise(case, root, places)
    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = ["xstilts", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    text = err.getvalue().strip().splitlines() or out.getvalue().strip().splitlines()
    line = text[-1] if code else next((t for t in text if case.shows in t), text[-1] if text else "")
    return code, line.strip().replace(str(root) + "/", "").replace(places["M"], "TINY")


def main() -> None:
    from tests.e2e.test_transfer_tiny import write_nli
    from xstilts.config import build_config
    from xstilts.models.tiny import build_tiny_model
    from xstilts.train.phase import train_run

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        build_tiny_model(base / "tiny", seed=0)
        write_nli(base / "data" / "mnli" / "en.train.tsv", 16, 1)
        write_nli(base / "data" / "mnli" / "en.dev.tsv", 8, 2)
        cfg = build_config(
            {
                "model": {"name": str(base / "tiny")},
                "data": {"data_dir": str(base / "data")},
                "train": {"max_steps": 1, "batch_size": 4},
            }
        )
        train_run(["mnli"], cfg, base / "runs")
        trained = next((base / "runs").iterdir())
        print("| case | command | exit | prints |\n|---|---|---|---|")
        for i, case in enumerate(CASES):
            root = base / f"case{i}"
            root.mkdir()
            places = {"R": str(root), "M": str(base / "tiny")}
            if "{RUN}" in case.args:
                shutil.copytree(trained, root / "run")
                places["RUN"] = str(root / "run")
            code, line = run_case(case, root, places)
            line = line.replace("|", "\\|")
            print(f"| {case.name} | {case.command} | {code} | `{line}` |")


if __name__ == "__main__":
    main()
