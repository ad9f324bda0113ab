"""``xstilts tasks --json``: the registry as the command line shows it."""

from __future__ import annotations

import json

from tests.cli.helpers import cli


def test_tasks_json_lists_every_contract_name() -> None:
    res = cli("tasks", "--json")
    assert res.returncode == 0, res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    for name in ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba", "mnli", "qqp",
                 "snli", "anli", "anli_plus", "squad", "squad_v2", "hellaswag", "cosmosqa", "commonsenseqa", "ccg", "uner",
                 "mini_nli", "mini_paraphrase"):
        assert name in rows, name
    assert rows["xnli"]["format"] == "classification" and len(rows["xnli"]["languages"]) == 15
    assert rows["xnli"]["train_task"] == "mnli" and rows["xnli"]["splits"]["test"]["gold"] is True
    assert rows["mnli"]["splits"]["test"]["gold"] is False
    assert rows["mnli"]["sources"]["hub"]["dataset"] == "nyu-mll/glue"
