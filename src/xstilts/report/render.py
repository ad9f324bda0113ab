"""Writing the report: Markdown, HTML, CSV, LaTeX and PNG files in ``RUN_DIR/report/``.

Every file is written atomically (temp file + rename), so a reader never sees half a report and a
crash leaves the previous one intact. Every string that comes from data (task, intermediate and run
names, notes) is escaped for the format it lands in: Markdown, HTML or LaTeX.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from xstilts.paths import atomic_write_bytes, atomic_write_text, safe_child, safe_name, strict_json_dumps
from xstilts.report import plots
from xstilts.report.robustness import curve_cells, shift_cells, shift_notes, to_json
from xstilts.report.selection import selection_table
from xstilts.report.tables import (
    Report,
    best_cells,
    best_summary,
    delta_cells,
    power_cells,
    score_cells,
    selection_cells,
    selection_notes,
    test_cells,
    xtreme_cells,
    xtreme_notes,
)
from xstilts.runs import NO_INTERMEDIATE

REPORT_DIR = "report"


_MARKDOWN = {"\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "|": "\\|",
             "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "}


def md_escape(text: object) -> str:
    """Text shown literally by any Markdown renderer: no emphasis, link, code, raw HTML or table cell break.

    Example:
        >>> md_escape("<script>|a_b")
        '&lt;script&gt;\\\\|a\\\\_b'
    """
    return "".join(_MARKDOWN.get(ch, ch) for ch in str(text))


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-style table (no ``tabulate`` dependency); every cell is escaped (:func:`md_escape`)."""
    if frame.empty:
        return "_(none)_\n"

    def cell(v: object) -> str:
        return md_escape(v)

    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
          "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$", "–": "--", "<": r"\textless{}",
          ">": r"\textgreater{}", "|": r"\textbar{}"}


def file_part(text: object) -> str:
    """A name from data made safe as part of a file name: letters, digits, ``-``, ``_`` and ``.`` only."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(text)).strip(".") or "_"


def _latex_escape(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in text)


def latex_table(frame: pd.DataFrame, caption: str) -> str:
    """A booktabs tabular; written by hand so it needs neither jinja2 nor pandas' Styler."""
    cols = "l" + "r" * (len(frame.columns) - 1)
    out = [r"\begin{table}[t]", r"\centering", rf"\begin{{tabular}}{{{cols}}}", r"\toprule"]
    out.append(" & ".join(_latex_escape(str(c)) for c in frame.columns) + r" \\")
    out.append(r"\midrule")
    out += [" & ".join(_latex_escape(str(v)) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    out += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_latex_escape(caption)}}}", r"\end{table}"]
    return "\n".join(out) + "\n"


def _bullets(lines: Iterable[str]) -> str:
    return "".join(f"- {md_escape(line)}\n" for line in lines)


def sections(report: Report) -> list[tuple[str, pd.DataFrame | None, list[str]]]:
    """(title, table, sentences) in report order; shared by Markdown and HTML."""
    s = report.scores
    intro = [f"model: {s.model}", f"{len(s.runs)} evaluation runs, {s.runs['target'].nunique()} targets, "
             f"{s.runs['intermediate'].nunique()} intermediate settings (incl. none)"]  # fmt: skip
    return [
        ("Runs", None, intro),
        ("XTREME score by intermediate task", xtreme_cells(report.xtreme),
         ["Task score: mean over the task's languages (English included); QA: (mean EM + mean F1) / 2.",
          "The XTREME score is the mean of all nine task scores; with fewer tasks the partial mean is shown.",
          *xtreme_notes(report.xtreme)]),
        ("Task score: mean ± std over seeds (seeds)", score_cells(report.matrix), []),
        ("Change vs none: mean ± std of per-seed deltas (pairs)", delta_cells(report.matrix),
         ["Paired by seed; a baseline with one seed is the fixed reference for every seed."]),
        ("Best intermediate task per target", best_cells(report.best), best_summary(report.best)),
        *([("Best-per-target gain, selection-corrected (mean over targets, paired by seed)",
            selection_cells(report.selection), selection_notes(report.selection))] if report.selection else []),
        *([("Change vs none, tested: Holm and Benjamini-Hochberg over the matrix", test_cells(report.tests),
            ["p: the larger of the paired t-test over seeds (3+ seeds) and the paired bootstrap over test examples; "
             "both must reject for a verdict. Holm controls the family-wise error, BH the false discovery rate, "
             f"over all {len(report.tests)} cells."])] if not report.tests.empty else []),
        *([("Seeds and power", power_cells(report.power),
            ["From the measured s.d. of per-seed deltas (pooled over each target's intermediate tasks): the "
             "smallest effect the grid's seeds detect with 80% power (two-sided paired t-test, alpha 0.05), and the "
             "seeds an effect of 1 or 2 points needs. With fewer than 3 seeds nothing is detectable: the seed check "
             "is a sign test."])] if not report.power.empty else []),
        *([("Robustness under domain shift", shift_cells(report.shift), shift_notes(report.shift))]
          if not report.shift.gaps.empty else []),
        *([("Robustness to perturbations: score by noise rate p (mean over seeds)", curve_cells(report.curves),
            ["Seeded perturbations of the test set (xstilts.data.perturb): p is the share of words (punctuation "
             "marks for punct) changed; p=0 is the run's own score."])] if not report.curves.empty else []),
        ("Notes", None, s.notes),
    ]  # fmt: skip


