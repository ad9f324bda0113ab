"""A small grid of scored PAWS-X runs (no intermediate vs MNLI, three seeds) for the result commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.synthetic import DataRoot, scored_run


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("cli")
    root, runs = base / "data", base / "runs"
    data = DataRoot(root)
    for lang in ("en", "de"):
        data.pawsx(lang, 60)
    for seed, (base_wrong, good_wrong) in enumerate([(0.3, 0.1), (0.35, 0.15), (0.3, 0.12)]):
        scored_run(runs, root, "pawsx", "none", seed, {"en": base_wrong, "de": base_wrong})
        scored_run(runs, root, "pawsx", "mnli", seed, {"en": good_wrong, "de": good_wrong})
    return root, runs
