"""Report files: every format written into RUN_DIR/report/, with the numbers the tables hold."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from tests.report.test_matrix import grid
from xstilts.report.render import latex_table, markdown_table, write_report
from xstilts.report.tables import build_report


def test_report_files_are_written(tmp_path: Path) -> None:
    grid(tmp_path)
    written = write_report(build_report(tmp_path))
    out = tmp_path / "report"
    expected = {"summary.md", "summary.html", "runs.csv", "matrix.csv", "language_deltas.csv", "best_per_target.csv",
                "xtreme.csv", "matrix.tex", "delta.tex", "xtreme.tex", "delta_heatmap.png", "languages_pawsx.png",
                "languages_tatoeba.png", "languages.csv"}  # fmt: skip
    assert expected <= set(written)
    assert all(p.parent == out and p.is_file() and p.stat().st_size > 0 for p in written.values())
    assert (out / "delta_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "summary.md").read_text()
    assert "82.00 ± 2.00 (3)" in md and "+12.00 ± 2.00 (3)" in md and "optimistic" in md
    assert "2/9 partial" in md and "partial (not the XTREME score) for none, mnli, squad: missing xnli" in md
    assert "<table" in (out / "summary.html").read_text()
    matrix = pd.read_csv(out / "matrix.csv")
    assert set(matrix.columns) >= {"intermediate", "target", "mean", "std", "delta_mean", "delta_std", "n_pairs"}
    tex = (out / "matrix.tex").read_text()
    assert r"\begin{tabular}" in tex and r"$\pm$" in tex
    assert not list(out.glob(".*tmp"))


def test_markdown_and_latex_escape_cells() -> None:
    frame = pd.DataFrame({"intermediate": ["squad_v2", "a|b"], "x": ["1 & 2", "50%"]})
    assert r"a\|b" in markdown_table(frame)
    tex = latex_table(frame, "t")
    assert r"squad\_v2" in tex and r"1 \& 2" in tex and r"50\%" in tex



HOSTILE = "<script>alert(1)</script>|*x*_[l](http://e)`"


def test_strings_from_data_are_escaped_in_every_format(tmp_path: Path) -> None:
    from tests.report.synthetic import uniform, write_run

    for seed in range(2):
        write_run(tmp_path, "pawsx", "none", seed, uniform("pawsx", accuracy=80.0))
        metrics = {**uniform("pawsx", accuracy=85.0), "<img src=x onerror=alert(1)>|": {"accuracy": 1.0}}  # a hostile language code
        write_run(tmp_path, "pawsx", HOSTILE, seed, metrics, run_id=f"transfer-hostile-{seed}")
    write_run(tmp_path, "pawsx", "none", 0, uniform("pawsx", accuracy=80.0), run_id="broken|<b>")
    (tmp_path / "broken|<b>" / "result.json").write_text("{")  # an unreadable run: its name lands in the notes
    written = write_report(build_report(tmp_path))
    md, html_text, tex = (written[n].read_text() for n in ("summary.md", "summary.html", "matrix.tex"))
    for text in (md, html_text):
        assert "<script" not in text and "<img src=x" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    # Markdown shows the name literally (no HTML, emphasis, link or code) and it adds no table cell
    assert r"&lt;script&gt;alert(1)&lt;/script&gt;\|\*x\*\_\[l\](http://e)\`" in md
    assert r"broken\|&lt;b&gt;" in md
    for block in re.findall(r"(?:^\|.*\n)+", md, flags=re.M):  # every row of a table has its header's cell count
        assert len({len(re.split(r"(?<!\\)\|", row)) for row in block.splitlines()}) == 1, block
    assert sum("script" in row for block in re.findall(r"(?:^\|.*\n)+", md, flags=re.M) for row in block.splitlines()) >= 2
    assert r"\textless{}script\textgreater{}alert(1)\textless{}/script\textgreater{}\textbar{}" in tex
