"""Each bundled robustness protocol, end to end on ../shared/data/domains with the tiny model (a small slice).

The presets are run as shipped except for the model, the training budget and a few languages: the
point is that every reader, selection and domain label of the protocol holds on the real files, that
targets sharing a training split share one trained model, and that the robustness tables come out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_shared_data
from xstilts.experiment.grid import execute, load_spec
from xstilts.presets import preset_path
from xstilts.report.robustness import robustness

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

SMALL = {"model": {"name": "tiny-random"},
         "train": {"max_steps": 2, "eval_every": 2, "eval_examples": 8, "batch_size": 4, "precision": "fp32"}}  # fmt: skip


def run_protocol(name: str, out: Path, languages: dict[str, list[str]]) -> list:
    spec = load_spec(preset_path(name))
    spec.model = "tiny-random"
    spec.data_dir = str(require_shared_data("domains"))
    spec.languages = languages
    stages = execute(spec, out, SMALL)
    assert all(s.status == "done" for s in stages), [(s.kind, s.status) for s in stages]
    return stages


def test_pos_domain(tmp_path: Path) -> None:
    run_protocol("pos-domain", tmp_path, {"udpos": ["en", "de"]})
    rob = robustness(tmp_path, samples=50)
    (proto,) = set(rob.domains["protocol"])
    assert proto == "udpos trained on answers, email, newsgroup, reviews, weblog"
    en = rob.domains[rob.domains["language"] == "en"]
    assert set(en.loc[en["in_domain"], "domain"]) == {"answers", "email", "newsgroup", "reviews", "weblog"}
    assert {"academic", "vlog", "news", "wiki"} <= set(en.loc[~en["in_domain"], "domain"])
    assert set(rob.domains.loc[rob.domains["language"] == "de", "domain"]) == {"news", "wiki"}
    assert list(rob.gaps["language"]) == ["en"]  # de has no in-domain test: PUD is news and Wikipedia


def test_ner_domain_shares_one_model(tmp_path: Path) -> None:
    stages = run_protocol("ner-domain", tmp_path, {"uner": ["en", "hr", "nb"], "masakhaner": ["sw", "yo"]})
    assert sum(s.kind == "train" for s in stages) == 1
    rob = robustness(tmp_path, samples=50)
    # the training domains are the pool's: dev[:80%] happens to hold no weblog sentence, yet EWT's five genres count
    assert set(rob.domains["protocol"]) == {"uner trained on answers, email, newsgroup, reviews, weblog"}
    langs = set(rob.domains["language"])
    assert langs == {"en", "hr", "nb", "sw", "yo"}
    assert set(rob.domains.loc[rob.domains["language"] == "sw", "domain"]) == {"news"}
    assert set(rob.gaps["language"]) == {"en"}


def test_nli_genre(tmp_path: Path) -> None:
    run_protocol("nli-genre", tmp_path, {"xnli": ["en", "sw"]})
    rob = robustness(tmp_path, samples=50)
    assert set(rob.gaps["language"]) == {"en", "sw", "mean"}
    en = rob.domains[rob.domains["language"] == "en"]
    assert set(en.loc[en["in_domain"], "domain"]) == {"fiction", "government", "slate", "telephone", "travel"}
    assert len(en) == 10 and set(en["n"]) == {501}


def test_qa_domain(tmp_path: Path) -> None:
    stages = run_protocol("qa-domain", tmp_path, {"xquad": ["en", "de"], "m2qa": ["de"]})
    assert sum(s.kind == "train" for s in stages) == 1
    rob = robustness(tmp_path, samples=50)
    de = rob.domains[rob.domains["language"] == "de"].set_index("domain")
    assert set(de.index) == {"wikipedia", "news", "product_reviews"}
    assert bool(de.loc["wikipedia", "in_domain"]) and de.loc["news", "n"] == 1500
    assert set(rob.gaps["language"]) == {"de"}  # en has only the held-out Wikipedia half


def test_qa_domain_holds_out_whole_articles_in_every_language() -> None:
    from xstilts.data.load import load_split
    from xstilts.tasks.registry import get_task

    root, task = require_shared_data("domains"), get_task("xquad")
    seen = {ex.meta["title"] for split in ("test[:45%]", "test[45%:50%]") for ex in load_split(task, "en", split, root).examples}
    for lang in task.languages:
        held_out = load_split(task, lang, "test[50%:]", root).examples
        assert held_out and not seen & {ex.meta["title"] for ex in held_out}, lang
