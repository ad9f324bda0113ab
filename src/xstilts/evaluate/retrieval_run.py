"""Retrieval evaluation (BUCC, Tatoeba): an encoder as it is, no target training, every language.

The recipe: pick the encoder (an intermediate-trained run's, or ``model.name``), embed each
language's sentences with the configured layer and pooling, then either mine (BUCC: threshold tuned
on the dev split, reused on test) or retrieve nearest neighbours (Tatoeba). With
``retrieval.sweep=true`` (``--layers all``) every hidden layer is scored from the same forward pass
and recorded under ``slices["layer"]``; the configured layer stays the reported number, so a sweep
never silently picks a layer on test data. A sweep holds every layer's vectors at once:
n x (layers + 1) x d floats per side, about 8 GB for a 400k-sentence BUCC side with 13 x 384.

Read :func:`retrieval_run` top to bottom: load the splits, identify the encoder, derive the run id
(and reuse a finished run), load the encoder, score each language, write the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xstilts.config import ConfigError, RetrievalConfig, RunConfig
from xstilts.data.load import Split, load_split
from xstilts.data.schema import DataError, ParallelCorpus
from xstilts.evaluate.zero_shot import eval_languages, mean_metrics
from xstilts.formats import bucc, knn, tatoeba
from xstilts.formats.retrieval import FORMAT, as_corpus
from xstilts.models import pooling
from xstilts.models.embedded import EMBEDDED_NAME
from xstilts.models.encoder import load_encoder, load_tokenizer, resolve_model_path
from xstilts.progress import progress_scope
from xstilts.runs import (
    PREDICTIONS_DIR,
    Provenance,
    Run,
    RunResult,
    encoder_provenance,
    run_encoder_path,
    sha256_file,
)
from xstilts.runtime.hardware import peak_memory_mb, pick_device
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task

#: per-language metrics that make no sense averaged over languages
NOT_AVERAGED = ("threshold",)


def corpus_of(split: Split) -> ParallelCorpus:
    return as_corpus(split.examples, split.source)


# ---------------------------------------------------------------------------------------------------
# What the run reads: its splits and its encoder


@dataclass
class Splits:
    """The splits one run reads: test in every language and, for mining, dev (its gold tunes the threshold)."""

    name: str
    #: None unless the task mines: Tatoeba-style retrieval reads no dev split
    dev_name: str | None
    languages: list[str]
    tests: dict[str, Split]
    devs: dict[str, Split]

    @property
    def mining(self) -> bool:
        return self.dev_name is not None

    def fingerprints(self) -> dict[str, str]:
        """Per language, the bytes the numbers depend on: test, plus dev when dev sets the threshold."""
        return {lang: s.fingerprint + (f"+{self.devs[lang].fingerprint}" if self.mining else "") for lang, s in self.tests.items()}

    def sources(self) -> dict[str, str]:
        return {lang: s.source + (f" (threshold on {self.devs[lang].source})" if self.mining else "") for lang, s in self.tests.items()}


def load_dev(task: Task, lang: str, split: str, data_dir: str | None) -> Split:
    """BUCC's threshold needs gold pairs on the dev split; say so plainly when they are missing."""
    try:
        dev = load_split(task, lang, split, data_dir)
    except (DataError, FileNotFoundError) as err:
        raise DataError(data_dir or task.name, None, f"a {split} split for {task.name} {lang} (BUCC release 'sample' files) to tune the mining threshold ({err})") from None
    if not corpus_of(dev).gold:
        raise DataError(dev.source, None, f"gold pairs in the {split} split for {lang}: the mining threshold is tuned on them")
    return dev


