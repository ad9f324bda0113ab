"""Task and HubSource: the derived facts."""

from __future__ import annotations

from dataclasses import replace

from xstilts.tasks.registry import get_task


def test_english_training_task() -> None:
    assert get_task("xnli").english_training_task() == "mnli"
    assert get_task("pawsx").english_training_task() == "pawsx"
    assert get_task("bucc2018").english_training_task() == "bucc2018"  # no train_task: its own name
    assert get_task("xnli").english_training_task("xnli") == "xnli"


def test_xtreme_follows_the_group() -> None:
    xnli = get_task("xnli")
    assert xnli.xtreme and not get_task("mnli").xtreme
    assert not replace(xnli, xtreme_group=None).xtreme


def test_pinned() -> None:
    xnli, mlqa = get_task("xnli"), get_task("mlqa")
    assert xnli.hub is not None and xnli.hub.pinned
    assert mlqa.hub is not None and not mlqa.hub.pinned and mlqa.hub.unpinned_reason
    assert not replace(xnli.hub, revision=xnli.hub.revision[:7]).pinned
