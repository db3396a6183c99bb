"""Exponential moving average (mean teacher) and the sigmoid ramp-up of the semi-supervised
baselines (reference note ``ssl-baselines-and-data.md`` §3.1 UA-MT, items 6 and 8; §3.3 SSCO).

- ``ema_update`` is UA-MT's ``update_ema_variables``: ``alpha = min(1 - 1/(step+1), decay)``,
  ``ema <- alpha·ema + (1-alpha)·model`` on the **parameters only**. Buffers (BN running mean,
  variance, batch counter) are left as they are, as in the official code: the teacher runs in
  train mode (batch statistics), so its running buffers are never read during training.
- ``sigmoid_rampup`` is the Laine & Aila ramp ``exp(-5 (1 - clip(t/length, 0, 1))^2)`` used for
  the consistency weights; callers pass ``t`` as a fraction of the run (``step/total_steps``)
  and ``length`` as the ramp's fraction (the paper's "first 100 epochs" of 500 = 0.2).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def ema_copy(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` (parameters and buffers) whose parameters need no gradient."""
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


def ema_alpha(step: int, decay: float) -> float:
    """UA-MT's decay at 0-based ``step``: ``min(1 - 1/(step+1), decay)`` (0 at step 0: a copy)."""
    return min(1.0 - 1.0 / (step + 1), decay)


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, step: int, decay: float) -> None:
    """``ema <- alpha·ema + (1-alpha)·model`` on every parameter; buffers are not touched.

    Raises:
        ValueError: the two modules do not have the same number of parameters.
    """
    alpha = ema_alpha(step, decay)
    for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
        pe.mul_(alpha).add_(pm.detach(), alpha=1.0 - alpha)


def sigmoid_rampup(t: float, length: float) -> float:
    """``exp(-5 (1 - clip(t/length, 0, 1))^2)``; 1.0 when ``length`` is 0 (no ramp)."""
    if length == 0:
        return 1.0
    phase = 1.0 - min(max(t / length, 0.0), 1.0)
    return math.exp(-5.0 * phase * phase)
