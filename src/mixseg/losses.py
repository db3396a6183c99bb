"""The paper's objectives as pure functions on logits (device- and dimension-agnostic).

Shapes: logits (B, C, *spatial), label maps (B, *spatial) int64. Every loss is a scalar, the
**mean over pixels** of a per-pixel quantity unless said otherwise, computed in float32 even
under autocast (log/exp of half precision logits is where AMP runs lose accuracy).

Equations (paper numbering):
    Eq. 1  ``cross_entropy``           Ls  on the fully labelled images
    Eq. 2  ``partial_cross_entropy``   Lw  on the labelled pixels of partially labelled images
    Eq. 3  ``kl_divergence``           Lkd teacher -> student (``distillation``)
    Eq. 4  ``entropy``                 Lent Shannon entropy of the student
    Eq. 6  ``bhattacharyya``
    Eq. 7  ``alpha_divergence``        Tsallis alpha-divergence, KL at alpha = 1
    §3.6   ``min_entropy``             -log max_k p_k (Fig. 2)
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

EPS = 1e-12  # floor for probabilities inside logarithms and roots


def _f32(x: torch.Tensor) -> torch.Tensor:
    return x if x.dtype == torch.float32 or x.dtype == torch.float64 else x.float()


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eq. 1: mean pixel-wise cross-entropy against a full mask.

    An empty batch (no fully labelled row) gives 0 attached to the graph, so a method never
    has to special-case it.
    """
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    return F.cross_entropy(_f32(logits), labels)


def partial_cross_entropy(
    logits: torch.Tensor, weak_labels: torch.Tensor, ignore_index: int = 255
) -> torch.Tensor:
    """Eq. 2: cross-entropy summed over the labelled pixels of the whole batch, divided by their
    number (pixels equal to ``ignore_index`` carry no label and get exactly zero gradient).

    The normalisation is per batch, not per image, as in the official code. A batch without a
    labelled pixel gives 0 attached to the graph.
    """
    labelled = weak_labels != ignore_index
    n = labelled.sum()
    if logits.shape[0] == 0 or n == 0:
        return logits.sum() * 0.0
    per_pixel = F.cross_entropy(
        _f32(logits), weak_labels, ignore_index=ignore_index, reduction="none"
    )
    return per_pixel.sum() / n


def smoothed_probs(
    logits: torch.Tensor, smoothing: bool = True, temperature: float = 1.0
) -> torch.Tensor:
    """Class probabilities entering the divergence of Eq. 3.

    ``smoothing=True`` is the paper's "softmax over the softmax predictions":
    ``softmax(softmax(z) / T)``, which keeps every probability inside
    ``[1/(1+(C-1)e^{1/T}), e^{1/T}/(e^{1/T}+C-1)]`` (for C=2, T=1: [0.269, 0.731]), so the
    distillation term stays bounded whatever the logits. ``smoothing=False`` is the usual
    tempered softmax ``softmax(z / T)``.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = _f32(logits)
    if smoothing:
        z = torch.softmax(z, dim=1)
    return torch.softmax(z / temperature, dim=1)


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Eq. 3: KL(p‖q) = Σ_k p_k log(p_k / q_k) per pixel, averaged over pixels (p, q on dim 1)."""
    per_pixel = (p * (torch.log(p.clamp_min(EPS)) - torch.log(q.clamp_min(EPS)))).sum(dim=1)
    return per_pixel.mean()


def bhattacharyya(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Eq. 6: D_B(p, q) = -log Σ_k sqrt(p_k q_k) per pixel, averaged over pixels."""
    bc = torch.sqrt((p * q).clamp_min(EPS)).sum(dim=1)
    return (-torch.log(bc.clamp(EPS, 1.0))).mean()


def alpha_divergence(p: torch.Tensor, q: torch.Tensor, alpha: float) -> torch.Tensor:
    """Eq. 7 (Tsallis): D_α(p‖q) = (1 - Σ_k p_k^α q_k^(1-α)) / (1 - α), averaged over pixels.

    Non-negative for every α > 0 and equal to KL(p‖q) in the limit α -> 1 (used at α = 1).
    """
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if abs(alpha - 1.0) < 1e-9:
        return kl_divergence(p, q)
    p, q = p.clamp_min(EPS), q.clamp_min(EPS)
    s = (p.pow(alpha) * q.pow(1.0 - alpha)).sum(dim=1)
    return ((1.0 - s) / (1.0 - alpha)).mean()


def divergence(
    p: torch.Tensor, q: torch.Tensor, kind: str = "kl", alpha: float | None = None
) -> torch.Tensor:
    """Dispatch to ``kl_divergence`` | ``bhattacharyya`` | ``alpha_divergence`` (needs alpha)."""
    if kind == "kl":
        return kl_divergence(p, q)
    if kind == "bhattacharyya":
        return bhattacharyya(p, q)
    if kind == "alpha":
        if alpha is None:
            raise ValueError("divergence kind 'alpha' needs a value of alpha")
        return alpha_divergence(p, q, alpha)
    raise ValueError(f"unknown divergence {kind!r}: expected kl, bhattacharyya or alpha")


def distillation(
    teacher_logits: torch.Tensor,
    student_logits: torch.Tensor,
    kind: str = "kl",
    alpha: float | None = None,
    smoothing: bool = True,
    temperature: float = 1.0,
    detach_teacher: bool = False,
    direction: Literal["teacher_student", "student_teacher"] = "teacher_student",
) -> torch.Tensor:
    """Lkd of Eq. 3 between the two branches on the same (fully labelled) images.

    ``direction="teacher_student"`` is the paper's D(p_teacher ‖ p_student); the official
    code computes the reverse, ``"student_teacher"``. ``detach_teacher=False`` (the paper's
    and the code's choice) lets the term back-propagate into the teacher decoder too; True
    makes it a pure distillation target. No T² factor is applied (the default T is 1).
    """
    if teacher_logits.shape[0] == 0:
        return student_logits.sum() * 0.0
    pt = smoothed_probs(teacher_logits, smoothing, temperature)
    ps = smoothed_probs(student_logits, smoothing, temperature)
    if detach_teacher:
        pt = pt.detach()
    if direction == "teacher_student":
        return divergence(pt, ps, kind, alpha)
    if direction == "student_teacher":
        return divergence(ps, pt, kind, alpha)
    raise ValueError(f"direction must be teacher_student or student_teacher, got {direction!r}")


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Eq. 4: Shannon entropy -Σ_k p_k log p_k of softmax(logits) per pixel, averaged over
    pixels (nats, in [0, log C]). Empty input gives 0 attached to the graph."""
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    z = _f32(logits)
    logp = torch.log_softmax(z, dim=1)
    return -(logp.exp() * logp).sum(dim=1).mean()


def min_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Section 3.6: min-entropy -log max_k p_k per pixel, averaged over pixels."""
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    return -torch.log_softmax(_f32(logits), dim=1).amax(dim=1).mean()


def dice_loss(logits: torch.Tensor, labels: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Soft Dice loss of the foreground classes (1..C-1), 1 - mean Dice over classes, with the
    sums taken over the whole batch (used by the semi-supervised baselines' recipes)."""
    probs = torch.softmax(_f32(logits), dim=1)
    onehot = F.one_hot(labels, probs.shape[1]).movedim(-1, 1).to(probs.dtype)
    dims = (0, *range(2, probs.ndim))
    inter = (probs * onehot).sum(dims)[1:]
    denom = (probs + onehot).sum(dims)[1:]
    return 1.0 - ((2 * inter + eps) / (denom + eps)).mean()
