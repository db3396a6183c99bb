"""What a method is: data, run by the one training loop (``train.py``).

A ``Method`` names its network (1 = single branch, 2 = teacher/student decoders), which images
its batches hold, which of the paper's Eq. 5 hyper-parameters it reads, and an objective that
returns **named, already weighted** loss terms; the loop sums them, back-propagates and logs
each. Objectives select images by ``Batch.is_full``, never by slicing magic indices.

Axis order: images (B, 1, H, W) or (B, 1, D, H, W); label maps (B, H, W) / (B, D, H, W).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

import torch

from mixseg.losses import cross_entropy, partial_cross_entropy

IGNORE = 255  # label value of pixels without supervision (ignore_index of the losses)
TEACHER, STUDENT = 0, 1

# The top-level keys of params.yaml that hold Eq. 5's hyper-parameters (paper names).
HYPER_KEYS = ("lambda_w", "lambda_kd", "lambda_ent", "divergence", "kd", "entropy_on")


@dataclasses.dataclass(frozen=True)
class KDParams:
    """How Eq. 3 is computed (``kd`` in params.yaml); see ``losses.distillation``."""

    smoothing: bool
    temperature: float
    direction: Literal["teacher_student", "student_teacher"]
    detach_teacher: bool


@dataclasses.dataclass(frozen=True)
class HyperParams:
    """Resolved Eq. 5 values of one run (top-level defaults, then the run's overrides)."""

    lambda_w: float
    lambda_kd: float
    lambda_ent: float
    divergence: str  # kl | bhattacharyya | alpha<value>, e.g. alpha2
    kd: KDParams
    entropy_on: Literal["partial", "all"]  # Eq. 4 on Dw only (paper) or on every student output

    def divergence_kind(self) -> tuple[str, float | None]:
        """Split ``divergence`` into (kind, alpha): ``alpha2`` -> ("alpha", 2.0)."""
        return parse_divergence(self.divergence)


def parse_divergence(spec: str) -> tuple[str, float | None]:
    """``kl`` | ``bhattacharyya`` | ``alpha<value>`` -> (kind, alpha).

    Raises:
        ValueError: anything else.
    """
    if spec in ("kl", "bhattacharyya"):
        return spec, None
    if spec.startswith("alpha"):
        try:
            alpha = float(spec[len("alpha") :])
        except ValueError:
            alpha = None
        if alpha is not None and alpha > 0:
            return "alpha", alpha
    raise ValueError(f"divergence must be kl, bhattacharyya or alpha<value> (e.g. alpha2), got {spec!r}")


@dataclasses.dataclass
class Batch:
    """One training batch; the first rows are the fully labelled images (``is_full``).

    Attributes:
        image: float (B, 1, *spatial).
        mask: int64 (B, *spatial) full ground truth, ``IGNORE`` on rows that have none.
        weak: int64 (B, *spatial) partial labels: the class on labelled pixels, ``IGNORE`` elsewhere.
        is_full: bool (B,), True for fully labelled rows.
    """

    image: torch.Tensor
    mask: torch.Tensor
    weak: torch.Tensor
    is_full: torch.Tensor

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in dataclasses.astuple(self)))


Objective = Callable[[list[torch.Tensor], Batch, HyperParams], dict[str, torch.Tensor]]


@dataclasses.dataclass(frozen=True)
class Method:
    """A training method.

    Attributes:
        name: identifier used in params.yaml, stage names, run directories and tables.
        n_decoders: 1 (single branch) or 2 (teacher = decoder 0, student = decoder 1).
        full_pool: which patients give fully labelled images: ``full`` (the setting's N fully
            labelled patients) or ``full+partial`` (all the setting's patients, with their
            ground truth: the upper bounds).
        weak_batches: whether batches also hold partially labelled images.
        reads: the top-level hyper-parameters (``HYPER_KEYS``) the objective reads.
        objective: (logits per decoder, batch, hyper-parameters) -> named weighted terms.
    """

    name: str
    n_decoders: int
    full_pool: Literal["full", "full+partial"]
    weak_batches: bool
    reads: frozenset[str]
    objective: Objective

    def heads(self) -> tuple[str, ...]:
        """Names of the predictions evaluated for this method."""
        return ("teacher",) if self.n_decoders == 1 else ("teacher", "student", "ensemble")


def supervised_terms(
    logits: torch.Tensor, batch: Batch, weight_w: float | None
) -> dict[str, torch.Tensor]:
    """CE on the fully labelled rows (Eq. 1) and, if ``weight_w`` is given, weighted partial CE
    on the partially labelled rows (Eq. 2)."""
    terms = {"ce": cross_entropy(logits[batch.is_full], batch.mask[batch.is_full])}
    if weight_w is not None:
        weak = ~batch.is_full
        terms["pce"] = weight_w * partial_cross_entropy(logits[weak], batch.weak[weak], IGNORE)
    return terms
