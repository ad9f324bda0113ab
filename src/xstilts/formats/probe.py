"""The small types a format's transferability probe speaks in (:meth:`Format.probe_units`).

``xstilts rank`` scores a frozen encoder by how well its last hidden layer separates the labels of a
task's English training *units*. What one unit is (an example, a word, a choice, a context token)
depends on the format, so each format says it; these are the shared words they say it in. They sit
here, below :mod:`xstilts.formats.base`, because formats cannot import the evaluation code that runs
the probe (:mod:`xstilts.evaluate.frozen_features`).
"""

from __future__ import annotations

from typing import Literal

import torch

from xstilts.paths import InputError

#: how a sentence-level unit reads the hidden states: the first token's (what a head on it reads) or
#: their mean over the attention mask
Pooling = Literal["first", "mean"]
#: (features ``(n, hidden)``, labels ``(n,)`` as class indices) of the labelled units of one batch
ProbeUnits = tuple[torch.Tensor, torch.Tensor]


class NoProbe(InputError):
    """A task whose format has no labelled English units to probe (retrieval): bad input, exit 2."""


def sentence_vectors(hidden: torch.Tensor, mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """One vector per row: the first token's state, or the mean over the attention mask with ``"mean"``.

    The mean counts special tokens, as :func:`xstilts.models.pooling.pool` does (and the same
    arithmetic, so a probe's features do not depend on which of the two computed them).
    """
    if pooling == "first":
        return hidden[:, 0]
    m = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * m).sum(-2) / m.sum(-2).clamp(min=1.0)
