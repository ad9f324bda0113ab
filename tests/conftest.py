"""Shared fixtures: the package's tiny random BERT, built once per session.

Tests point ``XSTILTS_CACHE`` at a temporary folder so they never touch the user's cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("xstilts-cache")
    old = os.environ.get("XSTILTS_CACHE")
    os.environ["XSTILTS_CACHE"] = str(cache)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["XSTILTS_PROGRESS"] = "0"
    yield cache
    if old is None:
        os.environ.pop("XSTILTS_CACHE", None)
    else:
        os.environ["XSTILTS_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's ``tiny-random`` model (2 layers, 32 wide), built once into a session folder."""
    from xstilts.models.tiny import build_tiny_model

    folder = tmp_path_factory.mktemp("tiny-model")
    build_tiny_model(folder, seed=0)
    return folder


def require_shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (real data lives in ../shared/data beside the checkout)")
    return path
