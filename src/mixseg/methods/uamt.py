"""UA-MT, uncertainty-aware mean teacher (Yu et al., MICCAI 2019): a semi-supervised baseline of
Table 3, tuned in Appendix B.1 (λc = 0.1, "Gaussian ramp-up during the first 100 epochs").

Recipe of the official code (``train_LA_meanteacher_certainty_unlabel.py``) as described in the
reference note ``ssl-baselines-and-data.md`` §3.1; one network (the student, evaluated) and its
EMA copy (the teacher, ``make_aux`` / ``after_step``, see ``ema.py``):

- "ce", "dice": the original supervised loss ``0.5·(CE + Dice)`` on the labelled rows, as two
  terms. The Dice is the shared ``losses.dice_loss`` (foreground classes, Σp + Σg in the
  denominator); the original V-Net Dice squares the probabilities (Σp² + Σg²).
- "cons": ``λc·r(t)·L_c`` on the unlabelled rows. The teacher predicts on
  ``x_u + clip(σ·N(0,1), ±c)`` under no_grad; ``T = passes`` more noisy passes give
  ``p̄ = mean_t softmax`` and the uncertainty ``U = -Σ_c p̄_c log(p̄_c + 1e-6)``; pixels with
  ``U < τ(t) = (0.75 + 0.25·r(t))·ln C`` keep ``(softmax(student) - softmax(teacher))²``, summed
  and divided by ``C·(number of kept pixels) + 1e-16`` (the original's "2" is C for its C = 2).

Choices (documented deviations):

- Ramps: ``r(t) = sigmoid_rampup(step/total_steps, rampup)`` for both λ and τ, the ramp length
  a fraction of the run (the paper's 100 of 500 epochs = 0.2). The original ramps λ over
  40 "epochs" of 150 iterations and τ over the whole run.
- The teacher stays in **train mode** for all its passes, as in the original (dropout on, BN
  with batch statistics). Its BN running buffers are therefore updated by those passes (with
  the teacher's own, noisy, activations) and never EMA-copied from the student, as in the
  original; they are not used during training.
- The T uncertainty passes are one forward of T noisy copies of ``x_u`` (the original: T/2
  forwards of two copies); only the composition of BN's batch statistics differs.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from mixseg.data.batch import Batch
from mixseg.losses import cross_entropy, dice_loss
from mixseg.methods.base import HyperParams, Method, StepContext
from mixseg.methods.ema import ema_copy, ema_update, sigmoid_rampup

UNCERTAINTY_EPS = 1e-6  # inside the log of the original's uncertainty
CONSISTENCY_EPS = 1e-16  # in the denominator of the original's masked mean


@dataclasses.dataclass(frozen=True)
class UAMTParams:
    """Section ``uamt`` of params.yaml.

    Attributes:
        ema_decay: upper bound of the EMA decay (original 0.99).
        passes: T, stochastic teacher passes for the uncertainty (original 8).
        noise_std: σ of the Gaussian input noise of the teacher (original 0.1).
        noise_clip: the noise is clipped to ±noise_clip (original 0.2).
        rampup: fraction of the run over which λc and the threshold ramp up.
    """

    ema_decay: float
    passes: int
    noise_std: float
    noise_clip: float
    rampup: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"uamt.ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.passes < 1:
            raise ValueError(f"uamt.passes must be >= 1, got {self.passes}")
        if self.noise_std < 0 or self.noise_clip < 0:
            raise ValueError("uamt.noise_std and uamt.noise_clip must be >= 0")
        if not 0.0 <= self.rampup <= 1.0:
            raise ValueError(f"uamt.rampup must be a fraction of the run, got {self.rampup}")


def noisy(x: torch.Tensor, std: float, clip: float) -> torch.Tensor:
    """``x + clip(std·N(0, 1), -clip, clip)``, the teacher's input perturbation."""
    return x + (torch.randn_like(x) * std).clamp(-clip, clip)


@torch.no_grad()
def teacher_predictions(
    teacher: nn.Module, x_u: torch.Tensor, p: UAMTParams
) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's target logits on one noisy copy of ``x_u`` and the uncertainty
    ``U = -Σ_c p̄_c log(p̄_c + 1e-6)`` (B, *spatial) of ``p.passes`` other noisy copies."""
    teacher.train()
    target = teacher(noisy(x_u, p.noise_std, p.noise_clip))[0].float()
    copies = x_u.repeat(p.passes, *([1] * (x_u.ndim - 1)))
    out = teacher(noisy(copies, p.noise_std, p.noise_clip))[0].float()
    mean = torch.softmax(out, dim=1).reshape(p.passes, *target.shape).mean(dim=0)
    uncertainty = -(mean * torch.log(mean + UNCERTAINTY_EPS)).sum(dim=1)
    return target, uncertainty


def masked_consistency(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    uncertainty: torch.Tensor,
    threshold: float,
) -> torch.Tensor:
    """Mean of ``(softmax(student) - softmax(teacher))²`` over the classes of the pixels whose
    uncertainty is below ``threshold`` (0 when none is)."""
    diff = (torch.softmax(student_logits.float(), 1) - torch.softmax(teacher_logits, 1)) ** 2
    mask = (uncertainty < threshold).unsqueeze(1).to(diff.dtype)
    return (mask * diff).sum() / (diff.shape[1] * mask.sum() + CONSISTENCY_EPS)


def _objective(
    logits: list[torch.Tensor], batch: Batch, hp: HyperParams, ctx: StepContext
) -> dict[str, torch.Tensor]:
    p: UAMTParams = hp.sections["uamt"]
    out = logits[0]
    full, unlabelled = batch.is_full, ~batch.is_full
    terms = {
        "ce": 0.5 * cross_entropy(out[full], batch.mask[full]),
        "dice": 0.5 * dice_loss(out[full], batch.mask[full]),
    }
    if not unlabelled.any():
        terms["cons"] = out.sum() * 0.0
        return terms
    ramp = sigmoid_rampup(ctx.step / ctx.total_steps, p.rampup)
    target, uncertainty = teacher_predictions(ctx.aux["ema"], ctx.x[unlabelled], p)
    threshold = (0.75 + 0.25 * ramp) * math.log(out.shape[1])
    consistency = masked_consistency(out[unlabelled], target, uncertainty, threshold)
    terms["cons"] = hp.lambda_c * ramp * consistency
    return terms


def _make_aux(model: nn.Module, hp: HyperParams) -> dict[str, nn.Module]:
    return {"ema": ema_copy(model)}


def _after_step(model: nn.Module, aux: dict[str, nn.Module], step: int, hp: HyperParams) -> None:
    ema_update(aux["ema"], model, step, hp.sections["uamt"].ema_decay)


UAMT = Method(
    name="uamt",
    n_decoders=1,
    full_pool="full",
    other_rows="none",
    reads=frozenset({"lambda_c", "uamt"}),
    objective=_objective,
    sections=(("uamt", UAMTParams),),
    make_aux=_make_aux,
    after_step=_after_step,
)
