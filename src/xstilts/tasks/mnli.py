"""MultiNLI: the intermediate task the paper found best, and XNLI's English training data."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.files import read_delimited, read_jsonl
from xstilts.data.schema import Example
from xstilts.formats.classification import classification_rows
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.common import NLI_ALIASES, NLI_CITATION_MNLI, NLI_LABELS, pair_row
from xstilts.tasks.registry import register

# GLUE's MNLI/ files and the MultiNLI 1.0 release, by our split names
GLUE_FILES = {"train": "train", "dev": "dev_matched", "dev_mismatched": "dev_mismatched", "test": "test_matched"}
RELEASE_FILES = {"train": "multinli_1.0_train", "dev": "multinli_1.0_dev_matched", "dev_mismatched": "multinli_1.0_dev_mismatched"}


def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
    """GLUE ``train.tsv``/``dev_matched.tsv`` or MultiNLI ``multinli_1.0_*.jsonl`` (genre kept as metadata)."""
    if lang != "en":
        return None
    for stem, reader in ((GLUE_FILES.get(split), read_delimited), (RELEASE_FILES.get(split), read_jsonl)):
        if stem is None:
            continue
        for path in (folder / f"{stem}.{ext}" for ext in ("tsv", "jsonl")):
            if path.is_file() and (path.suffix == ".tsv") == (reader is read_delimited):
                rows = reader(path)
                return classification_rows(TASK, ((line, _keep(row)) for line, row in rows), path), [path]
    return None


def _keep(row: dict) -> dict:
    """Keep the columns that matter: the release rows carry parses and per-annotator labels."""
    keep = {"sentence1", "sentence2", "gold_label", "genre", "pairID", "promptID"}
    return {k: v for k, v in row.items() if k in keep}


TASK = Task(
    name="mnli",
    format="classification",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True, "dev_mismatched": True, "test": False},
    metric="accuracy",
    description="MultiNLI: 3-way NLI over ten genres (GLUE MNLI; dev = dev_matched).",
    citation=NLI_CITATION_MNLI,
    train_size=392702,
    labels=NLI_LABELS,
    label_aliases=NLI_ALIASES,
    hub=HubSource(
        dataset="nyu-mll/glue",
        revision="bcdcba79d07bc864c1c254ccfcedcce55bcc9a8c",
        config="mnli",
        splits={"dev": "validation_matched", "dev_mismatched": "validation_mismatched", "test": "test_matched"},
        row=pair_row("premise", "hypothesis", "label", NLI_LABELS, id_field="idx"),
    ),
    release=read_release,
    slice_fields=("genre",),
)
register(TASK)
