"""Test helper: hub rows rebuilt offline from the ``datasets`` 1.18 fixtures in ``../shared/data/hf-fixtures``.

Each fixture zip holds the real first lines of a hub dataset's original source files. The parsers here
turn them into rows with the hub's feature names, as the old loading scripts did, written independently
of the readers under test; :func:`fixture_dataset` then builds a ``datasets.Dataset`` with the features of
``dataset_infos.json``, so the row mappers see exactly the types (ClassLabel ids, sequences) the hub gives.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FIXTURES = SHARED_DATA / "hf-fixtures"

#: fixture folder -> the hub dataset id the tasks name
HUB_IDS = {
    "anli": "facebook/anli",
    "commonsense_qa": "tau/commonsense_qa",
    "cosmos_qa": "allenai/cosmos_qa",
    "glue": "nyu-mll/glue",
    "hellaswag": "Rowan/hellaswag",
    "mlqa": "facebook/mlqa",
    "paws-x": "google-research-datasets/paws-x",
    "snli": "stanfordnlp/snli",
    "squad": "rajpurkar/squad",
    "squad_v2": "rajpurkar/squad_v2",
    "tydiqa": "google-research-datasets/tydiqa",
    "wikiann": "unimelb-nlp/wikiann",
    "xnli": "facebook/xnli",
    "xquad": "google/xquad",
    "xtreme": "google/xtreme",
}

Row = dict[str, Any]


# --------------------------------------------------------------------------- zip access


class Fixture:
    """One config's ``dummy_data.zip``; members are found by the end of their path."""

    def __init__(self, dataset: str, config: str) -> None:
        base = FIXTURES / dataset / "dummy"
        zips = sorted((base / config).glob("*/dummy_data.zip")) or sorted(base.glob("*/dummy_data.zip"))
        if not zips:
            raise FileNotFoundError(f"no fixture zip for {dataset}/{config}")
        self.zip = zipfile.ZipFile(zips[0])
        self.names = [n for n in self.zip.namelist() if not n.endswith("/") and "__MACOSX" not in n]

    def has(self, suffix: str) -> bool:
        return any(n.endswith(suffix) for n in self.names)

    def text(self, suffix: str) -> str:
        matches = [n for n in self.names if n.endswith(suffix)]
        if not matches:
            raise FileNotFoundError(f"{suffix} not in the fixture ({', '.join(self.names)})")
        return self.zip.read(sorted(matches, key=len)[0]).decode("utf-8")


def _tsv(text: str) -> Iterator[Row]:
    yield from csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)


def _jsonl(text: str) -> Iterator[Row]:
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)


# --------------------------------------------------------------------------- per-dataset source parsers


