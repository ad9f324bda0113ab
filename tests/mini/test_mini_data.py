"""Fast checks of the embedded mini NLI and paraphrase data (via ``tests.mini.audit``)."""

from __future__ import annotations

import json

import pytest

from tests.mini import audit as audit_mod
from tests.mini.audit import (
    MAX_HYPOTHESIS_ONLY,
    MAX_NLI_OVERLAP,
    MAX_PARA_OVERLAP,
    NLI_LABELS,
    NLI_TASK,
    PARA_LABELS,
    PARA_TASK,
    SCRIPTS,
    TEST_LANGS,
    audit,
)

NON_EN = [lang for lang in TEST_LANGS if lang != "en"]


@pytest.fixture(scope="module")
def report() -> dict:
    return audit()


def _nli(report: dict) -> dict:
    return report["tasks"][NLI_TASK]


def _para(report: dict) -> dict:
    return report["tasks"][PARA_TASK]


def test_structure_is_clean(report):
    for task in (NLI_TASK, PARA_TASK):
        st = report["tasks"][task]["structure"]
        assert st["ok"], st["problems"][:10]
        assert st["aligned_across_languages"]


def test_minimum_counts(report):
    counts = _nli(report)["counts"]
    assert counts["en.train"] >= 400
    assert counts["en.dev"] >= 100
    for lang in TEST_LANGS:
        assert counts.get(f"{lang}.test", 0) >= 150, lang
    pcounts = _para(report)["counts"]
    assert pcounts["en.train"] >= 400
    assert pcounts["en.dev"] >= 100


def test_every_test_language_has_the_same_items(report):
    langs = _nli(report)["languages"]["test"]
    assert sorted(langs) == sorted(TEST_LANGS)
    counts = _nli(report)["counts"]
    assert len({counts[f"{lang}.test"] for lang in TEST_LANGS}) == 1


@pytest.mark.parametrize(("task", "labels"), [(NLI_TASK, NLI_LABELS), (PARA_TASK, PARA_LABELS)])
def test_label_balance(report, task, labels):
    target = 100.0 / len(labels)
    for key, pct in report["tasks"][task]["label_percent"].items():
        for lab in labels:
            assert abs(pct[lab] - target) <= 3.0, (task, key, lab, pct[lab])


def test_no_duplicates(report):
    for task in (NLI_TASK, PARA_TASK):
        d = report["tasks"][task]["duplicates"]
        assert sum(d["exact_within_split"].values()) == 0, d["exact_within_split"]
        for key, v in d["near_across_splits"].items():
            assert v["count"] == 0, (task, key, v["worst"][:3])
            assert d["shared_sentences_across_splits"][key] == 0, (task, key)
    assert report["shared_sentences_between_tasks"] == 0


def test_translations_use_the_expected_script(report):
    tr = _nli(report)["translation"]
    for lang in NON_EN:
        entry = tr[f"{lang}.test"]
        assert entry["script"] == SCRIPTS[lang]
        assert entry["script_share"] >= 0.9, (lang, entry["script_share"])
        assert entry["fields_identical_to_en"] == 0, (lang, entry["identical_examples"])


def test_hypothesis_only_baseline_near_chance(report):
    res = _nli(report)["baselines"]["hypothesis_only_nb"]
    for split in ("dev", "test"):
        assert res[split]["accuracy"] <= MAX_HYPOTHESIS_ONLY, (split, res[split])


def test_overlap_baselines_near_chance(report):
    nli = _nli(report)["baselines"]["overlap_binned_nb"]
    for split in ("dev", "test"):
        assert nli[split]["accuracy"] <= MAX_NLI_OVERLAP, (split, nli[split])
    para = _para(report)["baselines"]["overlap_binned_nb"]
    assert para["dev"]["accuracy"] <= MAX_PARA_OVERLAP, para["dev"]


def test_summary_checks_all_pass(report):
    failed = [name for name, ok in report["summary"]["checks"].items() if not ok]
    assert not failed, failed


def test_cli_json(capsys):
    assert audit_mod.main(["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["tasks"]) == {NLI_TASK, PARA_TASK}


def test_audit_flags_broken_data(tmp_path):
    """The audit must notice misaligned translations, bad labels and duplicates."""
    src = audit_mod.DATA_ROOT
    for task in (NLI_TASK, PARA_TASK):
        (tmp_path / task).mkdir()
        for path in (src / task).glob("*.jsonl"):
            (tmp_path / task / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    de = tmp_path / NLI_TASK / "de.test.jsonl"
    rows = [json.loads(line) for line in de.read_text(encoding="utf-8").splitlines()]
    rows[0]["label"], rows[1]["label"] = "maybe", rows[0]["label"]
    rows[2]["hypothesis"] = ""
    rows.append(dict(rows[3]))
    de.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    rep = audit(tmp_path)
    st = rep["tasks"][NLI_TASK]["structure"]
    assert not st["ok"]
    assert not st["aligned_across_languages"]
    text = " ".join(st["problems"])
    assert "invalid label" in text and "empty or missing" in text and "occurs 2 times" in text
    assert rep["tasks"][NLI_TASK]["duplicates"]["exact_within_split"]["de.test"] >= 1
    assert not rep["summary"]["checks"]["structure_ok"]
