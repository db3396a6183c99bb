"""K separate networks trained together (co-training, SSCO): one output per network.

``CoNets`` looks like a multi-decoder model to the training loop and to inference: its
``forward(x, heads)`` returns one logits tensor per requested network and ``n_decoders`` is K,
so the heads ``teacher`` (network 0), ``student`` (network 1) and ``ensemble`` (their mean) work
unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


class CoNets(nn.Module):
    """Wrap single-output networks; output k is network k's only decoder."""

    def __init__(self, nets: list[nn.Module]):
        super().__init__()
        if len(nets) < 2 or any(getattr(n, "n_decoders", 1) != 1 for n in nets):
            raise ValueError("CoNets needs at least two single-decoder networks")
        self.nets = nn.ModuleList(nets)
        self.n_decoders = len(nets)

    def forward(
        self, x: torch.Tensor, heads: list[int] | tuple[int, ...] | None = None
    ) -> list[torch.Tensor]:
        idx = range(self.n_decoders) if heads is None else heads
        return [self.nets[i](x)[0] for i in idx]
