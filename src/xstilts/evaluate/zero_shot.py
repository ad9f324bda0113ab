"""Zero-shot evaluation: a trained encoder + head scored in every language of a target task.

Each language is featurised (cached), predicted in length-sorted batches, decoded and scored by the
task's format; metrics are also sliced by per-example metadata such as XNLI's genre.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from xstilts.config import RunConfig
from xstilts.data.domains import DOMAIN, describe_label_map, example_domain, task_domain
from xstilts.data.iob2 import MAPPED_TAGS
from xstilts.data.load import Split, available_languages, load_split
from xstilts.data.perturb import PERTURB_SLICE, Perturbation, perturb_examples
from xstilts.data.schema import DataError, Example
from xstilts.formats.base import Format, trainable_format
from xstilts.formats.features import features_for
from xstilts.models.encoder import load_encoder, load_tokenizer
from xstilts.models.model import MultiTaskModel
from xstilts.progress import progress_scope
from xstilts.runs import (
    PREDICTIONS_DIR,
    Run,
    RunKind,
    RunResult,
    encoder_provenance,
    run_encoder_path,
    saved_heads,
)
from xstilts.runtime.hardware import Precision, peak_memory_mb, pick_device, pick_precision
from xstilts.runtime.predict import predict
from xstilts.tasks.base import Task
from xstilts.tasks.registry import get_task


def eval_languages(task: Task, split: str, cfg: RunConfig, languages: Sequence[str] | None) -> list[str]:
    if languages:
        unknown = [lang for lang in languages if lang not in task.languages]
        if unknown:
            raise DataError(task.name, None, f"languages among {', '.join(task.languages)}; got {', '.join(unknown)}")
        return list(languages)
    found = available_languages(task, split, cfg.data.data_dir)
    if not found:
        raise DataError(cfg.data.data_dir or task.name, None, f"{task.name} {split} files for any of {', '.join(task.languages)}")
    return found


#: ``meta`` fields every evaluation is sliced by where examples carry them; every example has a domain
SLICE_FIELDS = ("treebank", "topic")


def slice_metrics(fmt: Format, task: Task, examples: Sequence[Example], preds: dict[str, Any], lang: str) -> dict[str, dict[str, dict[str, float]]]:
    """Metrics per domain, and per value of each other slice field present in the examples' metadata."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    fields = set(task.slice_fields) | {k for ex in examples for k in SLICE_FIELDS if k in ex.meta} | {DOMAIN}
    default = task_domain(task)
    for fld in sorted(fields):
        groups: dict[str, list[Example]] = defaultdict(list)
        for ex in examples:
            if fld == DOMAIN:
                groups[example_domain(ex, default)].append(ex)
            elif fld in ex.meta:
                groups[str(ex.meta[fld])].append(ex)
        if groups:
            out[fld] = {value: fmt.score(group, preds, lang) for value, group in sorted(groups.items())}
    return out


def label_map_notes(task: Task, splits: dict[str, Split]) -> list[str]:
    """The task's label map and how many gold tags it changed per language: part of what was scored."""
    if not task.label_map:
        return []
    changed = {lang: sum(getattr(ex, "meta", {}).get(MAPPED_TAGS, 0) for ex in s.examples) for lang, s in splits.items()}
    counts = ", ".join(f"{lang} {n}" for lang, n in changed.items() if n) or "none"
    return [f"label map {describe_label_map(task.label_map)}; gold tags changed: {counts}"]


COUNT_KEYS = ("n", "truncated_words", "empty_words", "threshold")


def is_count(key: str) -> bool:
    """Counters and thresholds describe a language's run; averaging them over languages means nothing."""
    return key in COUNT_KEYS or key.endswith(("_total", "_thresh"))


def mean_metrics(per_lang: dict[str, dict[str, float]], languages: Sequence[str]) -> dict[str, float]:
    """XTREME's task average: the plain mean over the task's languages, English included."""
    langs = [lang for lang in languages if lang in per_lang]
    keys = {k for lang in langs for k in per_lang[lang] if not is_count(k)}
    out = {}
    for key in sorted(keys):
        vals = [per_lang[lang][key] for lang in langs if key in per_lang[lang] and not math.isnan(per_lang[lang][key])]
        if vals:
            out[key] = sum(vals) / len(vals)
    return out


