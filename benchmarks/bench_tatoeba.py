"""Tatoeba on all 36 languages with the embedded model (or any encoder): accuracy per language and mean.

Why: the retrieval number depends on layer and pooling more than on anything else (PAPER.md), so
this runs the real evaluation recipe (``retrieval_run``) at one layer or as a sweep over all layers
and prints xx->en top-1 accuracy, the XTREME number, with en->xx beside it.

    .venv/bin/python benchmarks/bench_tatoeba.py                      # last layer, all 36 languages
    .venv/bin/python benchmarks/bench_tatoeba.py --layer 6 --languages de,fr,sw
    .venv/bin/python benchmarks/bench_tatoeba.py --sweep --max-pairs 200
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from xstilts.config import build_config
from xstilts.data.retrieval import tatoeba_files
from xstilts.evaluate.retrieval_run import retrieval_run
from xstilts.tasks.tatoeba import LANGUAGES

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def truncated_root(data_dir: Path, languages: list[str], max_pairs: int, into: Path) -> Path:
    """A data root holding the first ``max_pairs`` lines of each language's files (a quick look)."""
    folder = into / "tatoeba"
    folder.mkdir(parents=True, exist_ok=True)
    for lang in languages:
        files = tatoeba_files(data_dir / "tatoeba", lang)
        if files is None:
            continue
        for path in files:
            lines = path.read_text(encoding="utf-8").splitlines()[:max_pairs]
            (folder / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return into


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--layer", type=int, default=-1)
    ap.add_argument("--sweep", action="store_true", help="score every layer from one forward pass")
    ap.add_argument("--pooling", choices=["mean", "cls"], default="mean")
    ap.add_argument("--prefix", default="auto")
    ap.add_argument("--languages", default=",".join(LANGUAGES))
    ap.add_argument("--max-pairs", type=int, default=0, help="first N pairs per language (0 = all, up to 1,000)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, default=None, help="run folder (default: a temporary one)")
    args = ap.parse_args()

    langs = [x.strip() for x in args.languages.split(",") if x.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-tatoeba-") as tmp:
        root = truncated_root(args.data_dir, langs, args.max_pairs, Path(tmp) / "data") if args.max_pairs else args.data_dir
        cfg = build_config({
            "model": {"name": args.model},
            "data": {"data_dir": str(root)},
            "train": {"device": args.device},
            "retrieval": {"layer": args.layer, "sweep": args.sweep, "pooling": args.pooling, "prefix": args.prefix, "batch_size": args.batch_size},
        })
        start = time.perf_counter()
        result = retrieval_run("tatoeba", cfg, args.out or Path(tmp) / "runs", languages=langs)
        seconds = time.perf_counter() - start

    print(f"model {result.model}; {result.notes[0]}")
    print(f"{'lang':<6}{'xx->en':>8}{'en->xx':>8}{'pairs':>7}")
    for lang, m in result.metrics.items():
        print(f"{lang:<6}{m['accuracy']:8.1f}{m['accuracy_en_xx']:8.1f}{int(m['n']):7d}")
    print(f"{'mean':<6}{result.average['accuracy']:8.1f}{result.average['accuracy_en_xx']:8.1f}   ({len(result.metrics)} languages)")
    if args.sweep:
        print("\nlayer sweep, mean xx->en accuracy over the languages:")
        for layer, per_lang in sorted(result.slices["layer"].items(), key=lambda kv: int(kv[0])):
            accs = [m["accuracy"] for m in per_lang.values()]
            print(f"  layer {int(layer):2d}: {sum(accs) / len(accs):6.1f}")
    print(f"\n{seconds:.0f} s, {result.timings.examples_per_s or 0:.0f} sentences/s, peak memory {result.timings.peak_memory_mb or 0:.0f} MB")


if __name__ == "__main__":
    main()
