"""GLMI: semi-supervised segmentation regularised by global and local mutual information
(Peng et al., MELBA 2021), as the official code does it (reference §3.2), with the paper's three
separate weights (Appendix B.2, Table B.5: λglobalMI = 1.0, λlocalMI = 0.1, λcons = 10.0).

One forward pass, with features, on cat[x_l, x_u, T(x_u)]; T flips each spatial axis of each
image with probability ``flip_prob`` and is replayed on outputs and features (``flip``). T is
drawn from torch's global RNG, which the training loop seeds and checkpoints, so a run and its
resumption are reproducible. Named terms (the network has one decoder, so its layers are
``dec2_0`` and ``dec1_0``):

- ``ce``: cross-entropy on the labelled rows (Eq. 1 of the paper under reproduction).
- ``gmi``: λglobalMI · IIC loss (-MI) between the cluster assignments of the pooled bottleneck
  features (GLMI's ``Conv5``) of x_u and of T(x_u); pooling makes them flip-invariant, so no
  re-alignment. Mean over sub-heads.
- ``lmi``: λlocalMI · mean over the two decoder layers (``dec2_0``, H/2, ~ ``Up_conv3``;
  ``dec1_0``, H, ~ ``Up_conv2``) of the local IIC loss between T(features of x_u) and the
  features of T(x_u), averaged over the displacements of a (2p+1)² window and over sub-heads.
  (The official code instead splits one MI weight 0.1 by importances [0.5, 0.25, 0.25].)
- ``cons``: λcons · MSE(softmax(f(T x_u)), T(softmax(f(x_u))).detach()).

The projection heads (``make_aux``) are trained with the network and unused at test time.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from mixseg.data.batch import Batch
from mixseg.losses import EPS, cross_entropy
from mixseg.methods.base import HyperParams, Method, StepContext

GLOBAL_LAYER = "bottleneck"
LOCAL_LAYERS = ("dec2_0", "dec1_0")  # paired with GLMIParams.local_padding


@dataclasses.dataclass(frozen=True)
class GLMIParams:
    """Section ``glmi`` of params.yaml (official values in brackets, reference §3.2)."""

    n_subheads: int  # independent IIC heads per layer [5]
    n_clusters: int  # clusters of each head [20]
    local_padding: tuple[int, int]  # displacement radius p at dec2_0 (H/2), dec1_0 (H) [1, 3]
    flip_prob: float  # probability of flipping each spatial axis of each image [0.8]

    def __post_init__(self) -> None:
        if self.n_subheads < 1 or self.n_clusters < 2:
            raise ValueError(f"glmi: need n_subheads >= 1 and n_clusters >= 2, got {self}")
        if min(self.local_padding) < 0 or not 0.0 <= self.flip_prob <= 1.0:
            raise ValueError(f"glmi: need local_padding >= 0 and flip_prob in [0, 1], got {self}")


class IICHeads(nn.Module):
    """``n`` sub-heads of ``k`` clusters on one feature map, as one projection to n·k outputs.

    ``pooled`` (global): AdaptiveAvgPool -> Linear -> softmax, (B, C, h, w) -> (n, B, k).
    Otherwise (local): Conv1x1 -> softmax per pixel, (B, C, h, w) -> (n, B, k, h, w).
    """

    def __init__(self, channels: int, n: int, k: int, pooled: bool):
        super().__init__()
        self.n, self.k, self.pooled = n, k, pooled
        self.proj = nn.Linear(channels, n * k) if pooled else nn.Conv2d(channels, n * k, 1)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        if self.pooled:
            feats = F.adaptive_avg_pool2d(feats, 1).flatten(1)
        z = self.proj(feats).float()  # softmax and MI in float32 under autocast
        z = z.view(z.shape[0], self.n, self.k, *z.shape[2:])
        return torch.softmax(z, dim=2).transpose(0, 1)


def random_flips(n: int, prob: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """(n, 2) bool: whether to flip the H and the W axis of each of n images (global RNG)."""
    return (torch.rand(n, 2) < prob).to(device)


def flip(x: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
    """T: flip row b of ``x`` (B, ..., H, W) along H if ``flips[b, 0]``, along W if
    ``flips[b, 1]``. An involution: ``flip(flip(x, f), f) == x``."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    x = torch.where(flips[:, 0].view(shape), x.flip(-2), x)
    return torch.where(flips[:, 1].view(shape), x.flip(-1), x)