def evaluate_run(
    target_name: str,
    cfg: RunConfig,
    model_run: Path,
    out: Path,
    languages: Sequence[str] | None = None,
    kind: RunKind = "evaluate",
    intermediate: str | None = None,
    progress: Any = None,
) -> RunResult:
    """Score the encoder and head of ``model_run`` on ``target_name`` in every language."""
    target = get_task(target_name)
    fmt = trainable_format(target)
    head_task = target.english_training_task(cfg.data.train_task)
    parent = encoder_provenance(model_run)  # a damaged run is named before anything else is said of it
    if head_task not in saved_heads(model_run):
        raise DataError(model_run, None, f"a trained head for {head_task} (found: {', '.join(saved_heads(model_run)) or 'none'})")
    split = cfg.data.eval_split or target.eval_split
    langs = eval_languages(target, split, cfg, languages)
    splits: dict[str, Split] = {lang: load_split(target, lang, split, cfg.data.data_dir) for lang in langs}
    spec = {
        "target": target.name,
        "split": split,
        "languages": langs,
        "data": {lang: s.fingerprint for lang, s in splits.items()},
        "eval": cfg.eval.model_dump(),
        "max_length": cfg.eval.max_length or cfg.train.max_length,
        "doc_stride": cfg.train.doc_stride,
        "tokenize_words": cfg.train.tokenize_words,
        "parent": parent.checkpoint_sha256,
        "head": head_task,
        "kind": kind,
        "intermediate": intermediate,
    }
    run = Run(out, kind, target.name, spec)
    if run.finished is not None:
        return run.finished

    start = time.perf_counter()
    encoder_dir = str(run_encoder_path(model_run))
    tokenizer = load_tokenizer(encoder_dir)
    model = MultiTaskModel(load_encoder(encoder_dir))
    model.load_head(model_run, head_task)
    labels = model.head_info[head_task]["labels"]
    device = pick_device(cfg.train.device)
    precision = Precision(pick_precision(cfg.train.precision, device), device)
    model.to(device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    max_length = cfg.eval.max_length or cfg.train.max_length


    metrics: dict[str, dict[str, float]] = {}
    slices: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    n_examples = 0
    with run.writing() as tmp, progress_scope(progress) as bar:
        langs_bar = bar.add_task(f"zero-shot {target.name}", total=len(langs))
        predictions: dict[str, str] = {}
        for lang in langs:
            examples = splits[lang].examples
            if cfg.eval.max_examples:
                examples = examples[: cfg.eval.max_examples]
            feats = features_for(fmt, splits[lang], examples, tokenizer, labels, max_length, cfg.train.doc_stride, cfg.train.tokenize_words)
            preds = predict(model, head_task, fmt, examples, feats, labels, cfg.eval.batch_size, precision, pad_id, bar)
            gold = [ex for ex in examples if fmt.has_gold(ex)]
            metrics[lang] = fmt.score(gold, preds, lang) if gold else {}
            for fld, by_value in slice_metrics(fmt, target, gold, preds, lang).items():
                for value, m in by_value.items():
                    slices.setdefault(fld, {}).setdefault(value, {})[lang] = m
            for kind in cfg.eval.perturb:  # the same language under seeded noise: a robustness curve
                for rate in cfg.eval.perturb_rates:
                    spec = Perturbation(kind, rate, cfg.eval.perturb_seed)
                    noisy = perturb_examples(examples, spec)
                    noisy_split = replace(splits[lang], split=f"{split}~{kind}{rate:g}s{spec.seed}", fingerprint=f"{splits[lang].fingerprint}~{kind}{rate:g}s{spec.seed}")
                    noisy_feats = features_for(fmt, noisy_split, noisy, tokenizer, labels, max_length, cfg.train.doc_stride, cfg.train.tokenize_words)
                    noisy_preds = predict(model, head_task, fmt, noisy, noisy_feats, labels, cfg.eval.batch_size, precision, pad_id, bar)
                    noisy_gold = [ex for ex in noisy if fmt.has_gold(ex)]
                    scored = fmt.score(noisy_gold, noisy_preds, lang) if noisy_gold else {}
                    slices.setdefault(f"{PERTURB_SLICE}{kind}", {}).setdefault(f"{rate:g}", {})[lang] = scored
            n_examples += len(examples)
            if cfg.eval.write_predictions:
                rel = f"{PREDICTIONS_DIR}/{lang}{fmt.prediction_suffix}"
                fmt.write_predictions(tmp / rel, examples, preds)
                predictions[lang] = rel
            bar.advance(langs_bar)
        seconds = time.perf_counter() - start
        return run.write(
            tmp,
            cfg,
            intermediate=intermediate,
            model=cfg.model.name,
            data_fingerprint={lang: s.fingerprint for lang, s in splits.items()},
            data_sources={lang: s.source for lang, s in splits.items()},
            parent=parent.as_dict(),
            eval_split=split,
            head=head_task,
            metrics=metrics,
            average=mean_metrics(metrics, [lang for lang in target.scored_languages if lang in metrics]),
            slices=slices,
            predictions=predictions,
            timings={"seconds": seconds, "examples_per_s": n_examples / seconds if seconds else None, "peak_memory_mb": peak_memory_mb(device)},
            notes=[f"split {split}; head {head_task}; precision {precision.name}", *label_map_notes(target, splits)],
        )
