"""Adding a task is adding one file: a module outside the package registers it, and the recipe runs it.

Each test writes a new task module into ``tmp_path`` (a classification task and a QA task), imports
it from there, and runs the X-STILTs recipe (no intermediate task) on the tiny model with plain-named
data files. Nothing in the package is touched; the registry entries go again after each test.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.tasks.checks import problems
from xstilts.experiment.transfer import run_transfer
from xstilts.tasks import registry
from xstilts.tasks.registry import get_task

NLI_MODULE = '''
"""My NLI: a new classification task, trained in English and scored zero-shot in German."""

from xstilts.tasks.base import Task
from xstilts.tasks.registry import register

register(
    Task(
        name="my_nli",
        format="classification",
        role="target",
        languages=("en", "de"),
        splits={"train": True, "dev": True, "test": True},
        metric="accuracy",
        description="My NLI: three-way entailment, English train/dev, German test.",
        citation="Me. My NLI. 2025.",
        labels=("entailment", "neutral", "contradiction"),
        label_aliases={"e": "entailment", "n": "neutral", "c": "contradiction"},
    )
)
'''

QA_MODULE = '''
"""My QA: a new extractive QA task, trained in English and scored zero-shot in German."""

from xstilts.tasks.base import Task
from xstilts.tasks.registry import register

register(
    Task(
        name="my_qa",
        format="qa",
        role="target",
        languages=("en", "de"),
        splits={"train": True, "dev": True, "test": True},
        metric="f1",
        description="My QA: short contexts with one answer span, English train/dev, German test.",
        citation="Me. My QA. 2025.",
    )
)
'''

NLI_WORDS = {
    "en": {"entailment": "yes", "neutral": "maybe", "contradiction": "no"},
    "de": {"entailment": "ja", "neutral": "vielleicht", "contradiction": "nein"},
}
QA_WORDS = {"en": ("The colour of box {i} is {a}.", "What colour is box {i}?"),
            "de": ("Die Farbe von Kiste {i} ist {a}.", "Welche Farbe hat Kiste {i}?")}
COLOURS = ("red", "green", "blue", "yellow")


def write_nli(path: Path, n: int, seed: int, lang: str) -> None:
    rng = random.Random(seed)
    rows = ["premise\thypothesis\tlabel"]
    for i in range(n):
        label = rng.choice(list(NLI_WORDS[lang]))
        rows.append(f"sentence {i} about things\t{NLI_WORDS[lang][label]} it is so {i}\t{label}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_qa(path: Path, n: int, seed: int, lang: str) -> None:
    rng = random.Random(seed)
    context_tpl, question_tpl = QA_WORDS[lang]
    lines = []
    for i in range(n):
        answer = rng.choice(COLOURS)
        context = context_tpl.format(i=i, a=answer)
        row = {"id": f"{lang}-{i}", "context": context, "question": question_tpl.format(i=i),
               "answers": {"text": [answer], "answer_start": [context.index(answer)]}}
        lines.append(json.dumps(row, ensure_ascii=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def task_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Import a task module written into ``tmp_path``; forget the module and its tasks afterwards."""
    folder = tmp_path / "my_tasks"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    registry.all_tasks()  # the package's own tasks first, so ours cannot shadow one unnoticed
    before = set(registry._TASKS)
    imported: list[str] = []

    def write_and_import(name: str, source: str) -> None:
        (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        importlib.invalidate_caches()
        importlib.import_module(name)
        imported.append(name)

    yield write_and_import
    for name in set(registry._TASKS) - before:
        del registry._TASKS[name]
    for name in imported:
        sys.modules.pop(name, None)


def user(tiny_model: Path, root: Path, **train: object) -> dict:
    base = {"max_steps": 4, "batch_size": 8, "lr": 1e-3, "precision": "fp32", "max_length": 48, "device": "cpu"}
    return {"model": {"name": str(tiny_model)}, "data": {"data_dir": str(root)}, "train": {**base, **train}}


def test_a_classification_task_is_one_file(task_module: Callable[[str, str], None], tiny_model: Path, tmp_path: Path) -> None:
    task_module("my_nli_task_xyz", NLI_MODULE)
    task = get_task("my_nli")
    assert task.format == "classification" and problems(task) == []
    root = tmp_path / "data"
    write_nli(root / "my_nli" / "en.train.tsv", 32, 1, "en")
    write_nli(root / "my_nli" / "en.dev.tsv", 8, 2, "en")
    write_nli(root / "my_nli" / "de.test.tsv", 12, 3, "de")
    out = tmp_path / "runs"
    result = run_transfer("my_nli", "none", user(tiny_model, root), out)
    assert result.task == "my_nli" and result.intermediate == "none"
    assert set(result.metrics) == {"de"}
    assert result.metrics["de"]["n"] == 12 and 0.0 <= result.metrics["de"]["accuracy"] <= 100.0
    preds = (out / result.run_id / result.predictions["de"]).read_text().splitlines()
    assert len(preds) == 12 and set(preds) <= {"entailment", "neutral", "contradiction"}


def test_a_qa_task_is_one_file(task_module: Callable[[str, str], None], tiny_model: Path, tmp_path: Path) -> None:
    task_module("my_qa_task_xyz", QA_MODULE)
    task = get_task("my_qa")
    assert task.format == "qa" and problems(task) == []
    root = tmp_path / "data"
    write_qa(root / "my_qa" / "en.train.jsonl", 24, 1, "en")
    write_qa(root / "my_qa" / "en.dev.jsonl", 6, 2, "en")
    write_qa(root / "my_qa" / "de.test.jsonl", 5, 3, "de")
    out = tmp_path / "runs"
    result = run_transfer("my_qa", "none", user(tiny_model, root, doc_stride=16), out)
    assert result.task == "my_qa" and set(result.metrics) == {"de"}
    de = result.metrics["de"]
    assert de["n"] == 5 and 0.0 <= de["f1"] <= 100.0 and 0.0 <= de["exact_match"] <= 100.0
    assert result.predictions["de"] == "predictions/de.json"
    assert set(json.loads((out / result.run_id / result.predictions["de"]).read_text())) == {f"de-{i}" for i in range(5)}


def test_the_new_tasks_are_gone_again() -> None:
    """The fixture above leaves the registry as it found it, so no other test sees ``my_*`` tasks."""
    assert not {"my_nli", "my_qa"} & set(registry.all_tasks())
