"""Training-step throughput of an encoder: fp32 + plain AdamW against the defaults (bf16 autocast where
native, fused AdamW), optionally with frozen word embeddings. Run on an otherwise idle machine:

    .venv/bin/python benchmarks/bench_train_step.py --model embedded --batch 16 --length 48 --steps 8
"""

from __future__ import annotations

import argparse
import time

import torch

from xstilts.formats.base import get_format
from xstilts.models.encoder import load_encoder, resolve_model_path
from xstilts.models.model import MultiTaskModel
from xstilts.runtime.hardware import Precision, build_optimizer, pick_device, pick_precision


def run(model_name: str, precision: str, fused: bool, freeze: bool, batch: int, length: int, steps: int) -> float:
    torch.manual_seed(0)
    encoder = load_encoder(resolve_model_path(model_name))
    model = MultiTaskModel(encoder)
    model.add_head("t", "classification", ["a", "b", "c"], 0.1)
    if freeze:
        encoder.get_input_embeddings().weight.requires_grad_(False)
    device = pick_device()
    model.to(device)
    prec = Precision(pick_precision(precision, device), device)
    if fused:
        opt = build_optimizer(model, 1e-5, 0.01, 1e-8, device)
    else:
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5, foreach=False)
    fmt = get_format("classification")
    ids = torch.randint(5, 1000, (batch, length), device=device)
    data = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.randint(0, 3, (batch,), device=device)}
    times = []
    for step in range(steps + 2):
        start = time.perf_counter()
        with prec.autocast():
            logits = model("t", data)
        fmt.loss(logits, data).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= 2:
            times.append(time.perf_counter() - start)
    return sum(times) / len(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=48)
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args()
    base = run(args.model, "fp32", False, False, args.batch, args.length, args.steps)
    print(f"fp32, plain AdamW:               {base:.3f} s/step  {args.batch / base:.1f} examples/s")
    for precision, freeze in (("auto", False), ("auto", True)):
        t = run(args.model, precision, True, freeze, args.batch, args.length, args.steps)
        label = f"{pick_precision(precision, pick_device())}, fused AdamW" + (", frozen embeddings" if freeze else "")
        print(f"{label:32s} {t:.3f} s/step  {args.batch / t:.1f} examples/s  ({base / t:.2f}x)")


if __name__ == "__main__":
    main()
