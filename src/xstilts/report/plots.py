"""Figures for the report: the delta heatmap and per-language bar charts, as PNG bytes.

Figures are rendered with the Agg backend into memory and written atomically by the caller, so a
report folder never holds half a PNG and no display is needed.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from xstilts.report.matrix import candidates


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def delta_heatmap(matrix: pd.DataFrame) -> bytes | None:
    """Intermediate x target heatmap of the mean paired delta vs ``none``, each cell annotated."""
    cand = candidates(matrix).dropna(subset=["delta_mean"])
    if cand.empty:
        return None
    wide = cand.pivot(index="intermediate", columns="target", values="delta_mean")
    stds = cand.pivot(index="intermediate", columns="target", values="delta_std")
    limit = max(1e-6, float(wide.abs().max().max()))
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * wide.shape[1], 1.0 + 0.55 * wide.shape[0]))
    image = ax.imshow(wide.to_numpy(dtype=float), cmap="RdBu", norm=TwoSlopeNorm(0.0, -limit, limit), aspect="auto")
    ax.set_xticks(range(wide.shape[1]), wide.columns, rotation=45, ha="right")
    ax.set_yticks(range(wide.shape[0]), wide.index)
    for i, inter in enumerate(wide.index):
        for j, target in enumerate(wide.columns):
            value = wide.loc[inter, target]
            if math.isnan(value):
                continue
            std = stds.loc[inter, target]
            text = f"{value:+.1f}" + ("" if math.isnan(std) else f"\n±{std:.1f}")
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if abs(value) > 0.6 * limit else "black")
    fig.colorbar(image, ax=ax, label="task score - none (points)")
    ax.set_title("Change in task score from intermediate training")
    return _png(fig)


def gap_bars(gaps: pd.DataFrame, protocol: str) -> bytes | None:
    """Grouped bars: per language, each intermediate task's domain gap (in - out of domain, mean over seeds)."""
    data = gaps[gaps["protocol"] == protocol].dropna(subset=["gap"])
    if data.empty:
        return None
    wide = data.pivot(index="language", columns="intermediate", values="gap")
    n_langs, n_inter = wide.shape
    fig, ax = plt.subplots(figsize=(min(16.0, max(4.0, 0.25 * n_langs * (1 + n_inter) + 1.5)), 3.4))
    width = 0.8 / n_inter
    for k, inter in enumerate(wide.columns):
        xs = [i + (k - (n_inter - 1) / 2) * width for i in range(n_langs)]
        ax.bar(xs, wide[inter].fillna(0.0).to_numpy(), width, label=inter)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(range(n_langs), wide.index, fontsize=8)
    ax.set_ylabel("in - out of domain (points)")
    ax.set_title(f"Domain gap by intermediate task\n{protocol}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="intermediate", title_fontsize=7)
    return _png(fig)


def domain_heatmap(domains: pd.DataFrame, protocol: str, intermediate: str) -> bytes | None:
    """Language x domain heatmap of one intermediate task's scores (mean over seeds); seen domains marked *."""
    data = domains[(domains["protocol"] == protocol) & (domains["intermediate"] == intermediate)].dropna(subset=["score"])
    if data.empty:
        return None
    seen = set(data.loc[data["in_domain"].astype(bool), "domain"])
    wide = data.pivot(index="language", columns="domain", values="score")
    wide = wide[sorted(wide.columns, key=lambda d: (d not in seen, d))]
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * wide.shape[1], 1.0 + 0.45 * wide.shape[0]))
    image = ax.imshow(wide.to_numpy(dtype=float), cmap="viridis", aspect="auto")
    ax.set_xticks(range(wide.shape[1]), [f"{d}*" if d in seen else d for d in wide.columns], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(wide.shape[0]), wide.index, fontsize=8)
    for i in range(wide.shape[0]):
        for j in range(wide.shape[1]):
            value = wide.iat[i, j]
            if not math.isnan(value):
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7, color="white")
    fig.colorbar(image, ax=ax, label="score")
    ax.set_title(f"{intermediate}: score by language and domain (* seen in training)\n{protocol}", fontsize=9)
    return _png(fig)


def perturbation_lines(curves: pd.DataFrame, target: str) -> bytes | None:
    """Score against noise rate, one line per (intermediate task, perturbation), over the language mean."""
    data = curves[curves["target"] == target]
    langs = set(data["language"])
    data = data[data["language"] == ("mean" if "mean" in langs else sorted(langs)[0])] if langs else data
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for (inter, kind), group in data.groupby(["intermediate", "kind"]):
        group = group.sort_values("rate")
        ax.plot(group["rate"], group["score"], marker="o", label=f"{inter} / {kind}")
    ax.set_xlabel("noise rate p")
    ax.set_ylabel(f"score ({data['language'].iloc[0]})")
    ax.set_title(f"{target}: robustness to perturbation", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="intermediate / kind", title_fontsize=7)
    return _png(fig)


def language_bars(lang_deltas: pd.DataFrame, target: str) -> bytes | None:
    """Grouped bars: per language, the mean delta vs ``none`` of each intermediate task."""
    data = lang_deltas[(lang_deltas["target"] == target)].dropna(subset=["delta_mean"])
    data = data[data["intermediate"].isin(candidates(data)["intermediate"])]
    if data.empty:
        return None
    wide = data.pivot(index="language", columns="intermediate", values="delta_mean")
    n_langs, n_inter = wide.shape
    fig, ax = plt.subplots(figsize=(min(16.0, max(4.0, 0.18 * n_langs * (1 + n_inter) + 1.5)), 3.4))
    width = 0.8 / wide.shape[1]
    for k, inter in enumerate(wide.columns):
        xs = [i + (k - (wide.shape[1] - 1) / 2) * width for i in range(wide.shape[0])]
        ax.bar(xs, wide[inter].fillna(0.0).to_numpy(), width, label=inter)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(range(n_langs), wide.index, rotation=90 if n_langs > 20 else 0, fontsize=8)
    ax.set_xlim(-0.6, n_langs - 0.4)
    ax.set_ylabel("score - none (points)")
    ax.set_title(f"{target}: change per language (mean over seeds)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="intermediate", title_fontsize=7)
    return _png(fig)
