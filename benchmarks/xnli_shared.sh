#!/usr/bin/env bash
# Zero-shot XNLI sw/ur test with the embedded model after training on English XNLI *dev* (leak-free:
# the test splits are translations of English test, which is never used). Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/xstilts transfer --target xnli --intermediate none --data-dir ../shared/data --languages sw,ur \
  --out runs/xnli-shared data.train_task=xnli 'data.train_split=dev[:2000]' 'data.dev_split=dev[2000:]' \
  train.lr=1e-4 train.epochs=2 train.batch_size=16 train.max_length=128 train.freeze_embeddings=true \
  train.eval_every=50 train.eval_examples=490 "$@"
