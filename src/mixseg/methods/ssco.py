"""SSCO, self-paced and self-consistent co-training (Wang et al., MedIA 2021): a semi-supervised
baseline of Table 3, with the original weights λ1 = 0.5, λ2 = 4 (Appendix B.3, Table B.6) and
the paper's UNet instead of ENet.

**Reconstruction, unverified against the SSCO paper**: no code is public; this follows the recipe
reconstructed in the reference note ``ssl-baselines-and-data.md`` §3.3. K = ``Method.n_networks``
= 2 co-trained networks (the loop's ``CoNets``: ``logits[k]`` is network k's output), each with
an EMA copy (``make_aux`` -> ``{"ema0", "ema1"}``, updated by ``after_step``, see ``ema.py``).
Terms, with ``r(t) = sigmoid_rampup(step/total_steps, rampup)`` (UA-MT's ramp, an assumption):

- "ce": Σ_k CE(f_k(x_l), y_l) on the labelled rows.
- "sp": ``λ1·r(t)·mean_i w_i·H(p̄_i)`` over the unlabelled pixels i, p̄ = (1/K)Σ_k p_k. This is
  the self-paced generalised Jensen-Shannon co-training loss
  ``JSD_i = H(p̄_i) - (1/K)Σ_k H(p_k,i)`` plus the entropy regulariser ``β·(1/K)Σ_k H(p_k,i)``
  with β = 1, which makes the bracket H(p̄_i). The pixel weights come from the closed-form
  self-paced solution on the detached JSD with age γ(t): ``hard`` ``w = 1[JSD < γ]``,
  ``soft`` ``w = max(0, 1 - JSD/γ)``; γ grows linearly from ``gamma0`` to ``gamma1`` over the
  run (JSD ≤ ln K, so ``gamma1 = ln 2`` admits almost every pixel at the end for K = 2). The
  mean is over all unlabelled pixels, not over the admitted ones.
- "sc": ``λ2·r(t)·Σ_k MSE(p_k, softmax(ema_k(x_u)))``, the self-consistency ("self-ensembling")
  loss, MSE averaged over classes and pixels; the EMA copies run under no_grad in train mode
  (dropout on, batch statistics, as UA-MT's teacher), without input noise.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from mixseg.data.batch import Batch
from mixseg.losses import EPS, cross_entropy
from mixseg.methods.base import HyperParams, Method, StepContext
from mixseg.methods.ema import ema_copy, ema_update, sigmoid_rampup


@dataclasses.dataclass(frozen=True)
class SSCOParams:
    """Section ``ssco`` of params.yaml.

    Attributes:
        gamma0, gamma1: self-paced age γ (nats) at the start and at the end of the run.
        weighting: ``soft`` (linear) or ``hard`` (binary) self-paced pixel weights.
        ema_decay: upper bound of the EMA decay of each network's copy.
        rampup: fraction of the run over which λ1 and λ2 ramp up.
    """

    gamma0: float
    gamma1: float
    weighting: Literal["soft", "hard"]
    ema_decay: float
    rampup: float

    def __post_init__(self) -> None:
        if not 0.0 < self.gamma0 <= self.gamma1:
            raise ValueError(f"ssco needs 0 < gamma0 <= gamma1, got {self.gamma0}, {self.gamma1}")
        if self.weighting not in ("soft", "hard"):
            raise ValueError(f"ssco.weighting must be soft or hard, got {self.weighting!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ssco.ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0.0 <= self.rampup <= 1.0:
            raise ValueError(f"ssco.rampup must be a fraction of the run, got {self.rampup}")


def entropy_map(probs: torch.Tensor) -> torch.Tensor:
    """Per-pixel Shannon entropy -Σ_c p_c log p_c (nats) of probabilities (B, C, *spatial)."""
    return -(probs * torch.log(probs.clamp_min(EPS))).sum(dim=1)


def generalized_jsd(probs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(JSD, H(p̄)) per pixel of K distributions: ``JSD = H(p̄) - (1/K)Σ_k H(p_k)``."""
    h_mixture = entropy_map(torch.stack(probs).mean(dim=0))
    mean_entropy = torch.stack([entropy_map(p) for p in probs]).mean(dim=0)
    return h_mixture - mean_entropy, h_mixture


def self_paced_weights(
    jsd: torch.Tensor, gamma: float, weighting: Literal["soft", "hard"]
) -> torch.Tensor:
    """Detached closed-form self-paced weights: hard ``1[jsd < γ]``, soft ``max(0, 1 - jsd/γ)``."""
    jsd = jsd.detach()
    if weighting == "hard":
        return (jsd < gamma).to(jsd.dtype)
    return (1.0 - jsd / gamma).clamp(0.0, 1.0)


def age(fraction: float, p: SSCOParams) -> float:
    """γ at ``fraction`` of the run: linear from ``gamma0`` to ``gamma1``."""
    return p.gamma0 + (p.gamma1 - p.gamma0) * min(max(fraction, 0.0), 1.0)


def _objective(
    logits: list[torch.Tensor], batch: Batch, hp: HyperParams, ctx: StepContext
) -> dict[str, torch.Tensor]:
    p: SSCOParams = hp.sections["ssco"]
    full, unlabelled = batch.is_full, ~batch.is_full
    terms = {"ce": sum(cross_entropy(lg[full], batch.mask[full]) for lg in logits)}
    if not unlabelled.any():
        zero = sum(lg.sum() for lg in logits) * 0.0
        return {**terms, "sp": zero, "sc": zero}
    fraction = ctx.step / ctx.total_steps
    ramp = sigmoid_rampup(fraction, p.rampup)
    probs = [torch.softmax(lg[unlabelled].float(), dim=1) for lg in logits]
    jsd, h_mixture = generalized_jsd(probs)
    weights = self_paced_weights(jsd, age(fraction, p), p.weighting)
    terms["sp"] = hp.lambda_sp * ramp * (weights * h_mixture).mean()
    targets = _ema_probs(ctx.aux, ctx.x[unlabelled], len(logits))
    consistency = sum(F.mse_loss(q, t) for q, t in zip(probs, targets, strict=True))
    terms["sc"] = hp.lambda_sc * ramp * consistency
    return terms


@torch.no_grad()
def _ema_probs(aux: dict[str, nn.Module], x_u: torch.Tensor, k: int) -> list[torch.Tensor]:
    targets = []
    for i in range(k):
        ema = aux[f"ema{i}"]
        ema.train()
        targets.append(torch.softmax(ema(x_u)[0].float(), dim=1))
    return targets


def _make_aux(model: nn.Module, hp: HyperParams) -> dict[str, nn.Module]:
    return {f"ema{i}": ema_copy(net) for i, net in enumerate(model.nets)}


def _after_step(model: nn.Module, aux: dict[str, nn.Module], step: int, hp: HyperParams) -> None:
    for i, net in enumerate(model.nets):
        ema_update(aux[f"ema{i}"], net, step, hp.sections["ssco"].ema_decay)


SSCO = Method(
    name="ssco",
    n_decoders=1,
    full_pool="full",
    other_rows="none",
    reads=frozenset({"lambda_sp", "lambda_sc", "ssco"}),
    objective=_objective,
    n_networks=2,
    sections=(("ssco", SSCOParams),),
    make_aux=_make_aux,
    after_step=_after_step,
)