def load_splits(task: Task, cfg: RunConfig, languages: Sequence[str] | None) -> Splits:
    """Every split up front, so missing data fails before an encoder is loaded."""
    split = cfg.data.eval_split or task.eval_split
    dev_split = (cfg.data.dev_split or task.dev_split) if FORMAT.is_mining(task) else None
    langs = eval_languages(task, split, cfg, languages)
    tests = {lang: load_split(task, lang, split, cfg.data.data_dir) for lang in langs}
    devs = {lang: load_dev(task, lang, dev_split, cfg.data.data_dir) for lang in langs} if dev_split is not None else {}
    return Splits(split, dev_split, langs, tests, devs)


def model_identity(cfg: RunConfig, model_run: Path | None) -> tuple[str, str, Provenance | None, dict[str, Any]]:
    """(model name, encoder folder, provenance of a trained run, what of it enters the run id)."""
    if model_run is not None:
        parent = encoder_provenance(model_run)
        return parent.model, str(run_encoder_path(model_run)), parent, {"parent": parent.checkpoint_sha256}
    name = cfg.model.name
    folder = resolve_model_path(name)
    key: dict[str, Any] = {"name": name, "revision": cfg.model.revision}
    weights = Path(folder) / "model.safetensors"
    if name != EMBEDDED_NAME and weights.is_file():  # a local folder: its bytes, not its name
        key["weights"] = sha256_file(weights)
    return name, folder, None, key


def run_spec(task: Task, splits: Splits, rc: RetrievalConfig, prefix: str, model_key: dict[str, Any], intermediate: str | None) -> dict[str, Any]:
    """Everything that decides the numbers, hence the run id: a rerun with the same spec is skipped."""
    return {
        "task": task.name,
        "split": splits.name,
        "dev_split": splits.dev_name,
        "languages": splits.languages,
        "data": splits.fingerprints(),
        "retrieval": rc.model_dump(),
        "prefix": prefix,
        "model": model_key,
        "kind": "retrieval",
        "intermediate": intermediate,
    }


# ---------------------------------------------------------------------------------------------------
# Embedding and scoring one language


