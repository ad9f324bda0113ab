"""Artefact audit of the embedded mini benchmark (``mini_nli`` and ``mini_paraphrase``).

A development tool that lives with the tests, not in the shipped package. From the repository root,
run ``python -m tests.mini.audit`` for a readable report or ``--json`` for the raw dictionary.
The audit uses only numpy and the standard library. It reports

* counts per task, split and language, and label balance (overall and per topic);
* structural checks (unique ids, identical ids/labels/order across the test languages,
  no empty fields, valid labels and topics);
* a hypothesis-only baseline (multinomial naive Bayes on word uni- and bigrams of the
  hypothesis) and word-overlap baselines, which should all stay close to chance;
* exact duplicates inside a split, near-duplicates across splits (token Jaccard >= 0.6)
  and sentences shared between splits or between the two tasks.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

import xstilts.mini

DATA_ROOT = Path(xstilts.mini.__file__).parent / "data"

NLI_TASK = "mini_nli"
PARA_TASK = "mini_paraphrase"
NLI_LABELS = ("entailment", "neutral", "contradiction")
PARA_LABELS = ("paraphrase", "not_paraphrase")
NLI_TOPICS = ("travel", "food", "work", "family", "nature", "health", "sport", "school")
TEST_LANGS = ("en", "de", "es", "ru", "zh", "ar", "hi", "sw", "tr")
SPLITS = ("train", "dev", "test")
NEAR_DUP_JACCARD = 0.6

# expected writing system per language (first word of the Unicode character name)
SCRIPTS = {"en": "LATIN", "de": "LATIN", "es": "LATIN", "sw": "LATIN", "tr": "LATIN",
           "ru": "CYRILLIC", "zh": "CJK", "ar": "ARABIC", "hi": "DEVANAGARI"}

# artefact thresholds (accuracy in %); the shipped data must stay at or below them
MAX_HYPOTHESIS_ONLY = 45.0
MAX_NLI_OVERLAP = 45.0
MAX_PARA_OVERLAP = 62.0

TASKS: dict[str, dict[str, Any]] = {
    NLI_TASK: {"fields": ("premise", "hypothesis"), "labels": NLI_LABELS, "topics": NLI_TOPICS},
    PARA_TASK: {"fields": ("sentence1", "sentence2"), "labels": PARA_LABELS, "topics": None},
}

# combining marks (Arabic harakat, Devanagari vowel signs and virama) are not ``\w`` in Python's re,
# so they are listed explicitly to keep such words in one piece
_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
_WORD = rf"(?:[^\W_]|[{_MARKS}])+"
_TOKEN_RE = re.compile(rf"[\u3400-\u9fff\uf900-\ufaff]|{_WORD}(?:['’]{_WORD})*", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; Han characters count as one token each, combining marks stay in their word."""
    return _TOKEN_RE.findall(text.lower())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def load(root: Path) -> dict[str, dict[tuple[str, str], list[dict[str, Any]]]]:
    """``{task: {(lang, split): rows}}`` for every ``<task>/<lang>.<split>.jsonl`` under root."""
    out: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = {}
    for task in TASKS:
        files: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for path in sorted((root / task).glob("*.jsonl")):
            parts = path.name[: -len(".jsonl")].split(".")
            if len(parts) != 2:
                continue
            files[(parts[0], parts[1])] = read_jsonl(path)
        out[task] = files
    return out


# --------------------------------------------------------------------------- classifiers


def _ngrams(tokens: list[str]) -> list[str]:
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