def mi_loss(joint: torch.Tensor) -> torch.Tensor:
    """IIC loss -MI(P) = -Σ_ij P_ij (log P_ij - log P_i - log P_j) of joints (..., k, k) that
    each sum to 1, averaged over the leading dimensions. In [-log k, 0]."""
    p_i = joint.sum(-1, keepdim=True)
    p_j = joint.sum(-2, keepdim=True)
    log_ratio = torch.log(joint + EPS) - torch.log(p_i + EPS) - torch.log(p_j + EPS)
    return -(joint * log_ratio).sum((-2, -1)).mean()


def global_joint(z: torch.Tensor, z_t: torch.Tensor) -> torch.Tensor:
    """Symmetric joint (..., k, k) summing to 1 of paired assignments z, z_t (..., B, k)."""
    with torch.autocast(z.device.type, enabled=False):
        p = z.float().transpose(-2, -1) @ z_t.float()
    p = (p + p.transpose(-2, -1)) / 2
    return p / p.sum((-2, -1), keepdim=True)


def local_joint(z: torch.Tensor, z_t: torch.Tensor, pad: int) -> torch.Tensor:
    """Joints (D, k, k), D = (2·pad+1)², of aligned pixel assignments z, z_t (B, k, h, w):
    P(d)_ij ∝ Σ_{b,u} z_{b,i,u+d} z_t_{b,j,u} (zero outside the map), each symmetric and
    summing to 1. As in the official code, the detached minimum entry is subtracted first (no
    entry can be negative after F.conv2d's rounding; the smallest mass is removed from all)."""
    with torch.autocast(z.device.type, enabled=False):  # float32 joints, as in losses.py
        p = F.conv2d(z.float().transpose(0, 1), z_t.float().transpose(0, 1), padding=pad)
    # p: (k, k, 2p+1, 2p+1)
    p = p - p.min().detach() + EPS
    p = p.flatten(2).permute(2, 0, 1)
    p = p / p.sum((1, 2), keepdim=True)
    return (p + p.transpose(1, 2)) / 2


def _make_aux(model: nn.Module, hp: HyperParams) -> dict[str, nn.Module]:
    gp: GLMIParams = hp.sections["glmi"]
    chans = model.feature_channels()
    heads = {GLOBAL_LAYER: IICHeads(chans[GLOBAL_LAYER], gp.n_subheads, gp.n_clusters, pooled=True)}
    for layer in LOCAL_LAYERS:
        heads[layer] = IICHeads(chans[layer], gp.n_subheads, gp.n_clusters, pooled=False)
    return {"iic": nn.ModuleDict(heads)}


def _objective(
    logits: list[torch.Tensor], batch: Batch, hp: HyperParams, ctx: StepContext
) -> dict[str, torch.Tensor]:
    gp: GLMIParams = hp.sections["glmi"]
    heads = ctx.aux["iic"]
    full = batch.is_full
    x_l, x_u = ctx.x[full], ctx.x[~full]
    n_l, n_u = x_l.shape[0], x_u.shape[0]
    if n_u == 0:
        raise ValueError("glmi needs unlabelled rows in every batch")
    flips = random_flips(n_u, gp.flip_prob, ctx.x.device)
    (out,), feats = ctx.model(torch.cat([x_l, x_u, flip(x_u, flips)]), features=True)
    out_l, out_u, out_t = out.split([n_l, n_u, n_u])

    p_u = torch.softmax(out_u.float(), dim=1)
    p_t = torch.softmax(out_t.float(), dim=1)
    g_u, g_t = heads[GLOBAL_LAYER](feats[GLOBAL_LAYER][n_l:]).split(n_u, dim=1)  # (n, B, k)
    lmi = []
    for layer, pad in zip(LOCAL_LAYERS, gp.local_padding, strict=True):
        f_u, f_t = feats[layer][n_l:].split(n_u)
        z_u, z_t = heads[layer](flip(f_u, flips)), heads[layer](f_t)  # (n, B, k, h, w)
        per_head = [mi_loss(local_joint(a, b, pad)) for a, b in zip(z_u, z_t, strict=True)]
        lmi.append(torch.stack(per_head).mean())
    return {
        "ce": cross_entropy(out_l, batch.mask[full]),
        "gmi": hp.lambda_gmi * mi_loss(global_joint(g_u, g_t)),
        "lmi": hp.lambda_lmi * torch.stack(lmi).mean(),
        "cons": hp.lambda_cons * F.mse_loss(p_t, flip(p_u, flips).detach()),
    }


GLMI = Method(
    name="glmi",
    n_decoders=1,
    full_pool="full",
    other_rows="none",
    reads=frozenset({"lambda_gmi", "lambda_lmi", "lambda_cons", "glmi"}),
    objective=_objective,
    sections=(("glmi", GLMIParams),),
    make_aux=_make_aux,
    own_forward=True,
)