def to_markdown(report: Report, images: dict[str, str]) -> str:
    out = [f"# xstilts report: {md_escape(report.run_dir)}\n"]
    for title, table, lines in sections(report):
        if table is None and not lines:
            continue
        out.append(f"\n## {md_escape(title)}\n\n" + (markdown_table(table) + "\n" if table is not None else "") + _bullets(lines))
    if images:
        out.append("\n## Figures\n\n" + "".join(f"![{md_escape(name)}](<{file}>)\n\n" for name, file in images.items()))
    return "".join(out)


def to_html(report: Report, images: dict[str, str]) -> str:
    body = [f"<h1>xstilts report: {html.escape(str(report.run_dir))}</h1>"]
    for title, table, lines in sections(report):
        if table is None and not lines:
            continue
        body.append(f"<h2>{html.escape(title)}</h2>")
        if table is not None:
            body.append(table.to_html(index=False, escape=True, border=0, classes="scores"))
        if lines:
            body.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>")
    for name, file in images.items():
        body.append(f'<h3>{html.escape(name)}</h3><img src="{html.escape(file)}" alt="{html.escape(name)}">')
    style = "body{font-family:sans-serif;max-width:1200px;margin:auto}table.scores{border-collapse:collapse}" \
            "table.scores td,table.scores th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
    return f"<!doctype html><html><head><meta charset='utf-8'><title>xstilts report</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n"


def write_report(report: Report) -> dict[str, Path]:
    """Write every report file; returns name -> path of what was written."""
    out = report.run_dir / REPORT_DIR
    written: dict[str, Path] = {}

    def put(name: str, data: str | bytes) -> None:
        path = safe_child(out, safe_name(name, "report file"))
        (atomic_write_bytes if isinstance(data, bytes) else atomic_write_text)(path, data)  # type: ignore[operator]
        written[name] = path

    images: dict[str, str] = {}
    heat = plots.delta_heatmap(report.matrix)
    if heat is not None:
        put("delta_heatmap.png", heat)
        images["change vs none"] = "delta_heatmap.png"
    for target in sorted(report.lang_deltas["target"].unique()):
        png = plots.language_bars(report.lang_deltas, target)
        if png is not None:
            file = f"languages_{file_part(target)}.png"
            put(file, png)
            images[f"{target} per language"] = file
    put("runs.csv", report.scores.runs.to_csv(index=False))
    put("languages.csv", report.scores.languages.to_csv(index=False))
    put("matrix.csv", report.matrix.to_csv(index=False))
    put("language_deltas.csv", report.lang_deltas.to_csv(index=False))
    put("best_per_target.csv", report.best.table.to_csv(index=False))
    if report.selection:
        put("selection.csv", selection_table(report.selection).to_csv(index=False))
        put("selection.tex", latex_table(selection_cells(report.selection), "Best-per-target gain by selection rule (95% CI)."))
    put("matrix_tests.csv", report.tests.to_csv(index=False))
    put("power.csv", report.power.to_csv(index=False))
    put("xtreme.csv", xtreme_cells(report.xtreme).to_csv(index=False))
    put("matrix.tex", latex_table(score_cells(report.matrix), "Task score, mean ± std over seeds (seeds)."))
    put("delta.tex", latex_table(delta_cells(report.matrix), "Change vs no intermediate task, mean ± std of paired per-seed deltas."))
    put("xtreme.tex", latex_table(xtreme_cells(report.xtreme), "XTREME score by intermediate task."))
    rob = report.shift
    if not rob.empty:
        for protocol in sorted(rob.domains["protocol"].unique()):
            part = file_part(protocol)
            png = plots.gap_bars(rob.gaps, protocol)
            if png is not None:
                put(f"gaps_{part}.png", png)
                images[f"domain gap: {protocol}"] = f"gaps_{part}.png"
            png = plots.domain_heatmap(rob.domains, protocol, NO_INTERMEDIATE)
            if png is not None:
                put(f"domains_{part}.png", png)
                images[f"language x domain ({NO_INTERMEDIATE}): {protocol}"] = f"domains_{part}.png"
        put("robustness_gaps.csv", rob.gaps.to_csv(index=False))
        put("robustness_changes.csv", rob.changes.to_csv(index=False))
        put("robustness_domains.csv", rob.domains.to_csv(index=False))
        put("robustness.json", strict_json_dumps(to_json(rob)) + "\n")
        if not rob.gaps.empty:
            put("robustness.tex", latex_table(shift_cells(rob), "Robustness under domain shift: in- and out-of-domain "
                                              "scores, gap, and its change vs no intermediate task (95% paired bootstrap CI)."))
    if not report.curves.empty:
        for target in sorted(report.curves["target"].unique()):
            png = plots.perturbation_lines(report.curves, target)
            if png is not None:
                put(f"perturbation_{file_part(target)}.png", png)
                images[f"{target} under perturbation"] = f"perturbation_{file_part(target)}.png"
        put("perturbation_curves.csv", report.curves.to_csv(index=False))
    put("summary.md", to_markdown(report, images))
    put("summary.html", to_html(report, images))
    return written
