"""Retrieval evaluation (BUCC, Tatoeba): an encoder as it is, no target training, every language.

The recipe: pick the encoder (an intermediate-trained run's, or ``model.name``), embed each
language's sentences with the configured layer and pooling, then either mine (BUCC: threshold tuned
on the dev split, reused on test) or retrieve nearest neighbours (Tatoeba). With
``retrieval.sweep=true`` (``--layers all``) every hidden layer is scored from the same forward pass
and recorded under ``slices["layer"]``; the configured layer stays the reported number, so a sweep
never silently picks a layer on test data. A sweep holds every layer's vectors at once:
n x (layers + 1) x d floats per side, about 8 GB for a 400k-sentence BUCC side with 13 x 384.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.config import ConfigError, RunConfig
from xstilts.data.load import Split, load_split
from xstilts.data.schema import DataError, ParallelCorpus
from xstilts.evaluate.zero_shot import PREDICTIONS_DIR, eval_languages, mean_metrics
from xstilts.experiment.results import RunResult, git_commit, is_finished, read_result, run_id, versions
from xstilts.formats import retrieval as R
from xstilts.models.embedded import EMBEDDED_NAME
from xstilts.models.encoder import (
    Provenance,
    encoder_provenance,
    load_encoder,
    load_tokenizer,
    resolve_model_path,
    run_encoder_path,
    sha256_file,
)
from xstilts.paths import atomic_dir
from xstilts.progress import progress_scope
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task
from xstilts.train.hardware import peak_memory_mb, pick_device

#: per-language metrics that make no sense averaged over languages
NOT_AVERAGED = ("threshold",)


def is_mining(task: Task) -> bool:
    """BUCC-style tasks are scored by F1 of mined pairs; Tatoeba-style ones by top-1 accuracy."""
    return task.metric == "f1"


def corpus_of(split: Split) -> ParallelCorpus:
    return R.as_corpus(split.examples, split.source)


def load_dev(task: Task, lang: str, split: str, data_dir: str | None) -> Split:
    """BUCC's threshold needs gold pairs on the dev split; say so plainly when they are missing."""
    try:
        dev = load_split(task, lang, split, data_dir)
    except (DataError, FileNotFoundError) as err:
        raise DataError(data_dir or task.name, None, f"a {split} split for {task.name} {lang} (BUCC release 'sample' files) to tune the mining threshold ({err})") from None
    if not corpus_of(dev).gold:
        raise DataError(dev.source, None, f"gold pairs in the {split} split for {lang}: the mining threshold is tuned on them")
    return dev


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
    if task.format != "retrieval":
        raise ConfigError(f"{task.name} is a {task.format} task, not a retrieval task")
    rc = cfg.retrieval
    mining = is_mining(task)
    split = cfg.data.eval_split or task.eval_split
    dev_split = cfg.data.dev_split or task.dev_split
    langs = eval_languages(task, split, cfg, languages)
    tests = {lang: load_split(task, lang, split, cfg.data.data_dir) for lang in langs}
    devs = {lang: load_dev(task, lang, dev_split, cfg.data.data_dir) for lang in langs} if mining else {}
    fingerprints = {lang: s.fingerprint + (f"+{devs[lang].fingerprint}" if mining else "") for lang, s in tests.items()}
    model_name, folder, parent, model_key = model_identity(cfg, model_run)
    if intermediate is None and parent is not None:
        intermediate = parent.parent_task
    prefix = R.resolve_prefix(rc.prefix, [model_name, folder], folder)
    spec = {
        "task": task.name,
        "split": split,
        "dev_split": dev_split if mining else None,
        "languages": langs,
        "data": fingerprints,
        "retrieval": rc.model_dump(),
        "prefix": prefix,
        "model": model_key,
        "kind": "retrieval",
        "intermediate": intermediate,
    }
    rid = run_id("retrieval", task.name, spec)
    run_dir = Path(out) / rid
    if is_finished(run_dir):
        return read_result(run_dir)

    start = time.perf_counter()
    tokenizer = load_tokenizer(folder, revision=None if model_run else cfg.model.revision, trust_remote_code=cfg.model.trust_remote_code)
    encoder = load_encoder(folder, revision=None if model_run else cfg.model.revision, trust_remote_code=cfg.model.trust_remote_code)
    n_states = R.num_hidden_states(encoder)
    layer = R.check_layer(rc.layer, n_states)
    device = pick_device(cfg.train.device)
    encoder.to(device)
    backend = R.pick_backend(rc.backend, device)
    n_sentences = 0

    metrics: dict[str, dict[str, float]] = {}
    by_layer: dict[str, dict[str, dict[str, float]]] = {}
    predictions: dict[str, str] = {}
    with atomic_dir(run_dir) as tmp, progress_scope(progress) as bar:
        langs_bar = bar.add_task(f"retrieval {task.name}", total=len(langs))

        def vectors(texts: list[str], what: str) -> np.ndarray:
            nonlocal n_sentences
            n_sentences += len(texts)
            return R.embed(
                texts, encoder, tokenizer, layer="all" if rc.sweep else layer, pooling=rc.pooling,
                max_length=rc.max_length, batch_size=rc.batch_size, prefix=prefix, device=device, progress=bar,
                description=f"embed {what}",
            )

        def layers_of(vecs: np.ndarray) -> list[tuple[int, np.ndarray]]:
            return list(enumerate(vecs)) if rc.sweep else [(layer, vecs)]

        def at_layer(vecs: np.ndarray, at: int) -> np.ndarray:
            return vecs[at] if rc.sweep else vecs

        for lang in langs:
            test = corpus_of(tests[lang])
            rel = f"{PREDICTIONS_DIR}/{lang}.txt"
            if mining:
                dev = corpus_of(devs[lang])
                sides = {}
                for name, corpus in (("dev", dev), ("test", test)):
                    src_u, src_g = R.dedup(corpus.src)
                    tgt_u, tgt_g = R.dedup(corpus.tgt)
                    sides[name] = (vectors(src_u, f"{lang} {name}"), vectors(tgt_u, f"en {name}"), src_g, tgt_g, corpus)
                for at, _ in layers_of(sides["test"][0]):
                    scored = {}
                    for name, (sv, tv, sg, tg, corpus) in sides.items():
                        mined = R.mine(at_layer(sv, at), at_layer(tv, at), rc.k, backend, device)
                        scored[name] = R.expand_ids(mined, sg, tg, corpus.src_ids, corpus.tgt_ids)
                    m, kept = R.bucc_metrics(scored["dev"], dev.gold, scored["test"], test.gold)
                    if rc.sweep:
                        by_layer.setdefault(str(at), {})[lang] = m
                    if at == layer:
                        metrics[lang] = m
                        if cfg.eval.write_predictions:
                            R.write_bucc_predictions(tmp / rel, kept)
            else:
                src_v, tgt_v = vectors(test.src, lang), vectors(test.tgt, f"en ({lang})")
                for (at, sv), (_, tv) in zip(layers_of(src_v), layers_of(tgt_v), strict=True):
                    m, retrieved = R.tatoeba_metrics(sv, tv, test, backend, device)
                    if rc.sweep:
                        by_layer.setdefault(str(at), {})[lang] = m
                    if at == layer:
                        metrics[lang] = m
                        if cfg.eval.write_predictions:
                            R.write_tatoeba_predictions(tmp / rel, retrieved)
            if cfg.eval.write_predictions:
                predictions[lang] = rel
            bar.advance(langs_bar)

        scored_langs = [lang for lang in task.scored_languages if lang in metrics]
        average = {k: v for k, v in mean_metrics(metrics, scored_langs).items() if k not in NOT_AVERAGED}
        seconds = time.perf_counter() - start
        notes = [
            f"split {split}; layer {layer} of {n_states - 1} (0 = embeddings); pooling {rc.pooling}; "
            f"prefix {prefix!r}; backend {backend}; fp32",
        ]
        if mining:
            notes.append(f"mining: k={rc.k} ratio margin, one-to-one greedy; threshold tuned per language on {dev_split}")
        if rc.sweep:
            notes.append(f"layer sweep: slices['layer'] holds every layer 0..{n_states - 1}; metrics are layer {layer}'s")
        result = RunResult(
            run_id=rid,
            kind="retrieval",
            task=task.name,
            intermediate=intermediate,
            model=model_name,
            seed=cfg.seed,
            config=cfg.model_dump(mode="json"),
            versions=versions(),
            git_commit=git_commit(),
            data_fingerprint=fingerprints,
            data_sources={
                lang: s.source + (f" (threshold on {devs[lang].source})" if mining else "") for lang, s in tests.items()
            },
            parent=parent.as_dict() if parent else None,
            metrics=metrics,
            average=average,
            slices={"layer": by_layer} if rc.sweep else {},
            predictions=predictions,
            timings={
                "seconds": seconds,
                "examples_per_s": n_sentences / seconds if seconds else None,
                "peak_memory_mb": peak_memory_mb(device),
            },
            notes=notes,
        )
        result.write(tmp)
    return result
