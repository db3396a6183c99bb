"""Which weights a run keeps (``train.select``, ``train.select_head``).

``Best`` keeps one copy of the network: the one whose validation Dice of one head was the
highest (``select: best``), or none, the weights after the last step (``select: last``).
``EachHead`` (``select_head: each``) keeps one ``Best`` per head, so that every head of a
dual-branch network is reported with the weights of its own best validation instead of those
of the evaluated head (for Decoupled, whose student peaks early, the teacher would otherwise be
measured far from trained).

Both are saved in the scratch checkpoint with ``dataclasses.asdict`` and restored with
``load``, so a resumed run keeps exactly what an uninterrupted one keeps.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import nn


@dataclasses.dataclass
class Best:
    """Which weights a run keeps (``train.select``). With a ``key`` (``val/dsc_<head>``):
    those of the validation with the highest score, of equal scores the first, a NaN never
    wins (``select: best``). Without (``select: last``): the weights after the last step.

    ``weights`` is a copy of the network's state at validation step ``step``.
    """

    key: str | None
    step: int = 0
    score: float = -math.inf
    weights: dict[str, torch.Tensor] | None = None

    def offer(self, rec: dict[str, Any], model: nn.Module) -> None:
        """Keep ``model``'s weights if ``rec`` (a logged record) holds a better score."""
        score = None if self.key is None else rec.get(self.key)
        if score is None or not score > self.score:
            return
        self.step, self.score = int(rec["step"]), float(score)
        self.weights = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def restore(self, model: nn.Module) -> None:
        """Put the kept weights back into ``model`` (nothing to do for ``last``)."""
        if self.weights is not None:
            model.load_state_dict(self.weights)

    def summary(self, steps: int) -> dict[str, Any]:
        """What ``train.json`` records of the selection, for a run of ``steps`` steps."""
        if self.key is None:
            return {"select": "last", "step": steps}
        return {"select": "best", "step": self.step, self.key: self.score}

    def others(self, model: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
        """Weights kept for heads other than the evaluated one: none (``model.pt`` has only
        the weights ``restore`` puts back)."""
        return {}

    def load(self, saved: dict[str, Any]) -> None:
        """Take the state ``dataclasses.asdict`` saved in a scratch checkpoint."""
        for field, value in saved.items():
            setattr(self, field, value)


@dataclasses.dataclass
class EachHead:
    """``select_head: each``: every head keeps the whole network's weights at its own best
    validation (one ``Best`` per head, keyed ``val/dsc_<head>``; a shared encoder makes a full
    copy per head necessary).

    ``evaluated`` is the head the run is used with (``heads.inference_head``): ``restore``
    puts its weights into the network, so ``model.pt``'s usual weights stay those of the
    evaluated head and everything that reads them is unchanged; ``others`` are the rest.
    """

    evaluated: str
    heads: dict[str, Best]

    def __post_init__(self) -> None:
        if self.evaluated not in self.heads:
            raise ValueError(f"evaluated head {self.evaluated!r} not in {sorted(self.heads)}")

    @classmethod
    def of(cls, evaluated: str, heads: tuple[str, ...]) -> EachHead:
        """A tracker of every head in ``heads``, ``evaluated`` among them."""
        return cls(evaluated, {h: Best(f"val/dsc_{h}") for h in heads})

    def offer(self, rec: dict[str, Any], model: nn.Module) -> None:
        """Offer ``rec`` to every head: each keeps a copy if its own score improved."""
        for best in self.heads.values():
            best.offer(rec, model)

    def restore(self, model: nn.Module) -> None:
        """Put the evaluated head's weights back into ``model``."""
        self.heads[self.evaluated].restore(model)

    def summary(self, steps: int) -> dict[str, Any]:
        """``train.json``'s record: the evaluated head's, as ``Best`` writes it (what readers
        of the default format find), plus the step and score of every head under ``heads``."""
        return self.heads[self.evaluated].summary(steps) | {
            "select_head": "each",
            "heads": {h: {"step": b.step, b.key: b.score} for h, b in self.heads.items()},
        }

    def others(self, model: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
        """head -> the weights it keeps, for every head but the evaluated one (``model.pt``'s
        ``head_weights``). Call it before ``restore``: a head whose score was never a number
        keeps ``model``'s current (last) weights, as ``Best`` does."""
        others = {h: b.weights for h, b in self.heads.items() if h != self.evaluated}
        if any(w is None for w in others.values()):
            last = {k: v.detach().clone() for k, v in model.state_dict().items()}
            others = {h: last if w is None else w for h, w in others.items()}
        return others

    def load(self, saved: dict[str, Any]) -> None:
        """Take the state ``dataclasses.asdict`` saved in a scratch checkpoint."""
        if set(saved["heads"]) != set(self.heads):
            raise ValueError(f"checkpoint selects heads {sorted(saved['heads'])}")
        self.evaluated = saved["evaluated"]
        for h, best in self.heads.items():
            best.load(saved["heads"][h])


Selection = Best | EachHead
