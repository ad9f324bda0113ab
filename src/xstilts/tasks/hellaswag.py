"""HellaSwag: pick the plausible ending (4) of an ActivityNet/WikiHow context; one of the paper's best intermediates."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_jsonl
from xstilts.data.schema import Example
from xstilts.formats.multiple_choice import choice_row, hub_choice_row
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.registry import register

RELEASE_SPLITS = {"train": "train", "dev": "val", "test": "test"}


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """``hellaswag_{train,val,test}.jsonl`` (test without labels)."""
    path = folder / f"hellaswag_{RELEASE_SPLITS.get(split, split)}.jsonl"
    if lang != "en" or not path.is_file():
        return None
    return [choice_row(TASK, row, path, line, i) for i, (line, row) in enumerate(read_jsonl(path))], [path]


TASK = Task(
    name="hellaswag",
    format="multiple_choice",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True, "test": False},
    metric="accuracy",
    description="HellaSwag: choose the ending (of 4) that completes ctx_a + ctx_b; test labels are hidden.",
    citation="Zellers, Holtzman, Bisk, Farhadi, Choi. HellaSwag: Can a Machine Really Finish Your Sentence? ACL 2019.",
    train_size=39905,
    hub=HubSource(
        dataset="Rowan/hellaswag",
        # weakest evidence: pinned in public code, and main may be script-only (docs/hub_revisions.md)
        revision="218ec52e09a7e7462a5400043bb9a69a41d06b76",
        splits={"dev": "validation"},
        row=hub_choice_row,
    ),
    release=read_release,
)
register(TASK)
