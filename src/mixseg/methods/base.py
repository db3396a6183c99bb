"""What a method is: data, run by the one training loop (``train.py``).

A ``Method`` names its network (1 = single branch, 2 = teacher/student decoders, or K separate
networks), which images its batches hold, which of the paper's hyper-parameters it reads, and an
objective that returns **named, already weighted** loss terms; the loop sums them,
back-propagates and logs each. Objectives select images by ``Batch.is_full``, never by slicing
magic indices.

Optional hooks for methods with extra networks (the semi-supervised baselines), all run by the
same loop: ``make_aux`` builds extra modules (an EMA teacher, projection heads); the trainable
ones are optimised with the network and all are checkpointed; ``after_step`` runs after every
optimiser step (an EMA update); ``own_forward`` lets the objective run the network itself
(``StepContext.model``) when it needs more than the logits of the batch.

Axis order: images (B, 1, H, W) or (B, 1, D, H, W); label maps (B, H, W) / (B, D, H, W).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import nn

from mixseg import heads
from mixseg.data.batch import IGNORE, Batch
from mixseg.losses import cross_entropy, partial_cross_entropy

# Index of each branch in the logits list (a dual model's decoders, see ``heads``).
TEACHER, STUDENT = heads.OUTPUTS[heads.TEACHER][0], heads.OUTPUTS[heads.STUDENT][0]

# Top-level weights of params.yaml (paper names): Eq. 5's, then the semi-supervised baselines'
# (UA-MT's consistency λc; GLMI's λglobalMI, λlocalMI, λcons; SSCO's λ1 and λ2).
WEIGHT_KEYS = (
    "lambda_w",
    "lambda_kd",
    "lambda_ent",
    "lambda_c",
    "lambda_gmi",
    "lambda_lmi",
    "lambda_cons",
    "lambda_sp",
    "lambda_sc",
)
# Every top-level key a method may read: the weights, Eq. 3's options and the method sections.
HYPER_KEYS = (
    *WEIGHT_KEYS,
    "divergence",
    "kd",
    "entropy_on",
    "mixed_forward",
    "idle_decoders",
    "upper_batch",
    "loss_convention",
    "uamt",
    "glmi",
    "ssco",
)
# How the loop's forward pass treats a batch that mixes fully labelled rows with other rows
# (``train.forward_rows``): ``joint``, one pass (the reference code), or ``split``, one pass per
# group so that each group has its own BatchNorm batch statistics.
MIXED_FORWARD = ("joint", "split")
# What ``split`` does with a decoder that no loss reads on a row group (``Method.full_heads``,
# ``other_heads``): ``run`` it without autograd (its BatchNorm running statistics then average
# both groups, dropout draws as with every decoder run), or ``skip`` it (its running statistics
# come from the rows it learns from only; README "Ambiguities").
IDLE_DECODERS = ("run", "skip")
# Fully labelled rows per step of the Upper bound (``train_data.full_rows``): ``mixed``, the
# mixed methods' batch with every row fully labelled (``batch_full + batch_weak``), or ``full``,
# ``batch_full`` rows as the Lower bound.
UPPER_BATCH = ("mixed", "full")
# How Eq. 3 and Eq. 4 are computed (``loss_convention``): ``paper``, as written, with the
# ``kd`` and ``entropy_on`` keys; or ``reference``, as the reference code (README
# "Ambiguities"): KL(student || teacher) of the T = 2 "softmax over the softmax", teacher not
# detached, scaled by alpha T^2 (alpha = 0.5) and averaged over the classes as well as the
# pixels (``nn.KLDivLoss`` with reduction "mean"); the entropy averaged over the classes as
# well, on every student output. ``reference`` replaces ``kd`` and ``entropy_on``.
LOSS_CONVENTIONS = ("paper", "reference")
REFERENCE_ALPHA = 0.5


@dataclasses.dataclass(frozen=True)
class KDParams:
    """How Eq. 3 is computed (``kd`` in params.yaml); see ``losses.distillation``."""

    smoothing: bool
    temperature: float
    direction: Literal["teacher_student", "student_teacher"]
    detach_teacher: bool


REFERENCE_KD = KDParams(
    smoothing=True, temperature=2.0, direction="student_teacher", detach_teacher=False
)


@dataclasses.dataclass(frozen=True)
class HyperParams:
    """Resolved hyper-parameters of one run (top-level defaults, then the run's overrides).

    A value the method does not read is ``None`` (``runs.resolve_hyper``), so an objective that
    reads an undeclared value fails instead of silently depending on it.
    """

    lambda_w: float | None = None
    lambda_kd: float | None = None
    lambda_ent: float | None = None
    divergence: str | None = None  # kl | bhattacharyya | alpha<value>, e.g. alpha2
    kd: KDParams | None = None
    entropy_on: Literal["partial", "all"] | None = None  # Eq. 4 on Dw only (paper) or on all
    mixed_forward: Literal["joint", "split"] | None = None  # one pass or one per row group
    idle_decoders: Literal["run", "skip"] | None = None  # split: decoders no loss reads there
    upper_batch: Literal["mixed", "full"] | None = None  # Upper bound: full rows per step
    loss_convention: Literal["paper", "reference"] | None = None  # Eq. 3/4 as written or as code
    lambda_c: float | None = None  # UA-MT consistency weight
    lambda_gmi: float | None = None  # GLMI global mutual information
    lambda_lmi: float | None = None  # GLMI local mutual information
    lambda_cons: float | None = None  # GLMI transformation consistency
    lambda_sp: float | None = None  # SSCO self-paced co-training (λ1)
    lambda_sc: float | None = None  # SSCO self-consistency (λ2)
    # Method sections (``uamt``, ``glmi``, ``ssco``): the dataclass named in Method.sections.
    sections: dict[str, Any] = dataclasses.field(default_factory=dict)

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
    raise ValueError(
        f"divergence must be kl, bhattacharyya or alpha<value> (e.g. alpha2), got {spec!r}"
    )


@dataclasses.dataclass
class StepContext:
    """What an objective may need beyond the logits: where training is, and the networks.

    Attributes:
        step: 0-based index of this optimiser step.
        total_steps: steps of the whole run (ramp-ups are fractions of it).
        model: the network being trained (train mode).
        aux: the method's extra modules (``Method.make_aux``), e.g. ``{"ema": teacher}``.
        x: the batch's images as given to the network (channels-last on the device).
    """

    step: int
    total_steps: int
    model: nn.Module
    aux: dict[str, nn.Module]
    x: torch.Tensor


Objective = Callable[[list[torch.Tensor], Batch, HyperParams, StepContext], dict[str, torch.Tensor]]
AuxFactory = Callable[[nn.Module, HyperParams], dict[str, nn.Module]]
AfterStep = Callable[[nn.Module, dict[str, nn.Module], int, HyperParams], None]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Method:
    """A training method; built with keywords only, so a method file reads without this one.

    Attributes:
        name: identifier used in params.yaml, stage names, run directories and tables.
        n_decoders: 1 (single branch) or 2 (teacher = decoder 0, student = decoder 1).
        full_pool: which patients give fully labelled images: ``full`` (the setting's N fully
            labelled patients) or ``full+partial`` (all the setting's patients, with their
            ground truth: the upper bounds).
        other_rows: what the rows after the fully labelled ones carry, from the setting's other
            patients: ``partial`` labels (mixed supervision), ``none`` (semi-supervised
            baselines: the images only, ``batch_unlabeled`` per batch), ``pseudo`` masks of a
            trained run (proposals, self-training), or None: batches hold fully labelled rows
            only.
        reads: the top-level hyper-parameters (``HYPER_KEYS``) the objective reads.
        objective: (logits per decoder, batch, hyper-parameters, context) -> named weighted
            terms. With ``own_forward`` the logits list is empty.
        n_networks: 1, or K separate networks (co-training); their outputs are the K "decoders".
        sections: method sections of params.yaml read into ``HyperParams.sections``
            (name -> dataclass), e.g. ``{"uamt": UAMTParams}``.
        make_aux, after_step, own_forward: the optional hooks of the module docstring.
        full_heads, other_heads: the decoders whose logits the objective reads on the fully
            labelled rows and on the rows after them (None: all); with ``mixed_forward:
            split`` the others run on those rows without autograd, or not at all with
            ``idle_decoders: skip`` (``train.forward_rows``).
    """

    name: str
    n_decoders: int
    full_pool: Literal["full", "full+partial"]
    other_rows: Literal["partial", "none", "pseudo"] | None
    reads: frozenset[str]
    objective: Objective
    n_networks: int = 1
    sections: tuple[tuple[str, type], ...] = ()
    make_aux: AuxFactory | None = None
    after_step: AfterStep | None = None
    own_forward: bool = False
    full_heads: tuple[int, ...] | None = None
    other_heads: tuple[int, ...] | None = None

    @property
    def params_read(self) -> frozenset[str]:
        """Top-level keys a run of this method depends on: ``reads``, plus ``mixed_forward``
        when its batches mix row groups and the loop runs the forward pass (an ``own_forward``
        objective runs the network itself, in one pass), and ``idle_decoders`` when some decoder's
        logits are not read on a row group (``full_heads``, ``other_heads``)."""
        if self.other_rows is None or self.own_forward:
            return self.reads
        if self.full_heads is None and self.other_heads is None:
            return self.reads | {"mixed_forward"}
        return self.reads | {"mixed_forward", "idle_decoders"}

    def heads(self) -> tuple[str, ...]:
        """Names of the predictions evaluated for this method."""
        return heads.heads_of(self.outputs())

    def outputs(self) -> int:
        """Predictions of the network: decoders of one network, or one per network."""
        return self.n_decoders * self.n_networks


def supervised_terms(
    logits: torch.Tensor, batch: Batch, weight_w: float | None
) -> dict[str, torch.Tensor]:
    """CE on the fully labelled rows (Eq. 1) and, if ``weight_w`` is given, weighted partial CE
    on the partially labelled rows (Eq. 2)."""
    terms = {"ce": cross_entropy(logits[batch.is_full], batch.mask[batch.is_full])}
    if weight_w is not None:
        terms["pce"] = partial_term(logits, batch, weight_w)
    return terms


def partial_term(logits: torch.Tensor, batch: Batch, weight_w: float) -> torch.Tensor:
    """Weighted partial CE on the partially labelled rows (Eq. 2) alone."""
    weak = ~batch.is_full
    return weight_w * partial_cross_entropy(logits[weak], batch.weak[weak], IGNORE)
