"""``tiny-random``: a 2-layer, 32-wide random BERT for smoke runs and tests, built offline in seconds.

Its byte-level BPE tokenizer is trained on the mini benchmark's texts, so every script tokenises.
It learns nothing useful: it exists to exercise the whole pipeline quickly.
"""

from __future__ import annotations

import json
from pathlib import Path

from xstilts.paths import atomic_dir, cache_dir

TINY_NAME = "tiny-random"
VERSION = 1


def _corpus() -> list[str]:
    root = Path(__file__).resolve().parents[1] / "mini" / "data"
    texts: list[str] = []
    for path in sorted(root.rglob("*.jsonl"))[:40]:
        for line in path.read_text(encoding="utf-8").splitlines()[:200]:
            row = json.loads(line)
            texts += [v for v in row.values() if isinstance(v, str) and len(v) > 3]
            texts += [" ".join(v) for v in row.values() if isinstance(v, list) and v and isinstance(v[0], str)]
    return texts or ["xstilts tiny model"]


def build_tiny_model(folder: Path, seed: int = 0) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.BpeTrainer(
        vocab_size=2000, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(_corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        mask_token="<mask>", cls_token="<s>", sep_token="</s>", model_max_length=512, add_prefix_space=True,
    )
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=520, pad_token_id=1, type_vocab_size=1,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(folder, safe_serialization=True)


def ensure_tiny_model() -> Path:
    final = cache_dir() / "models" / f"tiny-random-v{VERSION}"
    if (final / "model.safetensors").is_file():
        return final
    with atomic_dir(final) as tmp:
        build_tiny_model(tmp)
    return final