def _squad_rows(text: str) -> list[Row]:
    rows = []
    for article in json.loads(text)["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                answers = [] if qa.get("is_impossible") else qa["answers"]
                rows.append(
                    {
                        "id": qa["id"],
                        "title": article.get("title", ""),
                        "context": para["context"],
                        "question": qa["question"],
                        "answers": {
                            "text": [a["text"] for a in answers],
                            "answer_start": [a["answer_start"] for a in answers],
                        },
                    }
                )
    return rows


def _glue(fx: Fixture, config: str, split: str) -> list[Row]:
    folder = {"mnli": "MNLI", "qqp": "QQP"}[config]
    name = {"validation": "dev", "validation_matched": "dev_matched", "validation_mismatched": "dev_mismatched"}.get(split, split)
    rows = []
    for n, r in enumerate(_tsv(fx.text(f"{folder}/{name}.tsv"))):
        if config == "mnli":
            rows.append({"premise": r["sentence1"], "hypothesis": r["sentence2"], "label": r.get("gold_label", -1), "idx": n})
        else:
            label = int(r["is_duplicate"]) if "is_duplicate" in r else -1
            rows.append({"question1": r["question1"], "question2": r["question2"], "label": label, "idx": n})
    return rows


def _snli(fx: Fixture, config: str, split: str) -> list[Row]:
    name = {"validation": "dev"}.get(split, split)
    rows = []
    for r in _tsv(fx.text(f"snli_1.0_{name}.txt")):
        label = -1 if r["gold_label"] == "-" else r["gold_label"]
        rows.append({"premise": r["sentence1"], "hypothesis": r["sentence2"], "label": label})
    return rows


def _anli(fx: Fixture, config: str, split: str) -> list[Row]:
    name, rnd = split.split("_")
    names = {"e": "entailment", "n": "neutral", "c": "contradiction"}
    return [
        {"uid": r["uid"], "premise": r["context"], "hypothesis": r["hypothesis"], "label": names[r["label"]], "reason": r.get("reason", "")}
        for r in _jsonl(fx.text(f"{rnd.upper()}/{name}.jsonl"))
    ]


def _xnli_rows(fx: Fixture, split: str) -> list[Row]:
    name = {"validation": "dev"}.get(split, split)
    return list(_tsv(fx.text(f"XNLI-1.0/xnli.{name}.tsv")))


def _xnli(fx: Fixture, config: str, split: str) -> list[Row]:
    return [
        {"premise": r["sentence1"], "hypothesis": r["sentence2"], "label": r["gold_label"]}
        for r in _xnli_rows(fx, split)
        if r["language"] == config
    ]


def _pawsx(fx: Fixture, config: str, split: str) -> list[Row]:
    names = {"validation": ("dev_2k.tsv",), "test": ("test_2k.tsv",), "train": ("translated_train.tsv", "train.tsv")}
    name = next(n for n in names[split] if fx.has(f"{config}/{n}"))
    return [
        {"id": int(r["id"]), "sentence1": r["sentence1"], "sentence2": r["sentence2"], "label": int(r["label"])}
        for r in _tsv(fx.text(f"{config}/{name}"))
    ]


def _squad(fx: Fixture, config: str, split: str) -> list[Row]:
    version = "2.0" if config == "squad_v2" else "1.1"
    return _squad_rows(fx.text(f"{'dev' if split == 'validation' else split}-v{version}.json"))


def _xquad(fx: Fixture, config: str, split: str) -> list[Row]:
    lang = config.split(".")[1]
    return _squad_rows(fx.text(f"xquad.{lang}.json"))


def _mlqa(fx: Fixture, config: str, split: str) -> list[Row]:
    _, c, q = config.split(".")
    name = "dev" if split == "validation" else split
    return _squad_rows(fx.text(f"{name}/{name}-context-{c}-question-{q}.json"))


def _tydiqa(fx: Fixture, config: str, split: str) -> list[Row]:
    assert config in ("secondary_task", "tydiqa")
    return _squad_rows(fx.text(f"tydiqa-goldp-v1.1-{'dev' if split == 'validation' else split}.json"))


def _panx_rows(fx: Fixture, lang: str, split: str, spans: bool) -> list[Row]:
    rows: list[Row] = []
    tokens: list[str] = []
    tags: list[str] = []
    name = {"validation": "dev"}.get(split, split)
    for line in [*fx.text(f"{lang}.tar.gz/{name}").splitlines(), ""]:
        if line.strip():
            token, tag = line.split("\t")
            tokens.append(token.split(":", 1)[1] if token.startswith(f"{lang}:") else token)
            tags.append(tag.strip())
        elif tokens:
            row: Row = {"tokens": tokens, "ner_tags": tags, "langs": [lang] * len(tokens)}
            if spans:
                row["spans"] = _spans(tokens, tags)
            rows.append(row)
            tokens, tags = [], []
    return rows


def _spans(tokens: list[str], tags: list[str]) -> list[str]:
    out: list[str] = []
    for token, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-"):
            out.append(f"{tag[2:]}: {token}")
        elif tag.startswith("I-") and out:
            out[-1] += f" {token}"
    return out


def _wikiann(fx: Fixture, config: str, split: str) -> list[Row]:
    return _panx_rows(fx, config, split, spans=True)


def _hellaswag(fx: Fixture, config: str, split: str) -> list[Row]:
    name = {"validation": "val"}.get(split, split)
    keys = ("ind", "activity_label", "ctx_a", "ctx_b", "ctx", "endings", "source_id", "split", "split_type")
    return [{k: r.get(k) for k in keys} | {"label": str(r.get("label", ""))} for r in _jsonl(fx.text(f"hellaswag_{name}.jsonl"))]


def _cosmos(fx: Fixture, config: str, split: str) -> list[Row]:
    if split == "test":
        return [r | {"label": -1} for r in _jsonl(fx.text("test.jsonl"))]
    name = {"validation": "valid.csv", "train": "train.csv"}[split]
    return [r | {"label": int(r["label"])} for r in csv.DictReader(io.StringIO(fx.text(name)))]


def _commonsense(fx: Fixture, config: str, split: str) -> list[Row]:
    name = {"train": "train_rand_split", "validation": "dev_rand_split", "test": "test_rand_split_no_answers"}[split]
    rows = []
    for r in _jsonl(fx.text(f"{name}.jsonl")):
        q = r["question"]
        choices = {"label": [c["label"] for c in q["choices"]], "text": [c["text"] for c in q["choices"]]}
        rows.append({"answerKey": r.get("answerKey", ""), "question": q["stem"], "choices": choices})
    return rows


# --- google/xtreme: its configs reuse the sources above; udpos and tatoeba come from other real files


def _conllu_sentences(text: str) -> Iterator[tuple[list[str], list[str]]]:
    tokens: list[str] = []
    tags: list[str] = []
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if tokens:
                yield tokens, tags
            tokens, tags = [], []
        elif not line.startswith("#"):
            cols = line.split("\t")
            if cols[0].isdigit():  # words only: no 3-4 ranges, no 5.1 empty nodes
                tokens.append(cols[1])
                tags.append(cols[3])


def _udpos(lang_name: str, split: str, names: list[str]) -> list[Row]:
    """XTREME's udpos rows: every UD treebank of the language, from the universal_dependencies fixtures."""
    from xstilts.tasks.udpos import LANGUAGE_NAMES

    code = next(c for c, n in LANGUAGE_NAMES.items() if n == lang_name)
    name = {"validation": "dev"}.get(split, split)
    rows = []
    for folder in sorted((FIXTURES / "universal_dependencies" / "dummy").glob(f"{code}_*")):
        fx = Fixture("universal_dependencies", folder.name)
        suffix = f"{folder.name}-ud-{name}.conllu"
        if not fx.has(suffix):
            continue
        for tokens, tags in _conllu_sentences(fx.text(suffix)):
            if all(t in names for t in tags):  # the 17-tag ClassLabel has no "_"
                rows.append({"tokens": tokens, "pos_tags": tags})
    return rows


def _tatoeba(iso3: str) -> list[Row]:
    """XTREME's tatoeba rows, read from the LASER release files in the shared data root."""
    folder = SHARED_DATA / "tatoeba"
    src = (folder / f"tatoeba.{iso3}-eng.{iso3}").read_text(encoding="utf-8").splitlines()
    tgt = (folder / f"tatoeba.{iso3}-eng.eng").read_text(encoding="utf-8").splitlines()
    return [{"source_sentence": s, "target_sentence": t, "source_lang": iso3, "target_lang": "eng"} for s, t in zip(src, tgt, strict=True)]


def _xtreme(fx: Fixture | None, config: str, split: str, features: dict[str, Any]) -> list[Row]:
    family, _, rest = config.partition(".")
    if family == "udpos":
        return _udpos(rest, split, features["pos_tags"]["feature"]["names"])
    if family == "tatoeba":
        return _tatoeba(rest)
    assert fx is not None
    if family == "PAN-X":
        return _panx_rows(fx, rest, split, spans=False)
    if family == "XQuAD":
        return [{k: v for k, v in r.items() if k != "title"} for r in _squad_rows(fx.text(f"xquad.{rest}.json"))]
    if family == "MLQA":
        return _mlqa(fx, f"mlqa.{rest}", split)
    if family == "tydiqa":
        return _tydiqa(fx, config, split)
    if family == "XNLI":
        return [
            {"language": r["language"], "sentence1": r["sentence1"], "sentence2": r["sentence2"], "gold_label": r["gold_label"]}
            for r in _xnli_rows(fx, split)
        ]
    raise KeyError(config)


PARSERS: dict[str, Callable[[Fixture, str, str], list[Row]]] = {
    "anli": _anli,
    "commonsense_qa": _commonsense,
    "cosmos_qa": _cosmos,
    "glue": _glue,
    "hellaswag": _hellaswag,
    "mlqa": _mlqa,
    "paws-x": _pawsx,
    "snli": _snli,
    "squad": _squad,
    "squad_v2": _squad,
    "tydiqa": _tydiqa,
    "wikiann": _wikiann,
    "xnli": _xnli,
    "xquad": _xquad,
}


@cache
def dataset_infos(dataset: str) -> dict[str, Any]:
    return json.loads((FIXTURES / dataset / "dataset_infos.json").read_text(encoding="utf-8"))


def fixture_rows(dataset: str, config: str, split: str) -> list[Row]:
    """Rows of one (dataset, config, hub split) with the hub's feature names."""
    features = dataset_infos(dataset)[config]["features"]
    if dataset == "xtreme":
        family = config.split(".")[0]
        fx = None if family in ("udpos", "tatoeba") else Fixture(dataset, config)
        rows = _xtreme(fx, config, split, features)
    else:
        rows = PARSERS[dataset](Fixture(dataset, config), config, split)
    return [{k: r.get(k) for k in features} for r in rows]


def fixture_dataset(dataset: str, config: str, split: str):
    """A ``datasets.Dataset`` of the fixture rows, typed by the hub features in ``dataset_infos.json``."""
    import datasets

    features = datasets.Features.from_dict(dataset_infos(dataset)[config]["features"])
    return datasets.Dataset.from_list(fixture_rows(dataset, config, split), features=features)