@dataclass
class Embedder:
    """The loaded encoder with the run's layer, pooling and prefix; it counts sentences for throughput."""

    encoder: Any
    tokenizer: Any
    rc: RetrievalConfig
    prefix: str
    device: torch.device
    n_states: int
    layer: int
    backend: str
    progress: Any = None
    n_sentences: int = 0

    def __call__(self, texts: list[str], what: str) -> np.ndarray:
        """Vectors at the configured layer, or at every layer (first axis) under a sweep: one pass either way."""
        self.n_sentences += len(texts)
        return pooling.embed(
            texts, self.encoder, self.tokenizer, layer="all" if self.rc.sweep else self.layer, pooling=self.rc.pooling,
            max_length=self.rc.max_length, batch_size=self.rc.batch_size, prefix=self.prefix, device=self.device,
            progress=self.progress, description=f"embed {what}",
        )

    def layers(self, vecs: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(layer, vectors) for every layer under a sweep, else only the configured layer's."""
        return list(enumerate(vecs)) if self.rc.sweep else [(self.layer, vecs)]

    def at_layer(self, vecs: np.ndarray, at: int) -> np.ndarray:
        return vecs[at] if self.rc.sweep else vecs


def load_embedder(cfg: RunConfig, folder: str, model_run: Path | None, prefix: str) -> Embedder:
    """The encoder on the configured device; a trained run's folder is pinned by its bytes, so no revision."""
    revision = None if model_run else cfg.model.revision
    tokenizer = load_tokenizer(folder, revision=revision, trust_remote_code=cfg.model.trust_remote_code)
    encoder = load_encoder(folder, revision=revision, trust_remote_code=cfg.model.trust_remote_code)
    n_states = pooling.num_hidden_states(encoder)
    layer = pooling.check_layer(cfg.retrieval.layer, n_states)
    device = pick_device(cfg.train.device)
    encoder.to(device)
    return Embedder(encoder, tokenizer, cfg.retrieval, prefix, device, n_states, layer, knn.pick_backend(cfg.retrieval.backend, device))


@dataclass
class LayerScore:
    """One language scored at one layer, and how to write that layer's prediction file."""

    layer: int
    metrics: dict[str, float]
    write: Callable[[Path], None]


@dataclass
class MiningSide:
    """One BUCC corpus embedded once per unique text, ready to be mined at any layer."""

    corpus: ParallelCorpus
    src: np.ndarray
    tgt: np.ndarray
    src_groups: list[list[int]]
    tgt_groups: list[list[int]]

    def pairs(self, emb: Embedder, at: int) -> list[bucc.ScoredPair]:
        """Margin-mined pairs at layer ``at``, mapped back to every id that shares their texts."""
        mined = bucc.mine(emb.at_layer(self.src, at), emb.at_layer(self.tgt, at), emb.rc.k, emb.backend, emb.device)  # type: ignore[arg-type]
        return bucc.expand_ids(mined, self.src_groups, self.tgt_groups, self.corpus.src_ids, self.corpus.tgt_ids)


def embed_for_mining(emb: Embedder, corpus: ParallelCorpus, lang: str, name: str) -> MiningSide:
    """Duplicates go before embedding: each text is embedded once and cannot compete with its own copy."""
    src_u, src_g = bucc.dedup(corpus.src)
    tgt_u, tgt_g = bucc.dedup(corpus.tgt)
    return MiningSide(corpus, emb(src_u, f"{lang} {name}"), emb(tgt_u, f"en {name}"), src_g, tgt_g)


def score_by_mining(emb: Embedder, lang: str, dev: ParallelCorpus, test: ParallelCorpus) -> list[LayerScore]:
    """BUCC: mine dev and test at each layer; test keeps the pairs above dev's F1-best threshold."""
    sides = {"dev": embed_for_mining(emb, dev, lang, "dev"), "test": embed_for_mining(emb, test, lang, "test")}
    out = []
    for at, _ in emb.layers(sides["test"].src):
        on_dev, on_test = sides["dev"].pairs(emb, at), sides["test"].pairs(emb, at)
        metrics, kept = bucc.bucc_metrics(on_dev, dev.gold, on_test, test.gold)
        out.append(LayerScore(at, metrics, partial(bucc.write_bucc_predictions, pairs=kept)))
    return out


def score_by_retrieval(emb: Embedder, lang: str, test: ParallelCorpus) -> list[LayerScore]:
    """Tatoeba: at each layer every xx sentence retrieves its nearest en sentence (and en retrieves xx)."""
    src, tgt = emb(test.src, lang), emb(test.tgt, f"en ({lang})")
    out = []
    for (at, sv), (_, tv) in zip(emb.layers(src), emb.layers(tgt), strict=True):
        metrics, retrieved = tatoeba.tatoeba_metrics(sv, tv, test, emb.backend, emb.device)  # type: ignore[arg-type]
        out.append(LayerScore(at, metrics, partial(tatoeba.write_tatoeba_predictions, retrieved=retrieved)))
    return out


# ---------------------------------------------------------------------------------------------------
# Every language, and the result


@dataclass
class Scores:
    """What the run reports: metrics at the configured layer, every layer's under a sweep, prediction files."""

    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    by_layer: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    predictions: dict[str, str] = field(default_factory=dict)

    def add(self, lang: str, scored: list[LayerScore], emb: Embedder, tmp: Path | None) -> None:
        """Record one language; its prediction file (if ``tmp``) is the configured layer's, never a swept one."""
        rel = f"{PREDICTIONS_DIR}/{lang}{FORMAT.prediction_suffix}"
        for one in scored:
            if emb.rc.sweep:
                self.by_layer.setdefault(str(one.layer), {})[lang] = one.metrics
            if one.layer == emb.layer:
                self.metrics[lang] = one.metrics
                if tmp is not None:
                    one.write(tmp / rel)
        if tmp is not None:
            self.predictions[lang] = rel


def score_languages(emb: Embedder, splits: Splits, task: Task, tmp: Path | None, bar: Any) -> Scores:
    """Each language in turn, mined (BUCC) or retrieved (Tatoeba), with one progress line for all."""
    scores = Scores()
    langs_bar = bar.add_task(f"retrieval {task.name}", total=len(splits.languages))
    for lang in splits.languages:
        test = corpus_of(splits.tests[lang])
        if splits.mining:
            scored = score_by_mining(emb, lang, corpus_of(splits.devs[lang]), test)
        else:
            scored = score_by_retrieval(emb, lang, test)
        scores.add(lang, scored, emb, tmp)
        bar.advance(langs_bar)
    return scores


def run_notes(emb: Embedder, splits: Splits) -> list[str]:
    """The choices a retrieval number hinges on, stated beside it (hidden defaults mislead: PAPER.md)."""
    rc = emb.rc
    notes = [
        f"split {splits.name}; layer {emb.layer} of {emb.n_states - 1} (0 = embeddings); pooling {rc.pooling}; "
        f"prefix {emb.prefix!r}; backend {emb.backend}; fp32",
    ]
    if splits.mining:
        notes.append(f"mining: k={rc.k} ratio margin, one-to-one greedy; threshold tuned per language on {splits.dev_name}")
    if rc.sweep:
        notes.append(f"layer sweep: slices['layer'] holds every layer 0..{emb.n_states - 1}; metrics are layer {emb.layer}'s")
    return notes


def perturb_note(cfg: RunConfig) -> list[str]:
    """Retrieval scores sentences as given: a grid-wide ``eval.perturb`` says so here rather than silently."""
    if not cfg.eval.perturb:
        return []
    return [f"eval.perturb ({', '.join(cfg.eval.perturb)}) not applied: perturbed scoring covers the trained formats"]


def retrieval_run(
    task_name: str,
    cfg: RunConfig,
    out: Path,
    model_run: Path | None = None,
    languages: Sequence[str] | None = None,
    progress: Any = None,
    intermediate: str | None = None,
) -> RunResult:
    """Score an encoder on a retrieval task in every language; reuse the finished run if there is one.

    ``intermediate`` labels the result (a grid knows it); by default it is the task that trained
    ``model_run``, or None for an untouched model.
    """
    task = get_task(task_name)
    if task.format != FORMAT.name:
        raise ConfigError(f"{task.name} is a {task.format} task, not a retrieval task")
    splits = load_splits(task, cfg, languages)
    model_name, folder, parent, model_key = model_identity(cfg, model_run)
    if intermediate is None and parent is not None:
        intermediate = parent.parent_task
    prefix = pooling.resolve_prefix(cfg.retrieval.prefix, [model_name, folder], folder)
    run = Run(out, "retrieval", task.name, run_spec(task, splits, cfg.retrieval, prefix, model_key, intermediate))
    if run.finished is not None:
        return run.finished

    start = time.perf_counter()
    emb = load_embedder(cfg, folder, model_run, prefix)
    with run.writing() as tmp, progress_scope(progress) as bar:
        emb.progress = bar
        scores = score_languages(emb, splits, task, tmp if cfg.eval.write_predictions else None, bar)
        scored_langs = [lang for lang in task.scored_languages if lang in scores.metrics]
        average = {k: v for k, v in mean_metrics(scores.metrics, scored_langs).items() if k not in NOT_AVERAGED}
        seconds = time.perf_counter() - start
        return run.write(
            tmp, cfg, intermediate=intermediate, model=model_name, data_fingerprint=splits.fingerprints(),
            data_sources=splits.sources(), parent=parent.as_dict() if parent else None, eval_split=splits.name,
            metrics=scores.metrics, average=average, slices={"layer": scores.by_layer} if emb.rc.sweep else {},
            predictions=scores.predictions, notes=run_notes(emb, splits) + perturb_note(cfg),
            timings={
                "seconds": seconds,
                "examples_per_s": emb.n_sentences / seconds if seconds else None,
                "peak_memory_mb": peak_memory_mb(emb.device),
            },
        )
