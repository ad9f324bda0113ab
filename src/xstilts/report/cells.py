"""A grid of runs as (intermediate, target) cells, with per-example bootstrap scores on demand.

Claims and the report's selection-corrected gains both read runs through this one object, so a run's
per-example scores are rebuilt once and every comparison sees the same paired resamples.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts.report.bootstrap import bootstrap_task_scores
from xstilts.report.examples import GoldCache, Units, run_units
from xstilts.report.matrix import candidates, pair_seeds, transfer_matrix
from xstilts.report.robustness import Robustness, robustness
from xstilts.report.runs import ScoreTable
from xstilts.report.stats import benjamini_hochberg, bootstrap_p, holm, seed_test

Cell = tuple[str, str]  # (intermediate, target)


class Grid:
    """The runs of one model as cells, plus their per-example bootstrap scores (computed on demand)."""

    def __init__(self, table: ScoreTable, run_dir: Path, samples: int, seed: int, alpha: float) -> None:
        self.table, self.run_dir = table, run_dir
        self.runs = table.runs.set_index("run_id", drop=False)
        self.cells: dict[Cell, dict[int, str]] = {}
        for r in table.runs.itertuples(index=False):
            self.cells.setdefault((r.intermediate, r.target), {})[int(r.seed)] = r.run_id
        self.matrix = transfer_matrix(table.runs)
        self.intermediates = sorted(set(candidates(self.matrix)["intermediate"]))
        self.targets = sorted(set(table.runs["target"]))
        self.samples, self.seed, self.alpha = samples, seed, alpha
        self.boot: dict[str, np.ndarray] = {}
        self.no_boot: dict[str, str] = {}
        self.gold = GoldCache()
        self._robustness: Robustness | None = None

    def robustness(self) -> Robustness:
        """Domain gaps and their changes, computed once, when a domain-shift claim first asks."""
        if self._robustness is None:
            self._robustness = robustness(self.run_dir, self.table.model, self.samples, self.seed, self.alpha)
        return self._robustness

    def score(self, rid: str) -> float:
        return float(self.runs.at[rid, "score"])

    def prepare_bootstrap(self, run_ids: set[str]) -> None:
        """Rebuild per-example scores for these runs and bootstrap them all on shared resamples."""
        todo = sorted(run_ids - set(self.boot) - set(self.no_boot))
        if not todo or self.samples <= 0:
            return
        units: dict[str, tuple[str, dict[str, Units]]] = {}
        for rid in todo:
            folder = self.run_dir / str(self.runs.at[rid, "path"])
            try:
                raw = json.loads((folder / "result.json").read_text(encoding="utf-8"))
                units[rid] = (raw["task"], run_units(raw, folder, self.gold))
            except (OSError, ValueError, KeyError) as exc:
                self.no_boot[rid] = str(exc)
        self.boot.update(bootstrap_task_scores(units, self.samples, self.seed))


TEST_COLS = ["intermediate", "target", "delta", "seeds", "p_seeds", "p_bootstrap", "p", "p_holm", "p_bh"]


def cell_tests(grid: Grid, baseline: str = "none") -> pd.DataFrame:
    """Every (intermediate, target) cell's delta against ``baseline``, tested, with the matrix-wide corrections.

    A cell's p is the larger of the seed test's (with ≥ 3 seeds) and the paired bootstrap's: a verdict
    needs both, so this is an intersection-union test. Holm and BH adjust over all cells of the matrix.
    """
    rows = []
    for (inter, target), by_seed in sorted(grid.cells.items()):
        if inter == baseline or inter not in grid.intermediates or (baseline, target) not in grid.cells:
            continue
        pairs = pair_seeds(list(by_seed), list(grid.cells[(baseline, target)]))
        if not pairs:
            continue
        base = grid.cells[(baseline, target)]
        deltas = [grid.score(by_seed[a]) - grid.score(base[b]) for a, b in pairs]
        st = seed_test(deltas)
        p_seeds = st.p_value if st.method.startswith("paired t-test") else None
        used = {by_seed[a] for a, _ in pairs} | {base[b] for _, b in pairs}
        grid.prepare_bootstrap(used)
        p_boot = None
        if grid.samples > 0 and not used & set(grid.no_boot):
            p_boot = bootstrap_p(np.mean([grid.boot[by_seed[a]] - grid.boot[base[b]] for a, b in pairs], axis=0))
        tested = [p for p in (p_seeds, p_boot) if p is not None]
        rows.append([inter, target, float(np.mean(deltas)), len(pairs), p_seeds, p_boot, max(tested) if tested else None])
    frame = pd.DataFrame(rows, columns=TEST_COLS[:7])
    frame["p_holm"] = holm(list(frame["p"])) if len(frame) else []
    frame["p_bh"] = benjamini_hochberg(list(frame["p"])) if len(frame) else []
    return frame
