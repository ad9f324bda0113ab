"""SQuAD v1.1 and v2.0: English extractive QA, intermediate tasks (v1.1 also trains XQuAD and MLQA)."""

from __future__ import annotations

from pathlib import Path

from xstilts.data.schema import Example
from xstilts.data.squad import hub_qa_row, read_squad
from xstilts.tasks.base import HubSource, Task
from xstilts.tasks.registry import register

SQUAD_CITATION = "Rajpurkar, Zhang, Lopyrev, Liang. SQuAD: 100,000+ Questions for Machine Comprehension of Text. EMNLP 2016."
SQUAD2_CITATION = "Rajpurkar, Jia, Liang. Know What You Don't Know: Unanswerable Questions for SQuAD. ACL 2018."


def _release(version: str):
    def read_release(folder: Path, lang: str, split: str) -> tuple[list[Example], list[Path]] | None:
        """The release's ``{train,dev}-v<version>.json``."""
        path = folder / f"{split}-v{version}.json"
        if lang != "en" or not path.is_file():
            return None
        return list(read_squad(path)), [path]

    return read_release


TASK = Task(
    name="squad",
    format="qa",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True},
    metric="f1",
    description="SQuAD v1.1: extractive QA over Wikipedia paragraphs; F1 with EM beside (SQuAD v1.1 script).",
    citation=SQUAD_CITATION,
    train_size=87599,
    hub=HubSource(
        dataset="rajpurkar/squad",
        # weaker evidence: pinned in public code, no hub page seen (docs/hub_revisions.md)
        revision="7b6d24c440a36b6815f21b70d25016731768db1f",
        config="plain_text",
        splits={"dev": "validation"},
        row=hub_qa_row,
    ),
    release=_release("1.1"),
)

TASK_V2 = Task(
    metric_variant="squad_v2",
    name="squad_v2",
    format="qa",
    role="intermediate",
    languages=("en",),
    splits={"train": True, "dev": True},
    metric="f1",
    description="SQuAD v2.0: SQuAD v1.1 plus unanswerable questions (no answers = no-answer); F1 with EM beside.",
    citation=SQUAD2_CITATION,
    train_size=130319,
    hub=HubSource(
        dataset="rajpurkar/squad_v2",
        revision="80596c4f2b9ffcd716039dfc7e564c4e491802ec",
        config="squad_v2",
        splits={"dev": "validation"},
        row=hub_qa_row,
    ),
    release=_release("2.0"),
)
register(TASK, TASK_V2)