class MultinomialNB:
    """Multinomial naive Bayes with Laplace (add-alpha) smoothing over string features."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, docs: list[list[str]], labels: list[str]) -> MultinomialNB:
        self.classes = sorted(set(labels))
        vocab = sorted({f for d in docs for f in d})
        self.index = {f: i for i, f in enumerate(vocab)}
        counts = np.zeros((len(self.classes), len(vocab)))
        prior = np.zeros(len(self.classes))
        for doc, lab in zip(docs, labels, strict=True):
            c = self.classes.index(lab)
            prior[c] += 1
            for f in doc:
                counts[c, self.index[f]] += 1
        self.log_prior = np.log(prior / prior.sum())
        smoothed = counts + self.alpha
        self.log_lik = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
        return self

    def predict(self, docs: list[list[str]]) -> list[str]:
        preds = []
        for doc in docs:
            score = self.log_prior.copy()
            for f in doc:
                j = self.index.get(f)
                if j is not None:
                    score += self.log_lik[:, j]
            preds.append(self.classes[int(np.argmax(score))])
        return preds


class BinnedNB:
    """Naive Bayes over numeric features discretised into train-quantile bins (Laplace smoothed)."""

    def __init__(self, n_bins: int = 5, alpha: float = 1.0) -> None:
        self.n_bins = n_bins
        self.alpha = alpha

    def _bin(self, x: np.ndarray) -> np.ndarray:
        return np.stack([np.searchsorted(e, x[:, j], side="right") for j, e in enumerate(self.edges)], axis=1)

    def fit(self, x: np.ndarray, labels: list[str]) -> BinnedNB:
        self.classes = sorted(set(labels))
        qs = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        self.edges = [np.unique(np.quantile(x[:, j], qs)) for j in range(x.shape[1])]
        b = self._bin(x)
        y = np.array([self.classes.index(lab) for lab in labels])
        self.log_prior = np.log(np.bincount(y, minlength=len(self.classes)) / len(y))
        self.tables = []
        for j, e in enumerate(self.edges):
            t = np.full((len(self.classes), len(e) + 1), self.alpha)
            np.add.at(t, (y, b[:, j]), 1)
            self.tables.append(np.log(t / t.sum(axis=1, keepdims=True)))
        return self

    def predict(self, x: np.ndarray) -> list[str]:
        b = self._bin(x)
        score = np.tile(self.log_prior, (len(x), 1))
        for j, t in enumerate(self.tables):
            score += t[:, b[:, j]].T
        return [self.classes[i] for i in score.argmax(axis=1)]


class NearestCentroid:
    """Nearest class centroid on z-scored features."""

    def fit(self, x: np.ndarray, labels: list[str]) -> NearestCentroid:
        self.classes = sorted(set(labels))
        self.mu = x.mean(axis=0)
        self.sd = x.std(axis=0) + 1e-9
        z = (x - self.mu) / self.sd
        lab = np.array(labels)
        self.centroids = np.stack([z[lab == c].mean(axis=0) for c in self.classes])
        return self

    def predict(self, x: np.ndarray) -> list[str]:
        z = (x - self.mu) / self.sd
        d = ((z[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        return [self.classes[i] for i in d.argmin(axis=1)]


def _accuracy(pred: list[str], gold: list[str]) -> float:
    return 100.0 * sum(p == g for p, g in zip(pred, gold, strict=True)) / max(len(gold), 1)


def binom_p_above(correct: int, n: int, p: float) -> float:
    """One-sided exact binomial p-value P(X >= correct) for X ~ Bin(n, p)."""
    return float(min(1.0, sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(correct, n + 1))))


def _score(pred: list[str], gold: list[str], chance: float) -> dict[str, Any]:
    acc = _accuracy(pred, gold)
    correct = round(acc * len(gold) / 100)
    return {
        "accuracy": round(acc, 2),
        "n": len(gold),
        "chance": round(100 * chance, 2),
        "p_above_chance": round(binom_p_above(correct, len(gold), chance), 4),
    }


def overlap_features(a: str, b: str) -> list[float]:
    """(share of b-tokens found in a, share of a-tokens found in b, len(b) - len(a)) in tokens."""
    ta, tb = tokenize(a), tokenize(b)
    sa, sb = set(ta), set(tb)
    return [
        sum(t in sa for t in tb) / max(len(tb), 1),
        sum(t in sb for t in ta) / max(len(ta), 1),
        float(len(tb) - len(ta)),
    ]


def _baselines(files: dict[tuple[str, str], list[dict]], task: str) -> dict[str, Any]:
    f1, f2 = TASKS[task]["fields"]
    labels = TASKS[task]["labels"]
    chance = 1.0 / len(labels)
    train = files.get(("en", "train"))
    if not train:
        return {}
    evals = {s: files[("en", s)] for s in ("dev", "test") if ("en", s) in files}
    y_train = [r["label"] for r in train]
    out: dict[str, Any] = {}

    majority = Counter(y_train).most_common(1)[0][0]
    out["majority"] = {s: _score([majority] * len(rows), [r["label"] for r in rows], chance) for s, rows in evals.items()}

    if task == NLI_TASK:
        nb = MultinomialNB().fit([_ngrams(tokenize(r[f2])) for r in train], y_train)
        out["hypothesis_only_nb"] = {
            s: _score(nb.predict([_ngrams(tokenize(r[f2])) for r in rows]), [r["label"] for r in rows], chance)
            for s, rows in evals.items()
        }
        out["hypothesis_only_nb"]["train"] = _score(
            nb.predict([_ngrams(tokenize(r[f2])) for r in train]), y_train, chance
        )

    x_train = np.array([overlap_features(r[f1], r[f2]) for r in train])
    for name, model in (("overlap_binned_nb", BinnedNB()), ("overlap_nearest_centroid", NearestCentroid())):
        model.fit(x_train, y_train)
        res = {}
        for s, rows in evals.items():
            x = np.array([overlap_features(r[f1], r[f2]) for r in rows])
            res[s] = _score(model.predict(x), [r["label"] for r in rows], chance)
        out[name] = res
    return out


# --------------------------------------------------------------------------- checks


def _structure(task: str, files: dict[tuple[str, str], list[dict]]) -> dict[str, Any]:
    spec = TASKS[task]
    required = ("id", *spec["fields"], "label") + (("topic",) if spec["topics"] else ())
    problems: list[str] = []
    for (lang, split), rows in sorted(files.items()):
        name = f"{task}/{lang}.{split}"
        ids = [r.get("id") for r in rows]
        for i, n in Counter(ids).items():
            if n > 1:
                problems.append(f"{name}: id {i!r} occurs {n} times")
        for r in rows:
            for k in required:
                v = r.get(k)
                if not isinstance(v, str) or not v.strip():
                    problems.append(f"{name}: {r.get('id')!r} has empty or missing field {k!r}")
            if r.get("label") not in spec["labels"]:
                problems.append(f"{name}: {r.get('id')!r} has invalid label {r.get('label')!r}")
            if spec["topics"] and r.get("topic") not in spec["topics"]:
                problems.append(f"{name}: {r.get('id')!r} has invalid topic {r.get('topic')!r}")
            if r.get("id") and not str(r["id"]).startswith(f"{task}-{split}-"):
                problems.append(f"{name}: id {r['id']!r} does not start with '{task}-{split}-'")
    # the same items, in the same order, in every language of a split
    aligned = True
    for split in SPLITS:
        langs = sorted(lang for (lang, s) in files if s == split)
        if len(langs) < 2:
            continue
        ref_lang = "en" if "en" in langs else langs[0]
        ref = [(r.get("id"), r.get("label"), r.get("topic")) for r in files[(ref_lang, split)]]
        for lang in langs:
            cur = [(r.get("id"), r.get("label"), r.get("topic")) for r in files[(lang, split)]]
            if cur != ref:
                aligned = False
                problems.append(f"{task}/{lang}.{split}: ids/labels/topics differ from {ref_lang}.{split}")
    return {"ok": not problems, "problems": problems, "aligned_across_languages": aligned}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(len(a | b), 1)


def _duplicates(task: str, files: dict[tuple[str, str], list[dict]], worst: int = 5) -> dict[str, Any]:
    f1, f2 = TASKS[task]["fields"]
    exact: dict[str, int] = {}
    for (lang, split), rows in sorted(files.items()):
        c = Counter((r.get(f1, "").strip().lower(), r.get(f2, "").strip().lower()) for r in rows)
        exact[f"{lang}.{split}"] = sum(n - 1 for n in c.values() if n > 1)

    near: dict[str, Any] = {}
    shared_sentences: dict[str, int] = {}
    langs = sorted({lang for lang, _ in files})
    for lang in langs:
        splits = [s for s in SPLITS if (lang, s) in files]
        for sa, sb in itertools.combinations(splits, 2):
            ra, rb = files[(lang, sa)], files[(lang, sb)]
            ta = [set(tokenize(r[f1] + " " + r[f2])) for r in ra]
            tb = [set(tokenize(r[f1] + " " + r[f2])) for r in rb]
            scored = []
            for i, a in enumerate(ta):
                best = max(((_jaccard(a, b), j) for j, b in enumerate(tb)), default=(0.0, -1))
                scored.append((best[0], i, best[1]))
            scored.sort(reverse=True)
            key = f"{lang}.{sa}~{lang}.{sb}"
            near[key] = {
                "count": sum(1 for s, _, _ in scored if s >= NEAR_DUP_JACCARD),
                "max_jaccard": round(scored[0][0], 3) if scored else 0.0,
                "worst": [
                    {"jaccard": round(s, 3), "a": ra[i]["id"], "b": rb[j]["id"],
                     "a_text": f"{ra[i][f1]} || {ra[i][f2]}", "b_text": f"{rb[j][f1]} || {rb[j][f2]}"}
                    for s, i, j in scored[:worst]
                ],
            }
            sents_a = {r[f].strip().lower() for r in ra for f in (f1, f2)}
            sents_b = {r[f].strip().lower() for r in rb for f in (f1, f2)}
            shared_sentences[key] = len(sents_a & sents_b)
    return {"exact_within_split": exact, "near_across_splits": near, "shared_sentences_across_splits": shared_sentences}


def _script_share(text: str, script: str) -> tuple[int, int]:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(unicodedata.name(ch, "?").split(" ")[0] == script for ch in letters), len(letters)


def _translation(task: str, files: dict[tuple[str, str], list[dict]]) -> dict[str, Any]:
    """Per language: share of letters in the expected script, and items left identical to English."""
    f1, f2 = TASKS[task]["fields"]
    out: dict[str, Any] = {}
    for (lang, split), rows in sorted(files.items()):
        script = SCRIPTS.get(lang)
        hit = total = 0
        for r in rows:
            for f in (f1, f2):
                h, t = _script_share(str(r.get(f, "")), script) if script else (0, 0)
                hit, total = hit + h, total + t
        entry: dict[str, Any] = {"script": script,
                                 "script_share": round(hit / total, 4) if total else None}
        ref = files.get(("en", split))
        if lang != "en" and ref is not None and len(ref) == len(rows):
            same = [r["id"] for r, e in zip(rows, ref, strict=True)
                    if any(str(r.get(f, "")).strip() == str(e.get(f, "")).strip() for f in (f1, f2))]
            entry["fields_identical_to_en"] = len(same)
            entry["identical_examples"] = same[:5]
        out[f"{lang}.{split}"] = entry
    return out


def _counts(task: str, files: dict[tuple[str, str], list[dict]]) -> dict[str, Any]:
    spec = TASKS[task]
    counts: dict[str, int] = {}
    balance: dict[str, dict[str, float]] = {}
    by_topic: dict[str, dict[str, dict[str, int]]] = {}
    for (lang, split), rows in sorted(files.items()):
        key = f"{lang}.{split}"
        counts[key] = len(rows)
        c = Counter(r.get("label") for r in rows)
        balance[key] = {lab: round(100.0 * c[lab] / max(len(rows), 1), 2) for lab in spec["labels"]}
        if spec["topics"] and lang == "en":
            t: dict[str, Counter] = defaultdict(Counter)
            for r in rows:
                t[r.get("topic")][r.get("label")] += 1
            by_topic[split] = {tp: {lab: t[tp][lab] for lab in spec["labels"]} for tp in spec["topics"]}
    out: dict[str, Any] = {"counts": counts, "label_percent": balance}
    if by_topic:
        out["labels_by_topic"] = by_topic
    return out


def audit(root: Path | None = None) -> dict[str, Any]:
    """Audit the mini benchmark under ``root`` (default: the package data folder)."""
    root = Path(root) if root is not None else DATA_ROOT
    data = load(root)
    report: dict[str, Any] = {"root": str(root), "tasks": {}}
    for task, files in data.items():
        entry = _counts(task, files)
        entry["languages"] = {split: sorted(lang for lang, s in files if s == split) for split in SPLITS}
        entry["structure"] = _structure(task, files)
        entry["baselines"] = _baselines(files, task)
        entry["duplicates"] = _duplicates(task, files)
        entry["translation"] = _translation(task, files)
        report["tasks"][task] = entry

    # sentences shared between the two tasks (English)
    nli_s = {r[f].strip().lower() for (lang, _), rows in data[NLI_TASK].items() if lang == "en"
             for r in rows for f in TASKS[NLI_TASK]["fields"]}
    para_s = {r[f].strip().lower() for (lang, _), rows in data[PARA_TASK].items() if lang == "en"
              for r in rows for f in TASKS[PARA_TASK]["fields"]}
    report["shared_sentences_between_tasks"] = len(nli_s & para_s)
    report["summary"] = _summary(report)
    return report


def _worst(res: dict[str, Any]) -> float | None:
    vals = [v["accuracy"] for s, v in res.items() if s != "train"]
    return max(vals) if vals else None


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    """Headline numbers and pass/fail flags against the artefact thresholds."""
    nli = report["tasks"].get(NLI_TASK, {})
    para = report["tasks"].get(PARA_TASK, {})
    nb, pb = nli.get("baselines", {}), para.get("baselines", {})
    hyp = _worst(nb.get("hypothesis_only_nb", {}))
    nli_ov = _worst(nb.get("overlap_binned_nb", {}))
    para_ov = _worst(pb.get("overlap_binned_nb", {}))
    near = sum(v["count"] for t in (nli, para) for v in t.get("duplicates", {}).get("near_across_splits", {}).values())
    exact = sum(n for t in (nli, para) for n in t.get("duplicates", {}).get("exact_within_split", {}).values())
    structure_ok = all(t.get("structure", {}).get("ok", False) for t in (nli, para) if t)
    return {
        "hypothesis_only_max_accuracy": hyp,
        "nli_overlap_max_accuracy": nli_ov,
        "paraphrase_overlap_max_accuracy": para_ov,
        "near_duplicates_across_splits": near,
        "exact_duplicates_within_split": exact,
        "checks": {
            "structure_ok": structure_ok,
            "no_exact_duplicates": exact == 0,
            "no_near_duplicates_across_splits": near == 0,
            "hypothesis_only_near_chance": hyp is not None and hyp <= MAX_HYPOTHESIS_ONLY,
            "nli_overlap_near_chance": nli_ov is not None and nli_ov <= MAX_NLI_OVERLAP,
            "paraphrase_overlap_near_chance": para_ov is not None and para_ov <= MAX_PARA_OVERLAP,
            "no_sentences_shared_between_tasks": report["shared_sentences_between_tasks"] == 0,
        },
    }


# --------------------------------------------------------------------------- CLI


def _print_report(rep: dict[str, Any]) -> None:
    print(f"mini benchmark audit: {rep['root']}")
    for task, e in rep["tasks"].items():
        print(f"\n== {task}")
        labels = TASKS[task]["labels"]
        print("  file              n   " + "  ".join(f"{lab[:13]:>13}" for lab in labels))
        for key, n in e["counts"].items():
            pct = e["label_percent"][key]
            print(f"  {key:<14} {n:>5}   " + "  ".join(f"{pct[lab]:>12.1f}%" for lab in labels))
        for split, table in e.get("labels_by_topic", {}).items():
            cells = ", ".join(f"{tp} {'/'.join(str(v) for v in c.values())}" for tp, c in table.items())
            print(f"  en.{split} labels by topic ({'/'.join(lab[:3] for lab in labels)}): {cells}")
        st = e["structure"]
        print(f"  structure: {'ok' if st['ok'] else 'PROBLEMS'}; aligned across languages: {st['aligned_across_languages']}")
        for p in st["problems"][:20]:
            print(f"    - {p}")
        print("  baselines (accuracy %, chance, one-sided binomial p above chance):")
        for name, res in e["baselines"].items():
            cells = "; ".join(f"{s} {v['accuracy']:.1f} (chance {v['chance']:.1f}, p={v['p_above_chance']:.3f})"
                              for s, v in res.items())
            print(f"    {name:<26} {cells}")
        d = e["duplicates"]
        print(f"  exact duplicate pairs within split: {sum(d['exact_within_split'].values())}")
        for key, v in d["near_across_splits"].items():
            print(f"  near-duplicates {key}: {v['count']} (max Jaccard {v['max_jaccard']:.2f}); "
                  f"shared sentences: {d['shared_sentences_across_splits'][key]}")
            for w in v["worst"][:2]:
                print(f"      {w['jaccard']:.2f} {w['a']} ~ {w['b']}")
        cells = []
        for key, t in e["translation"].items():
            share = "n/a" if t["script_share"] is None else f"{100 * t['script_share']:.1f}%"
            same = f", {t['fields_identical_to_en']} same as en" if "fields_identical_to_en" in t else ""
            cells.append(f"{key} {t['script']} {share}{same}")
        print("  script: " + "; ".join(cells))
    print(f"\nsentences shared between tasks: {rep['shared_sentences_between_tasks']}")
    summ = rep["summary"]
    print(f"summary: hypothesis-only <= {summ['hypothesis_only_max_accuracy']}, "
          f"NLI overlap <= {summ['nli_overlap_max_accuracy']}, "
          f"paraphrase overlap <= {summ['paraphrase_overlap_max_accuracy']} (max over dev/test)")
    for name, ok in summ["checks"].items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Audit the embedded mini benchmark for artefacts.")
    ap.add_argument("--root", type=Path, default=None, help="data root (default: packaged data)")
    ap.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = ap.parse_args(argv)
    rep = audit(args.root)
    if args.json:
        json.dump(rep, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        _print_report(rep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
