"""Hub row mappers of every task with a hub source, on real rows rebuilt from the hf-fixtures.

For each case the task's own ``HubSource`` picks the config and hub split; the test checks that both
exist in the hub's ``dataset_infos.json``, builds a typed ``datasets.Dataset`` from the fixture's source
files (``hub_fixtures``), pushes it through ``hub_rows_to_examples`` and compares with the raw rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.data.hub_fixtures import FIXTURES, HUB_IDS, dataset_infos, fixture_dataset, fixture_rows
from xstilts.data.load import hub_rows_to_examples
from xstilts.data.retrieval import TATOEBA_ISO3, corpus_from_pairs
from xstilts.data.schema import ClassificationExample, MultipleChoiceExample, QAExample, TaggingExample
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"hub fixtures not found at {FIXTURES}")

DATASET_OF = {hub_id: folder for folder, hub_id in HUB_IDS.items()}


def _cases() -> list[tuple[str, str, str]]:
    """(task, language, our split) for every task with a hub source."""
    cases = [("mnli", "en", "dev"), ("qqp", "en", "dev"), ("snli", "en", "dev")]
    cases += [("anli", "en", s) for s in ("dev_r1", "dev_r2", "test_r3", "train_r1")]
    cases += [("xnli", lang, s) for lang in get_task("xnli").languages for s in ("dev", "test")]
    cases += [("pawsx", lang, s) for lang in get_task("pawsx").languages for s in ("dev", "test")]
    cases += [("squad", "en", s) for s in ("train", "dev")] + [("squad_v2", "en", s) for s in ("train", "dev")]
    cases += [("xquad", lang, "test") for lang in get_task("xquad").languages]
    cases += [("mlqa", "en", s) for s in ("dev", "test")]
    cases += [("tydiqa", "fi", "train"), ("tydiqa", "ar", "dev")]
    cases += [("udpos", lang, "test") for lang in get_task("udpos").languages] + [("udpos", "en", "train")]
    cases += [("panx", lang, "dev") for lang in get_task("panx").languages] + [("panx", "en", "train")]
    cases += [(t, "en", s) for t in ("hellaswag", "cosmosqa", "commonsenseqa") for s in ("dev", "test")]
    cases += [("tatoeba", lang, "test") for lang in get_task("tatoeba").languages]
    return cases


def _hub_location(task: Task, lang: str, split: str) -> tuple[str, str, str]:
    """The fixture (dataset folder, config, hub split) that the task's HubSource points at."""
    assert task.hub is not None
    folder = DATASET_OF[task.hub.dataset]
    config = task.hub.config_for(lang) or "default"
    infos = dataset_infos(folder)
    assert config in infos, f"{task.hub.dataset} has no config {config!r}"
    hub_split = task.hub.split_for(split, lang)
    assert hub_split in infos[config]["splits"], f"{task.hub.dataset}/{config} has no split {hub_split!r}"
    return folder, config, hub_split


def _check(task: Task, lang: str, rows: list[dict[str, Any]], examples: list[Any]) -> None:
    if task.format == "retrieval":
        corpus = corpus_from_pairs(examples, lang)
        assert len(corpus.src) == len(rows) and corpus.gold[0] == ("0", "0")
        assert corpus.src[0] == rows[0]["source_sentence"] and corpus.tgt[-1] == rows[-1]["target_sentence"]
        return
    assert len(examples) == len(rows)
    for row, ex in zip(rows, examples, strict=True):
        if task.format == "classification":
            assert isinstance(ex, ClassificationExample)
            raw = row["label"] if "label" in row else row["gold_label"]
            expected = raw if isinstance(raw, str) else (None if raw < 0 else task.labels[raw])  # type: ignore[index]
            assert ex.label == expected and ex.label in (*(task.labels or ()), None)
            assert ex.text_a in (row.get("premise"), row.get("question1"), row.get("sentence1"))
        elif task.format == "qa":
            assert isinstance(ex, QAExample) and ex.id == row["id"] and ex.question == row["question"]
            assert [t for t, _ in ex.answers] == row["answers"]["text"]
            for text, start in ex.answers:  # aligned, or -1 where the text is not in the context at all
                assert ex.context[start : start + len(text)] == text if start >= 0 else text not in ex.context
        elif task.format == "tagging":
            assert isinstance(ex, TaggingExample) and ex.tokens == row["tokens"]
            assert ex.tags == row.get("ner_tags", row.get("pos_tags")) and set(ex.tags) <= set(task.labels or ())
        else:
            assert isinstance(ex, MultipleChoiceExample)
            if "endings" in row:
                assert ex.choices == row["endings"] and ex.label == (int(row["label"]) if row["label"] else None)
            elif "choices" in row:
                key = row["answerKey"]
                assert ex.choices == row["choices"]["text"] and len(ex.choices) == 5
                assert ex.label == (row["choices"]["label"].index(key) if key else None)
            else:
                assert ex.choices == [row[f"answer{i}"] for i in range(4)] and ex.id == row["id"]
                assert ex.label == (row["label"] if row["label"] >= 0 else None)


@pytest.mark.parametrize(("name", "lang", "split"), _cases(), ids=lambda v: str(v))
def test_hub_rows_map_to_examples(name: str, lang: str, split: str) -> None:
    task = get_task(name)
    folder, config, hub_split = _hub_location(task, lang, split)
    if name == "tatoeba" and not (FIXTURES.parent / "tatoeba").is_dir():
        pytest.skip("tatoeba rows are rebuilt from ../shared/data/tatoeba, which is absent")
    rows = fixture_rows(folder, config, hub_split)
    if not rows:  # udpos.Yoruba: the yo_ytb fixture holds only comment lines
        pytest.skip(f"the fixture {folder}/{config}/{hub_split} holds no rows")
    ds = fixture_dataset(folder, config, hub_split)
    examples = hub_rows_to_examples(task, ds, lang)
    if name == "tydiqa":  # one config for all languages: the mapper keeps only lang's questions
        rows = [r for r in rows if r["id"].startswith({"fi": "finnish-", "ar": "arabic-"}[lang])]
        assert not hub_rows_to_examples(task, ds, "sw")
    _check(task, lang, rows, examples)


@pytest.mark.parametrize("lang", get_task("panx").languages)
def test_wikiann_rows_use_the_panx_mapper(lang: str) -> None:
    """unimelb-nlp/wikiann has the same tokens + ner_tags ClassLabel as google/xtreme's PAN-X."""
    task = get_task("panx")
    rows = fixture_rows("wikiann", lang, "validation")
    examples = hub_rows_to_examples(task, fixture_dataset("wikiann", lang, "validation"), lang)
    _check(task, lang, rows, examples)


def test_hub_sources_are_named_as_the_contract_says() -> None:
    hubs = {name: get_task(name).hub for name in ("udpos", "panx", "tatoeba", "xquad", "mlqa", "tydiqa")}
    assert hubs["udpos"].config_for("zh") == "udpos.Chinese"  # type: ignore[union-attr]
    assert hubs["panx"].config_for("my") == "PAN-X.my"  # type: ignore[union-attr]
    assert hubs["tatoeba"].config_for("sw") == "tatoeba.swh"  # type: ignore[union-attr]
    assert hubs["mlqa"].config_for("hi") == "mlqa.hi.hi"  # type: ignore[union-attr]
    assert get_task("bucc2018").hub is None and get_task("ccg").hub is None
    assert set(TATOEBA_ISO3.values()) == {c.split(".")[1] for c in dataset_infos("xtreme") if c.startswith("tatoeba.")}
