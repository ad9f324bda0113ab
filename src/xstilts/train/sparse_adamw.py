"""AdamW that updates only the word-embedding rows a batch has touched so far, with dense AdamW's maths.

Why: the word embeddings hold most of a multilingual encoder (96M of the embedded model's 118M
parameters, 256M of XLM-R Large's 560M: 250k rows), and one English batch touches a few thousand
rows. Dense AdamW reads and writes all of them at every step, plus a dense gradient for all of them.

The maths is torch.optim.AdamW's. At step t with learning rate lr_t (from the schedule), a row with
gradient g is updated as ``w *= 1 - lr_t wd``, ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g²``,
``w -= lr_t m̂ / (sqrt(v̂) + eps)``, with the bias corrections of the global step t. A row whose
gradient has been zero at every step so far has m = v = 0: its update is only the decay factor.

- **Unseen rows** (gradient zero so far) have no moments. The optimiser sums ``log(1 - lr_t wd)``
  over the steps, and each row keeps the sum at which its stored value was last brought up to date
  (its stamp); its true value is the stored one times ``exp(sum - stamp)``. A row is brought up to
  date when the embedding looks it up (a forward pre-hook, so the forward pass reads dense AdamW's
  value), and every row at :meth:`SparseAdamW.sync`.
- **Seen rows** have m and v that keep changing on steps where their gradient is zero, so each is
  updated at every step, as dense AdamW does: gathered, updated and written back. A row's first
  update uses the global step's bias corrections, as dense AdamW's does.

So the weights are dense AdamW's at every :meth:`SparseAdamW.sync`: call it before reading the
weights other than through the embedding (saving, copying the best state, evaluating), and
:meth:`SparseAdamW.finish` when training ends, before loading other weights into the model. The other
parameters go through a plain ``torch.optim.AdamW`` (fused where the build has it) with the same
groups and schedule.

The embedding's gradient is sparse: the optimiser sets ``nn.Embedding.sparse``, so backward returns
only the looked-up rows (a ``torch.sparse_coo`` tensor; torch leaves the padding row out, and it
stays unseen, as its dense gradient is zero). ``torch.nn.utils.clip_grad_norm_`` cannot read sparse
gradients; :func:`clip_grad_norm_` here can, and clips dense ones the same way. A dense gradient is
accepted too (its nonzero rows are the touched ones): the maths is the same, only its cost is not saved.

On a GPU, finding the rows a batch looks up and coalescing the sparse gradient each cost a host sync
per step. The state is the rows seen so far with their two moments, and one stamp per row.

Example::

    optimizer = build_sparse_optimizer(model, model.encoder.get_input_embeddings(), lr=2e-5, weight_decay=0.01, eps=1e-8)
    scheduler = linear_schedule(optimizer, total_steps, warmup_ratio=0.1)
    for batch in batches:
        loss(model, batch).backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step(); scheduler.step(); optimizer.zero_grad(set_to_none=True)
    optimizer.sync()  # before saving or evaluating
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from xstilts.runtime.hardware import NO_DECAY

#: the hyper-parameters copied from this optimiser's groups (where the schedule writes) to the dense AdamW's
HYPER = ("lr", "betas", "eps", "weight_decay")
#: rows of moment buffers allocated at least at a time (they grow by doubling)
MIN_ROWS = 1024


class SparseAdamW(torch.optim.Optimizer):
    """AdamW with the rows of ``embeddings`` updated lazily and exactly (see the module doc).

    Args:
        params: parameters or parameter groups, as for ``torch.optim.AdamW``; they include the embeddings' weights.
        embeddings: the embedding modules updated by row; their gradients become sparse, and each
            look-up first brings its rows up to date.
        fused: use fused AdamW for the other parameters (None: where the build supports it).
    """

    def __init__(
        self,
        params: Iterable[Any],
        embeddings: Iterable[nn.Embedding],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})
        embeddings = list(embeddings)
        self.row_params = [m.weight for m in embeddings]
        rows = {id(p) for p in self.row_params}
        if not rows <= {id(p) for g in self.param_groups for p in g["params"]}:
            raise ValueError("the embeddings' weights must be among the optimiser's parameters")
        self.embeddings = embeddings
        self._hooks = [m.register_forward_pre_hook(self._before_lookup) for m in embeddings]
        for module in embeddings:
            module.sparse = True
        dense_groups = [{**{k: g[k] for k in HYPER}, "params": [p for p in g["params"] if id(p) not in rows]} for g in self.param_groups]
        self.dense = _adamw(dense_groups, fused) if any(g["params"] for g in dense_groups) else None

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self.dense is not None:
            for outer, inner in zip(self.param_groups, self.dense.param_groups, strict=True):
                inner.update({k: outer[k] for k in HYPER})
            self.dense.step()
        rows = {id(p) for p in self.row_params}
        for group in self.param_groups:
            for p in group["params"]:
                if id(p) in rows and p.grad is not None:  # no gradient: skipped, decay included, as AdamW does
                    self._step_rows(p, group)
        return loss

    def _step_rows(self, p: torch.Tensor, group: dict[str, Any]) -> None:
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        if lr * wd >= 1:
            raise ValueError(f"lr x weight_decay = {lr * wd:g}: AdamW's decay factor 1 - lr x wd must stay positive")
        state = self.state[p]
        if not state:
            state.update(_empty_rows(p))
        grad = p.grad if p.grad.is_sparse else p.grad.to_sparse(1)
        grad = grad.coalesce()
        index, values = grad.indices()[0], grad.values()
        state["step"] += 1
        new = index[state["slot"][index] < 0]
        if new.numel():
            self._catch_up(p, new)  # a no-op after the look-up's own catch-up, unless the gradient came another way
            _add_rows(state, new)
        n = state["n"]
        rows, exp_avg, exp_avg_sq = state["rows"][:n], state["exp_avg"][:n], state["exp_avg_sq"][:n]
        g = torch.zeros_like(exp_avg)
        g.index_copy_(0, state["slot"][index], values.to(g.dtype))
        w = p.index_select(0, rows)
        w.mul_(1 - lr * wd)
        exp_avg.lerp_(g, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        bias1 = 1 - beta1 ** state["step"]
        bias2_sqrt = math.sqrt(1 - beta2 ** state["step"])
        w.addcdiv_(exp_avg, (exp_avg_sq.sqrt() / bias2_sqrt).add_(eps), value=-lr / bias1)
        p.index_copy_(0, rows, w)
        state["log_decay"] += math.log1p(-lr * wd)

    @torch.no_grad()
    def _catch_up(self, p: torch.Tensor, rows: torch.Tensor | None = None) -> None:
        """Bring unseen ``rows`` (distinct; None: all rows) up to date with the decay they missed."""
        state = self.state.get(p)
        if not state:
            return  # no step yet: nothing missed
        unseen = state["slot"] < 0 if rows is None else state["slot"][rows] < 0
        stamp = state["stamp"] if rows is None else state["stamp"][rows]
        factor = torch.where(unseen, (state["log_decay"] - stamp).exp(), 1.0).to(p.dtype)[:, None]
        if rows is None:
            p.mul_(factor)
            state["stamp"].fill_(state["log_decay"])
        else:
            p.index_copy_(0, rows, p.index_select(0, rows) * factor)
            state["stamp"][rows] = state["log_decay"]

    def _before_lookup(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        self._catch_up(module.weight, args[0].reshape(-1).unique())

    def sync(self) -> None:
        """Bring every row up to date: the weights are then dense AdamW's."""
        for p in self.row_params:
            self._catch_up(p)

    def finish(self) -> None:
        """Sync, then let go of the embeddings (no hook, dense gradients again): call once training
        ends, before other weights are loaded into the model, so no later look-up applies stale decay."""
        self.sync()
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        for module in self.embeddings:
            module.sparse = False

    def rows_seen(self) -> dict[str, int]:
        """Rows with moments (touched at least once) and rows in all, over the embeddings."""
        seen = sum(int(self.state[p]["n"]) for p in self.row_params if self.state.get(p))
        return {"seen": seen, "rows": sum(p.shape[0] for p in self.row_params)}

    def state_dict(self) -> dict[str, Any]:
        """torch's layout (state by parameter index, then the groups), so checkpoints store it as AdamW's."""
        index = self._index()
        state: dict[int, dict[str, Any]] = {}
        if self.dense is not None:
            dense = self.dense.state_dict()["state"]
            for i, p in enumerate(_params(self.dense.param_groups)):
                if i in dense:
                    state[index[id(p)]] = dense[i]
        for p in self.row_params:
            s = self.state.get(p)
            if s:
                n = s["n"]
                state[index[id(p)]] = {"step": s["step"], "log_decay": s["log_decay"], "stamp": s["stamp"].clone(),
                                       "rows": s["rows"][:n].clone(), "exp_avg": s["exp_avg"][:n].clone(),
                                       "exp_avg_sq": s["exp_avg_sq"][:n].clone()}  # fmt: skip
        groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError("the state's parameter groups do not match this optimiser's")
        for mine, saved in zip(self.param_groups, groups, strict=True):
            mine.update({k: (tuple(v) if k == "betas" else v) for k, v in saved.items() if k != "params"})
        index = self._index()
        saved_state = {int(k): v for k, v in state_dict["state"].items()}
        if self.dense is not None:
            dense = {i: saved_state[index[id(p)]] for i, p in enumerate(_params(self.dense.param_groups)) if index[id(p)] in saved_state}
            current = self.dense.state_dict()["param_groups"]
            for inner, outer in zip(current, self.param_groups, strict=True):
                inner.update({k: outer[k] for k in HYPER})
            self.dense.load_state_dict({"state": dense, "param_groups": current})
        for p in self.row_params:
            self.state.pop(p, None)
            saved = saved_state.get(index[id(p)])
            if saved is None:
                continue
            state = _empty_rows(p)
            state["step"], state["log_decay"] = int(saved["step"]), float(saved["log_decay"])
            state["stamp"] = torch.as_tensor(saved["stamp"]).to(p.device, torch.float64).clone()
            rows = torch.as_tensor(saved["rows"]).to(p.device, torch.long)
            _add_rows(state, rows)
            state["exp_avg"][: len(rows)] = torch.as_tensor(saved["exp_avg"]).to(p.device, p.dtype)
            state["exp_avg_sq"][: len(rows)] = torch.as_tensor(saved["exp_avg_sq"]).to(p.device, p.dtype)
            self.state[p] = state

    def _index(self) -> dict[int, int]:
        return {id(p): i for i, p in enumerate(_params(self.param_groups))}


