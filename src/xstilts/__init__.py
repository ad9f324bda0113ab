"""xstilts: X-STILTs intermediate-task training for zero-shot cross-lingual transfer."""
from __future__ import annotations

__version__ = "0.1.0"
