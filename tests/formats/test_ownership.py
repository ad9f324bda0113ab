"""A format owns everything that depends on it: no code outside ``xstilts.formats`` switches on one.

The check reads the package's source: a comparison with a format's name (``task.format == "qa"``,
``fmt in ("tagging", ...)``), a ``match`` on one, or an ``isinstance`` test against an example type
outside the formats and the readers that build those types would mean a format's knowledge leaked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import xstilts

PACKAGE = Path(xstilts.__file__).parent
FORMAT_NAMES = {"classification", "multiple_choice", "qa", "tagging", "retrieval"}
EXAMPLE_TYPES = {"ClassificationExample", "MultipleChoiceExample", "QAExample", "TaggingExample", "ParallelCorpus"}
#: the readers build each format's example type, so they may test for one (but never switch on a name)
READERS = "data"


def _strings(node: ast.AST) -> set[str]:
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.add(sub.value)
    return found


def _mentions_run_kind(node: ast.AST) -> bool:
    """``stage.kind == "retrieval"`` names a kind of run (RunKind), which shares the word with the format."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    return any(name == "kind" or name.endswith("_kind") for name in names)


def leaks(source: str, where: str, types_allowed: bool = False) -> list[str]:
    """Places in ``source`` that compare a format's name or (unless allowed) test an example's type."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            names = _strings(node) & FORMAT_NAMES
            if names and not _mentions_run_kind(node):
                out.append(f"{where}:{node.lineno}: compares with {sorted(names)}")
        elif isinstance(node, ast.match_case):
            names = _strings(node.pattern) & FORMAT_NAMES
            if names:
                out.append(f"{where}:{node.pattern.lineno}: matches {sorted(names)}")
        elif not types_allowed and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" and len(node.args) == 2:
            types = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)} & EXAMPLE_TYPES
            if types:
                out.append(f"{where}:{node.lineno}: isinstance against {sorted(types)}")
    return out


def test_the_checker_finds_each_kind_of_leak() -> None:
    source = (
        "if task.format == 'qa': pass\n"
        "ok = fmt in ('tagging', 'other')\n"
        "match task.format:\n    case 'retrieval': pass\n"
        "isinstance(ex, (QAExample, int))\n"
        "labels = {'qa': 1}\n"  # a mapping key is not a switch
        "if stage.kind == 'retrieval': pass\n"  # a kind of run, not a format
    )
    found = leaks(source, "x.py")
    assert [line.split(":")[1] for line in found] == ["1", "2", "4", "5"]


def test_no_code_outside_the_formats_switches_on_a_format() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "formats":
            continue
        found += leaks(path.read_text(encoding="utf-8"), str(rel), types_allowed=rel.parts[0] == READERS)
    assert not found, "format knowledge outside xstilts.formats:\n" + "\n".join(found)
