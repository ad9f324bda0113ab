"""Pinned Hugging Face hub revisions (being filled in)."""

from __future__ import annotations

REVISIONS: dict[str, str] = {}
