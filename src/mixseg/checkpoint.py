"""What a run saves: the resumable scratch checkpoint and the final ``model.pt``.

Scratch checkpoint: every ``checkpoint_every`` steps the full state (weights of the network and
of the method's extra modules, optimiser, scheduler, gradient scaler, step, torch RNG, metric
history, the weights ``selection`` keeps so far) is written atomically to a file *outside* the
stage's outputs, because DVC deletes a stage's outputs before re-running it. It carries the
hash of the run's resolved configuration: a re-run with the same configuration continues from
it, any other configuration ignores it.

``model.pt`` (a DVC output) holds the weights, the resolved configuration and what is needed to
rebuild the network, and for a dual-branch run with ``select: best`` the weights kept for each
other head and every head's selected step (``selection.EachHead``); it loads with
``torch.load(weights_only=True)`` (``evaluate.load_model``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from mixseg import atomic
from mixseg.methods.base import Method
from mixseg.selection import Selection

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


@dataclasses.dataclass(frozen=True)
class Scratch:
    """The scratch checkpoint file of one run and the configuration hash it must match."""

    path: Path
    config_hash: str

    def save(
        self, state: Resumable, step: int, history: list[dict[str, Any]], best: Selection
    ) -> None:
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
        self, state: Resumable, device: torch.device, best: Selection
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
            best.load(saved["best"])
        log.info("resuming from %s at step %d", self.path, saved["step"])
        return saved["step"], saved["history"]


def save_model(
    path: Path,
    state: Resumable,
    resolved: dict[str, Any],
    *,
    dims: int,
    head_weights: dict[str, dict[str, torch.Tensor]] | None = None,
    head_steps: dict[str, dict[str, Any]] | None = None,
) -> None:
    """The final ``model.pt``: weights, the resolved configuration and the network's shape
    (decoders per network and networks, from ``state.method``).

    ``head_weights`` (a dual-branch run with ``select: best``, ``selection.EachHead``): head
    -> the whole network's weights kept for that head, for the heads other than the evaluated
    one, whose weights are ``model`` as always; ``head_steps``: head -> the step and score of
    its own best validation, every head. ``evaluate.load_head_models`` uses ``head_weights``
    under ``select_head: each`` only (``selection.own_weights``). Without them (or empty) the
    file holds exactly the keys it always had."""
    saved: dict[str, Any] = {
        "model": state.model.state_dict(),
        "config": resolved,
        "n_decoders": state.method.n_decoders,
        "n_networks": state.method.n_networks,
        "dims": dims,
    }
    if head_weights:
        saved["head_weights"] = head_weights
    if head_steps:
        saved["head_steps"] = head_steps
    atomic.torch_save(saved, path)
