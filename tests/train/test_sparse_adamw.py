"""SparseAdamW against the loop's dense AdamW on the tiny model: the same weights, to float tolerance.

60 optimiser steps of 2 micro-batches, with weight decay, a linear schedule with warm-up, gradient
clipping that bites, dropout (the same masks in both runs) and padding. Rows 300-399 are first seen
at step 40, rows 400-449 only at step 3 (then their moments keep moving with zero gradients), and
rows from 450 up, like the padding row, are never seen (pure decay). A sync at step 30 stands for a
dev evaluation in the middle of a phase.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from xstilts.formats.base import get_format
from xstilts.models.encoder import load_encoder
from xstilts.models.model import MultiTaskModel
from xstilts.runtime.hardware import build_optimizer, linear_schedule
from xstilts.train.sparse_adamw import SparseAdamW, build_sparse_optimizer, clip_grad_norm_, touched_rows

STEPS, LR, WD, MAX_NORM, PAD = 60, 1e-3, 0.3, 0.5, 1
FIRST_LATE, SEEN_ONCE, NEVER = range(300, 400), range(400, 450), 450


def batches(steps: int) -> list[list[dict[str, torch.Tensor]]]:
    g = torch.Generator().manual_seed(0)
    out = []
    for step in range(1, steps + 1):
        micro = []
        for _ in range(2):
            ids = torch.randint(5, FIRST_LATE.stop if step >= 40 else FIRST_LATE.start, (4, 12), generator=g)
            if step == 3:
                ids[:, 1:4] = torch.randint(SEEN_ONCE.start, SEEN_ONCE.stop, (4, 3), generator=g)
            ids[:, 0] = 0
            mask = torch.ones_like(ids)
            ids[1:, -3:], mask[1:, -3:] = PAD, 0
            micro.append({"input_ids": ids, "attention_mask": mask, "labels": torch.randint(0, 3, (4,), generator=g)})
        out.append(micro)
    return out


def build(model_dir: Path) -> MultiTaskModel:
    torch.manual_seed(0)
    model = MultiTaskModel(load_encoder(str(model_dir)))
    model.add_head("t", "classification", ["a", "b", "c"], 0.1)
    return model


def train(model: MultiTaskModel, opt: torch.optim.Optimizer, sched, data, sparse: bool, start: int = 1, sync_at=(30,)) -> tuple[list[float], list[float]]:
    """The loop's step: zero, micro-batches, clip, step, schedule; returns each step's lr and gradient norm."""
    fmt = get_format("classification")
    clip = clip_grad_norm_ if sparse else torch.nn.utils.clip_grad_norm_
    lrs, norms = [], []
    for step, micro in enumerate(data, start):
        opt.zero_grad(set_to_none=True)
        for k, batch in enumerate(micro):
            torch.manual_seed(1000 * step + k)  # the same dropout masks in both runs
            (fmt.loss(model("t", batch), batch) / len(micro)).backward()
        norms.append(float(clip(model.parameters(), MAX_NORM)))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        if sparse and step in sync_at:
            opt.sync()
    return lrs, norms


def sparse_run(model_dir: Path) -> tuple[MultiTaskModel, SparseAdamW, list[float]]:
    model = build(model_dir)
    opt = build_sparse_optimizer(model, model.encoder.get_input_embeddings(), LR, WD, 1e-8)
    _, norms = train(model, opt, linear_schedule(opt, STEPS, 0.1), batches(STEPS), sparse=True)
    opt.finish()
    return model, opt, norms


def test_sparse_adamw_matches_dense_adamw(tiny_model: Path) -> None:
    init = build(tiny_model).encoder.get_input_embeddings().weight.detach().clone()
    dense = build(tiny_model)
    dense_opt = build_optimizer(dense, LR, WD, 1e-8, torch.device("cpu"))
    lrs, dense_norms = train(dense, dense_opt, linear_schedule(dense_opt, STEPS, 0.1), batches(STEPS), sparse=False)
    sparse, opt, sparse_norms = sparse_run(tiny_model)

    assert lrs[0] == 0.0 and max(lrs) == pytest.approx(LR)  # warm-up from 0, then linear decay
    assert max(dense_norms) > MAX_NORM  # clipping bites
    assert sparse_norms == pytest.approx(dense_norms, rel=1e-5)
    assert sparse.encoder.get_input_embeddings().weight.grad.is_sparse
    diffs = {n: (a - b).abs().max().item() for (n, a), b in zip(dense.state_dict().items(), sparse.state_dict().values(), strict=True)}
    worst = max(diffs, key=diffs.get)
    print(f"max |dense - sparse| over all parameters after {STEPS} steps: {diffs[worst]:.3g} ({worst})")
    assert diffs[worst] < 1e-6, diffs

    weight = dense.encoder.get_input_embeddings().weight.detach()
    decay = torch.tensor([1 - lr * WD for lr in lrs], dtype=torch.float64).prod().item()
    never = torch.cat([torch.tensor([PAD]), torch.arange(NEVER, weight.shape[0])])
    torch.testing.assert_close(weight[never], init[never] * decay, atol=1e-7, rtol=0)  # pure decay, in closed form
    assert (weight[never] - init[never]).abs().max() > 1e-4  # ... which is not nothing
    late, once = torch.tensor(list(FIRST_LATE)), torch.tensor(list(SEEN_ONCE))
    assert (weight[late] - init[late] * decay).abs().max() > 1e-4  # rows first seen late were trained
    assert (weight[once] - init[once] * decay).abs().max() > 1e-4
    ids = {int(i) for step in batches(STEPS) for b in step for i in b["input_ids"].flatten()} - {PAD}
    assert opt.rows_seen() == {"seen": len(ids), "rows": weight.shape[0]}


def test_state_dict_round_trip_continues_exactly(tiny_model: Path) -> None:
    data = batches(20)
    model = build(tiny_model)
    opt = build_sparse_optimizer(model, model.encoder.get_input_embeddings(), LR, WD, 1e-8)
    sched = linear_schedule(opt, 20, 0.1)
    train(model, opt, sched, data[:10], sparse=True, sync_at=())
    saved_model, saved_opt, saved_sched = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()), sched.state_dict()
    assert saved_opt["state"][0]["log_decay"] < 0  # an unsynced state: the decay missed travels with it

    again = build(tiny_model)
    again_opt = build_sparse_optimizer(again, again.encoder.get_input_embeddings(), LR, WD, 1e-8)
    again_sched = linear_schedule(again_opt, 20, 0.1)
    again.load_state_dict(saved_model)
    again_opt.load_state_dict(saved_opt)
    again_sched.load_state_dict(saved_sched)
    train(model, opt, sched, data[10:], sparse=True, start=11, sync_at=())
    train(again, again_opt, again_sched, data[10:], sparse=True, start=11, sync_at=())
    opt.sync()
    again_opt.sync()
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_clip_grad_norm_reads_sparse_gradients() -> None:
    torch.manual_seed(0)
    dense = [torch.nn.Parameter(torch.randn(6, 3)), torch.nn.Parameter(torch.randn(4))]
    sparse = [torch.nn.Parameter(p.detach().clone()) for p in dense]
    for d, s in zip(dense, sparse, strict=True):
        d.grad = torch.randn_like(d) * 3
        s.grad = d.grad.clone()
    dense[0].grad[[1, 4]] = 0
    sparse[0].grad = dense[0].grad.to_sparse(1)
    expected = torch.nn.utils.clip_grad_norm_(dense, 1.0)
    assert clip_grad_norm_(sparse, 1.0).item() == pytest.approx(expected.item())
    torch.testing.assert_close(sparse[0].grad.to_dense(), dense[0].grad)
    torch.testing.assert_close(sparse[1].grad, dense[1].grad)


def test_frozen_embedding_leaves_plain_adamw(tiny_model: Path) -> None:
    model = build(tiny_model)
    embedding = model.encoder.get_input_embeddings()
    embedding.weight.requires_grad_(False)
    opt = build_sparse_optimizer(model, embedding, LR, WD, 1e-8)
    assert not embedding.sparse and opt.rows_seen() == {"seen": 0, "rows": 0}
    train(model, opt, linear_schedule(opt, 2, 0.0), batches(2), sparse=True)


def test_touched_rows() -> None:
    assert touched_rows([{"input_ids": [0, 5, 7, 2]}, {"input_ids": [0, 5, 9, 2, 1]}]) == 6


def test_a_training_phase_with_sparse_embeddings_matches_dense(tiny_model: Path, tmp_path: Path) -> None:
    """``train.sparse_embeddings=true`` through the real loop: same weights as dense AdamW, to float tolerance."""
    from safetensors.torch import load_file

    from xstilts.config import phase_config
    from xstilts.train.phase import train_run

    def run(sparse: bool) -> tuple[dict[str, torch.Tensor], list[dict]]:
        cfg = phase_config({}, {
            "seed": 5, "model": {"name": str(tiny_model)}, "data": {"max_train_examples": 64},
            "train": {"max_steps": 8, "batch_size": 8, "lr": 1e-3, "weight_decay": 0.1, "eval_every": 4,
                      "eval_examples": 16, "max_length": 64, "precision": "fp32", "device": "cpu",
                      "sparse_embeddings": sparse},
        })  # fmt: skip
        trained = train_run(["mini_nli"], cfg, tmp_path / ("sparse" if sparse else "dense"))
        return load_file(tmp_path / ("sparse" if sparse else "dense") / trained.run_id / "encoder" / "model.safetensors"), trained.training["history"]

    dense, dense_history = run(False)
    sparse, sparse_history = run(True)
    assert dense.keys() == sparse.keys()
    for key in dense:
        assert torch.allclose(dense[key], sparse[key], atol=1e-6), key
    assert [h["step"] for h in dense_history] == [h["step"] for h in sparse_history]
    for a, b in zip(dense_history, sparse_history, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5)
