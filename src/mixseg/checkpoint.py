"""What a run saves: the resumable scratch checkpoint and the final ``model.pt``.

Scratch checkpoint: every ``checkpoint_every`` steps the full state (weights of the network and
of the method's extra modules, optimiser, scheduler, gradient scaler, step, torch RNG, metric
history) is written atomically to a file *outside* the stage's outputs, because DVC deletes a
stage's outputs before re-running it. It carries the hash of the run's resolved configuration:
a re-run with the same configuration continues from it, any other configuration ignores it.

``model.pt`` (a DVC output) holds the weights, the resolved configuration and what is needed to
rebuild the network; it loads with ``torch.load(weights_only=True)`` (``evaluate.load_model``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from mixseg import atomic
from mixseg.methods.base import Method

log = logging.getLogger(__name__)


class Resumable(Protocol):
    """The training state a scratch checkpoint saves and restores (``train.Trainer``)."""

    model: nn.Module
    aux: dict[str, nn.Module]
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    method: Method


def config_hash(resolved: dict[str, Any]) -> str:
    """A short hash of a resolved configuration (key order does not matter)."""
    return hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()[:16]


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


@dataclasses.dataclass(frozen=True)
class Scratch:
    """The scratch checkpoint file of one run and the configuration hash it must match."""

    path: Path
    config_hash: str

    def save(self, state: Resumable, step: int, history: list[dict[str, Any]], best: Best) -> None:
        """Write the state after ``step`` steps, with the weights ``best`` keeps so far
        (atomically: a crash keeps the previous file)."""
        atomic.torch_save(
            {
                "config_hash": self.config_hash,
                "model": state.model.state_dict(),
                "aux": {k: m.state_dict() for k, m in state.aux.items()},
                "optimizer": state.opt.state_dict(),
                "scheduler": state.sched.state_dict(),
                "scaler": state.scaler.state_dict(),
                "rng": torch.get_rng_state(),
                "step": step,
                "history": history,
                "best": dataclasses.asdict(best),
            },
            self.path,
        )

    def resume(
        self, state: Resumable, device: torch.device, best: Best
    ) -> tuple[int, list[dict[str, Any]]]:
        """Restore ``state``, ``best`` and the torch RNG from the checkpoint if there
        is one of this configuration. Returns (steps already done, their metric history):
        (0, []) otherwise."""
        if not self.path.exists():
            return 0, []
        saved = torch.load(self.path, map_location=device, weights_only=False)
        if saved["config_hash"] != self.config_hash:
            log.warning("ignoring checkpoint %s: configuration changed", self.path)
            return 0, []
        state.model.load_state_dict(saved["model"])
        for k, m in state.aux.items():
            m.load_state_dict(saved["aux"][k])
        state.opt.load_state_dict(saved["optimizer"])
        state.sched.load_state_dict(saved["scheduler"])
        state.scaler.load_state_dict(saved["scaler"])
        torch.set_rng_state(saved["rng"])
        if saved.get("best") is not None:
            for field, value in saved["best"].items():
                setattr(best, field, value)
        log.info("resuming from %s at step %d", self.path, saved["step"])
        return saved["step"], saved["history"]


def save_model(path: Path, state: Resumable, resolved: dict[str, Any], *, dims: int) -> None:
    """The final ``model.pt``: weights, the resolved configuration and the network's shape
    (decoders per network and networks, from ``state.method``)."""
    atomic.torch_save(
        {
            "model": state.model.state_dict(),
            "config": resolved,
            "n_decoders": state.method.n_decoders,
            "n_networks": state.method.n_networks,
            "dims": dims,
        },
        path,
    )
