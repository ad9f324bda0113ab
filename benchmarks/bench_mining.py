"""BUCC-style mining at scale on synthetic vectors: wall time, peak memory and recall of planted pairs.

Why: BUCC's training split has ~100k-400k sentences per side, so mining must stay exact yet never
hold an n x n similarity matrix. This plants ``--planted`` true pairs (x = y + noise, cosine
1 / sqrt(1 + noise^2)) among random unit vectors and mines them with xstilts' own code.

    .venv/bin/python benchmarks/bench_mining.py --n 100000 --d 384 --threads 2
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import torch

from xstilts.formats import bucc, knn


def unit(a: np.ndarray) -> np.ndarray:
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    return a


def synthetic(n: int, d: int, planted: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """y random; x's first ``planted`` rows are noisy copies of a random choice of y rows, the rest random."""
    rng = np.random.default_rng(seed)
    y = unit(rng.standard_normal((n, d), dtype=np.float32))
    x = unit(rng.standard_normal((n, d), dtype=np.float32))
    partners = rng.choice(n, size=planted, replace=False)
    x[:planted] = unit(y[partners] + noise * unit(rng.standard_normal((planted, d), dtype=np.float32)))
    return x, y, [(str(i), str(j)) for i, j in enumerate(partners.tolist())]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench(x: np.ndarray, y: np.ndarray, gold: list[tuple[str, str]], backend: str, k: int, device: str, blocks: dict[str, int]) -> None:
    ids_x, ids_y = [str(i) for i in range(len(x))], [str(i) for i in range(len(y))]
    before = rss_mb()
    tracemalloc.start()
    start = time.perf_counter()
    mined = bucc.mine(x, y, k=k, backend=backend, device=device, **blocks)  # type: ignore[arg-type]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    scored = [(ids_x[s], ids_y[t], v) for s, t, v in mined]
    top = {(s, t) for s, t, _ in scored[: len(gold)]}
    found = {(s, t) for s, t, _ in scored}
    threshold, best = bucc.select_threshold(scored, gold)
    print(f"backend {backend} ({device}): {len(x):,} x {len(y):,}, d={x.shape[1]}, k={k}")
    print(f"  wall time            {seconds:8.1f} s")
    print(f"  peak RSS             {rss_mb():8.0f} MB (before mining {before:.0f} MB; the two inputs are {2 * x.nbytes / 2**20:.0f} MB)")
    print(f"  python-side peak     {py_peak / 2**20:8.0f} MB (tracemalloc: numpy arrays and lists)")
    if device.startswith("cuda"):
        print(f"  GPU peak             {torch.cuda.max_memory_allocated() / 2**20:8.0f} MB")
    print(f"  candidates kept      {len(mined):8,d} (one-to-one)")
    print(f"  planted recall       {100 * len(found & set(gold)) / len(gold):8.2f} % among all kept candidates")
    print(f"  recall@{len(gold):<13,d} {100 * len(top & set(gold)) / len(gold):8.2f} % (the top-|planted| by margin)")
    print(f"  oracle-threshold F1  {best['f1']:8.2f} (P {best['precision']:.2f}, R {best['recall']:.2f}, threshold {threshold:.4f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="sentences per side")
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--planted", type=int, default=10_000)
    ap.add_argument("--noise", type=float, default=3.0, help="noise norm relative to the signal (3.0 -> cosine 0.32)")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--backend", choices=["torch", "faiss", "both"], default="both", help="'both' = torch, plus faiss if installed")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--block-q", type=int, default=2048)
    ap.add_argument("--block-k", type=int, default=16384)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x, y, gold = synthetic(args.n, args.d, args.planted, args.noise, args.seed)
    print(f"planted pairs: {args.planted:,}, cosine {1 / np.sqrt(1 + args.noise**2):.3f}; torch threads {torch.get_num_threads()}")
    backends = ["torch", "faiss"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "faiss" and not knn.faiss_available():
            print("faiss: not installed, skipped")
            continue
        blocks = {"block_q": args.block_q, "block_k": args.block_k} if backend == "torch" else {}
        bench(x, y, gold, backend, args.k, args.device if backend == "torch" else "cpu", blocks)


if __name__ == "__main__":
    main()
