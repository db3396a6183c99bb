"""Which weights a run keeps (``train.select``, ``train.select_head``).

``Best`` keeps one copy of the network: the one whose validation Dice of one head was the
highest (``select: best``), or none, the weights after the last step (``select: last``).
``EachHead`` keeps one ``Best`` per head of a dual-branch network, under either
``select_head``: the run's usual weights are the evaluated head's either way, and ``model.pt``
also holds every other head's own (``head_weights``, ``head_steps``). ``select_head`` decides
only what the run's evaluation uses (``own_weights``): ``evaluated``, the usual weights for
every head; ``each``, every head its own, so that it is reported at its own best validation
instead of the evaluated head's (for Decoupled, whose student peaks early, the teacher would
otherwise be measured far from trained). So a run of either rule can be evaluated under the
other without training again (``pipeline/evaluate.py``: the studies' ``decoupled-sheach``).

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
    those of the validation with the highest score, of equal scores the last (``ties``:
    ``train.select_ties``) or the first, a NaN never wins (``select: best``). Without
    (``select: last``): the weights after the last step.

    ``weights`` is a copy of the network's state at validation step ``step``.
    """

    key: str | None
    ties: str = "last"
    step: int = 0
    score: float = -math.inf
    weights: dict[str, torch.Tensor] | None = None

    def __post_init__(self) -> None:
        if self.ties not in ("last", "first"):
            raise ValueError(f"ties must be last or first, got {self.ties!r}")

    def offer(self, rec: dict[str, Any], model: nn.Module) -> None:
        """Keep ``model``'s weights if ``rec`` (a logged record) holds a better score, or an
        equal one under ``ties: last``."""
        score = None if self.key is None else rec.get(self.key)
        if score is None:
            return
        better = score >= self.score if self.ties == "last" else score > self.score
        if not better:  # NaN compares false either way
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

    def head_steps(self) -> dict[str, dict[str, Any]]:
        """The step and score of each head's own best validation: none (one head selected)."""
        return {}

    def load(self, saved: dict[str, Any]) -> None:
        """Take the state ``dataclasses.asdict`` saved in a scratch checkpoint."""
        for field, value in saved.items():
            setattr(self, field, value)


@dataclasses.dataclass
class EachHead:
    """Every head of a dual-branch network keeps the whole network's weights at its own best
    validation (one ``Best`` per head, keyed ``val/dsc_<head>``; a shared encoder makes a full
    copy per head necessary), whatever ``select_head`` the run evaluates with.

    ``evaluated`` is the head the run is used with (``heads.inference_head``): ``restore``
    puts its weights into the network, so ``model.pt``'s usual weights stay those of the
    evaluated head and everything that reads them is unchanged; ``others`` are the rest.

    Memory: two more copies of the network's state than ``Best`` (teacher and ensemble), in
    memory during training and in ``model.pt``: at the cpu preset 2.6 -> 7.6 MB per ACDC
    ``model.pt``; at paper scale (the 41 M-parameter dual UNet, 164 MB per float32 copy)
    about 330 MB more, against a training step's 5.4 GiB peak.
    """

    evaluated: str
    heads: dict[str, Best]

    def __post_init__(self) -> None:
        if self.evaluated not in self.heads:
            raise ValueError(f"evaluated head {self.evaluated!r} not in {sorted(self.heads)}")

    @classmethod
    def of(cls, evaluated: str, heads: tuple[str, ...], ties: str = "last") -> EachHead:
        """A tracker of every head in ``heads``, ``evaluated`` among them, ties as ``Best``."""
        return cls(evaluated, {h: Best(f"val/dsc_{h}", ties) for h in heads})

    def offer(self, rec: dict[str, Any], model: nn.Module) -> None:
        """Offer ``rec`` to every head: each keeps a copy if its own score improved."""
        for best in self.heads.values():
            best.offer(rec, model)

    def restore(self, model: nn.Module) -> None:
        """Put the evaluated head's weights back into ``model``."""
        self.heads[self.evaluated].restore(model)

    def summary(self, steps: int) -> dict[str, Any]:
        """The evaluated head's record, as ``Best`` writes it (``train.json``'s under
        ``select_head: evaluated``; ``selected_record`` adds ``head_steps`` under ``each``)."""
        return self.heads[self.evaluated].summary(steps)

    def head_steps(self) -> dict[str, dict[str, Any]]:
        """head -> the step and score of its own best validation (``model.pt``'s
        ``head_steps``, ``train.json``'s ``heads`` under ``select_head: each``)."""
        return {h: {"step": b.step, b.key: b.score} for h, b in self.heads.items()}

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
        """Take the state ``dataclasses.asdict`` saved in a scratch checkpoint.

        Raises:
            ValueError: the checkpoint selected other heads, or one head only (a ``Best``,
                written before every dual-branch run kept each head's weights).
        """
        if "heads" not in saved:
            raise ValueError(
                "the scratch checkpoint kept one head's weights only (written before every "
                "dual-branch run kept each head's): delete it to train the run again"
            )
        if set(saved["heads"]) != set(self.heads):
            raise ValueError(f"checkpoint selects heads {sorted(saved['heads'])}")
        self.evaluated = saved["evaluated"]
        for h, best in self.heads.items():
            best.load(saved["heads"][h])


Selection = Best | EachHead


def selected_record(
    select_head: str, selected: dict[str, Any], heads: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """``train.json``'s ``selected`` of a run evaluated under ``select_head``: ``selected``
    (the evaluated head's record, ``summary``) under ``evaluated`` or without per-head weights
    (``heads`` empty); under ``each``, plus ``select_head`` and every head's step and score
    (``heads``: ``head_steps``)."""
    if select_head == "evaluated" or not heads:
        return selected
    return selected | {"select_head": "each", "heads": heads}


def own_weights(
    state: dict[str, Any], select_head: str | None = None
) -> dict[str, dict[str, torch.Tensor]]:
    """head -> the weights a loaded ``model.pt`` (``state``) is evaluated with for that head,
    for the heads that do not use its usual weights: none under ``select_head: evaluated``,
    ``head_weights`` under ``each``.

    Args:
        select_head: the rule; None: the run's own (``config.train.select_head``, absent:
            ``evaluated``).

    Raises:
        ValueError: an unknown rule, or ``each`` for a dual-branch ``model.pt`` without
            ``head_weights`` (``select: last``, or written before every dual-branch run kept
            them), whose heads would silently share one set of weights.
    """
    rule = select_head or state["config"]["train"].get("select_head", "evaluated")
    if rule not in ("evaluated", "each"):
        raise ValueError(f"select_head must be evaluated or each, got {rule!r}")
    if rule == "evaluated":
        return {}
    dual = state["n_decoders"] > 1 and state.get("n_networks", 1) == 1
    if dual and "head_weights" not in state:
        raise ValueError(
            f"run {state['config'].get('run')!r} kept no weights per head (head_weights): it "
            "cannot be evaluated under select_head: each (select: last, or trained before "
            "every dual-branch run kept them)"
        )
    return state.get("head_weights", {})