def _params(groups: Sequence[dict[str, Any]]) -> list[torch.Tensor]:
    return [p for g in groups for p in g["params"]]


def _adamw(groups: list[dict[str, Any]], fused: bool | None) -> torch.optim.AdamW:
    if fused is not False:
        try:
            return torch.optim.AdamW(groups, fused=True)
        except (RuntimeError, TypeError):
            if fused:
                raise
    return torch.optim.AdamW(groups)


def _empty_rows(p: torch.Tensor) -> dict[str, Any]:
    """No row seen (the slot of every row is -1) and no decay missed yet."""
    return {
        "step": 0,
        "log_decay": 0.0,
        "stamp": torch.zeros(p.shape[0], dtype=torch.float64, device=p.device),
        "n": 0,
        "slot": torch.full((p.shape[0],), -1, dtype=torch.long, device=p.device),
        "rows": torch.empty(0, dtype=torch.long, device=p.device),
        "exp_avg": p.new_zeros(0, p.shape[1]),
        "exp_avg_sq": p.new_zeros(0, p.shape[1]),
    }


def _add_rows(state: dict[str, Any], new: torch.Tensor) -> None:
    """Give ``new`` rows (distinct, unseen) slots with zero moments; buffers grow by doubling."""
    n, k = state["n"], new.numel()
    if n + k > state["rows"].numel():
        size = max(2 * state["rows"].numel(), n + k, MIN_ROWS)
        for key in ("rows", "exp_avg", "exp_avg_sq"):
            old = state[key]
            grown = old.new_zeros((size, *old.shape[1:]))
            grown[:n] = old[:n]
            state[key] = grown
    state["rows"][n : n + k] = new
    state["slot"][new] = torch.arange(n, n + k, device=new.device)
    state["n"] = n + k


def build_sparse_optimizer(model: nn.Module, embedding: nn.Embedding, lr: float, weight_decay: float, eps: float) -> SparseAdamW:
    """``runtime.hardware.build_optimizer``'s AdamW (no decay on biases and LayerNorms), with
    ``embedding`` updated by row. A frozen embedding is left as it is (plain AdamW for the rest)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if any(key in name for key in NO_DECAY) else decay).append(param)
    embeddings = [embedding] if embedding.weight.requires_grad else []
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return SparseAdamW(groups, embeddings, lr=lr, eps=eps, weight_decay=weight_decay)


@torch.no_grad()
def clip_grad_norm_(parameters: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` (2-norm) that also reads and scales sparse gradients."""
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return torch.tensor(0.0)
    for p in params:
        if p.grad.is_sparse:
            p.grad = p.grad.coalesce()
    grads = [p.grad.values() if p.grad.is_sparse else p.grad for p in params]
    device = grads[0].device
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, 2.0).to(device) for g in grads]), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.device))
    return total


def touched_rows(features: Iterable[dict[str, Any]]) -> int:
    """Distinct token ids over features: the embedding rows training on them can touch."""
    return len({i for f in features for i in f["input_ids"]})
