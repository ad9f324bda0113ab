"""One shared encoder with one head per task: the unit that is trained, saved and transferred.

Encoder and heads are saved separately as safetensors, so a target run can take the encoder of an
intermediate run and leave its head behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from xstilts.formats.base import get_format
from xstilts.paths import atomic_write_json, safe_name
from xstilts.runs import ENCODER_DIR, HEADS_DIR, verify_head


class MultiTaskModel(nn.Module):
    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict()
        self.head_info: dict[str, dict[str, Any]] = {}

    @property
    def hidden_size(self) -> int:
        return int(self.encoder.config.hidden_size)

    def add_head(self, task: str, fmt: str, labels: list[str], dropout: float) -> None:
        self.heads[task] = get_format(fmt).head(self.hidden_size, len(labels), dropout)
        self.head_info[task] = {"format": fmt, "labels": list(labels), "dropout": dropout}

    def forward(self, task: str, batch: dict[str, torch.Tensor]) -> Any:
        kwargs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        if "token_type_ids" in batch:
            kwargs["token_type_ids"] = batch["token_type_ids"]
        hidden = self.encoder(**kwargs).last_hidden_state
        return self.heads[task](hidden, batch)

    def save(self, out_dir: Path, tokenizer: Any) -> None:
        """Encoder as a Hugging Face folder; each head as ``heads/<task>.safetensors`` + JSON."""
        out_dir = Path(out_dir)
        self.encoder.save_pretrained(out_dir / ENCODER_DIR, safe_serialization=True)
        tokenizer.save_pretrained(out_dir / ENCODER_DIR)
        (out_dir / HEADS_DIR).mkdir(parents=True, exist_ok=True)
        for task, head in self.heads.items():
            state = {k: v.detach().contiguous().cpu() for k, v in head.state_dict().items()}
            save_file(state, str(out_dir / HEADS_DIR / f"{task}.safetensors"))
            atomic_write_json(out_dir / HEADS_DIR / f"{task}.json", self.head_info[task])

    def load_head(self, run_dir: Path, task: str) -> None:
        """A saved head, its files first checked against the sha256 the run recorded (safetensors: no pickle)."""
        folder = Path(run_dir) / HEADS_DIR
        name = safe_name(task, "head name")
        verify_head(run_dir, name)
        info = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        self.add_head(task, info["format"], info["labels"], info.get("dropout", 0.1))
        self.heads[task].load_state_dict(load_file(str(folder / f"{name}.safetensors")))
