"""POS on whitespace-free scripts (ja, zh, th), words fed XTREME's way and as written.

Why: XTREME gives every pre-split word a leading space, so a SentencePiece model sees ``▁`` before each
Japanese, Chinese or Thai word, text it rarely saw; the embedded model scores Japanese PUD POS near
the floor. This trains English POS once on EWT (the default ``train.tokenize_words=xtreme``; English
has nothing to join, so the features are the same either way) and scores the PUD test sets of the
languages found both ways, from the same trained run. Runs are reused: a rerun only prints the table.

    .venv/bin/python benchmarks/whitespace_free_pos.py --data-dir ../shared/data
    .venv/bin/python benchmarks/whitespace_free_pos.py --eval-data-dir /path/to/ud-root   # ja/th PUD
    .venv/bin/python benchmarks/whitespace_free_pos.py --steps 2 --eval-examples 20        # a smoke check

``../shared/data`` holds zh PUD only; ja and th need a data root with ``udpos/ja_pud-ud-test.conllu``
and ``udpos/th_pud-ud-test.conllu`` (UD release names), or ``--eval-data-dir hub`` for the test sets
of google/xtreme's ``udpos.<Language>`` (with ``--eval-split test``: the hub has no treebank field).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from xstilts.config import RunConfig, phase_config
from xstilts.data.load import available_languages
from xstilts.evaluate.zero_shot import evaluate_run
from xstilts.tasks.registry import get_task
from xstilts.train.phase import train_run

MODES = ("xtreme", "as_written")


def config(args: argparse.Namespace, data_dir: str | None, mode: str) -> RunConfig:
    """The pos-domain preset's English training budget, with ``args`` on top."""
    user: dict[str, Any] = {
        "model": {"name": args.model},
        "data": {
            "data_dir": data_dir,
            "train_task": "udpos",
            "train_split": "train@treebank=ewt",
            "dev_split": "dev@treebank=ewt",
            "eval_split": args.eval_split,
        },
        "train": {
            "lr": 1e-4, "batch_size": 16, "max_steps": args.steps, "max_length": 128, "eval_every": max(1, min(50, args.steps)),
            "eval_examples": 200, "patience": 3, "freeze_embeddings": True, "tokenize_words": mode,
        },
        "eval": {"batch_size": 64, "max_examples": args.eval_examples},
        "seed": args.seed,
    }  # fmt: skip
    return phase_config(get_task("udpos").defaults, user)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data-dir", default="../shared/data", help="data root with udpos/en_ewt-ud-{train,dev}.conllu")
    ap.add_argument("--eval-data-dir", default=None, help="data root of the test sets (default: --data-dir; 'hub': google/xtreme)")
    ap.add_argument("--eval-split", default="test@treebank=pud")
    ap.add_argument("--languages", default="ja,zh,th")
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--eval-examples", type=int, default=None, help="the first N test sentences per language (default: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("runs/whitespace-free-pos"))
    args = ap.parse_args()

    eval_root = args.eval_data_dir or args.data_dir
    eval_root = None if eval_root == "hub" else eval_root
    wanted = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    found = available_languages(get_task("udpos"), args.eval_split, eval_root)
    languages = [lang for lang in wanted if lang in found]
    for lang in wanted:
        if lang not in found:
            print(f"skipped {lang}: no udpos {args.eval_split.split('@')[0]} files for it under {eval_root}")
    if not languages:
        raise SystemExit("no language to score")

    trained = train_run(["udpos"], config(args, args.data_dir, "xtreme"), args.out)
    run_dir = args.out / trained.run_id
    rows = []
    for mode in MODES:
        result = evaluate_run("udpos", config(args, eval_root, mode), run_dir, args.out, languages=languages)
        for lang in languages:
            m = result.metrics[lang]
            rows.append((lang, mode, m["f1"], m["accuracy"], m.get("merged_words", 0.0), m["empty_words"], m["truncated_words"], m["n"], result.run_id))

    print(f"\ntrained: {run_dir} (English dev: {', '.join(f'{k} {v:.1f}' for k, v in trained.metrics['en'].items())})")
    head = ("language", "mode", "F1", "accuracy", "merged words", "empty", "truncated", "sentences", "run")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for lang, mode, f1, acc, merged, empty, truncated, n, run_id in rows:
        print(f"{lang} | {mode} | {f1:.1f} | {acc:.1f} | {merged:.0f} | {empty:.0f} | {truncated:.0f} | {n:.0f} | {run_id}")


if __name__ == "__main__":
    main()
