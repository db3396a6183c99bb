"""Losses: hand-computed values, properties, and agreement with torch's own implementations."""

import math

import pytest
import torch
import torch.nn.functional as F

from mixseg import losses

P = torch.tensor([0.5, 0.5]).view(1, 2, 1, 1)
Q = torch.tensor([0.25, 0.75]).view(1, 2, 1, 1)


def _logits(shape=(3, 4, 5, 6), seed=0, scale=3.0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale


def test_cross_entropy_hand_value():
    logits = torch.zeros(1, 2, 1, 2)
    labels = torch.tensor([[[0, 1]]])
    assert losses.cross_entropy(logits, labels).item() == pytest.approx(math.log(2))


def test_partial_ce_averages_over_labelled_pixels_only():
    # pixel 0: logits (0, ln 3) labelled 1 -> -log(3/4); pixel 1 unlabelled;
    # pixel 2: label 0 of (0,0) -> log 2
    logits = torch.tensor([[[[0.0, 5.0, 0.0]], [[math.log(3), -5.0, 0.0]]]], requires_grad=True)
    weak = torch.tensor([[[1, 255, 0]]])
    loss = losses.partial_cross_entropy(logits, weak, 255)
    assert loss.item() == pytest.approx((-math.log(0.75) + math.log(2)) / 2)
    loss.backward()
    assert torch.all(logits.grad[..., 1] == 0)
    assert torch.all(logits.grad[..., 0] != 0)


def test_partial_ce_without_labels_is_zero_with_graph():
    logits = _logits().requires_grad_()
    loss = losses.partial_cross_entropy(logits, torch.full((3, 5, 6), 255), 255)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.all(logits.grad == 0)


def test_partial_ce_equals_torch_ignore_index_mean():
    logits = _logits((2, 3, 8, 8))
    weak = torch.randint(0, 3, (2, 8, 8))
    weak[torch.rand(2, 8, 8) < 0.7] = 255
    ref = F.cross_entropy(logits, weak, ignore_index=255)
    assert losses.partial_cross_entropy(logits, weak, 255).item() == pytest.approx(
        ref.item(), rel=1e-6
    )


def test_smoothing_bounds_two_classes():
    p = losses.smoothed_probs(torch.tensor([[[[1e4]], [[-1e4]]]]), smoothing=True, temperature=1.0)
    e = math.e
    assert p[0, 0].item() == pytest.approx(e / (e + 1), abs=1e-6)  # 0.731
    assert p[0, 1].item() == pytest.approx(1 / (e + 1), abs=1e-6)  # 0.269


def test_kl_hand_value_and_torch_agreement():
    assert losses.kl_divergence(P, Q).item() == pytest.approx(0.5 * math.log(4 / 3), rel=1e-6)
    p = torch.softmax(_logits(seed=1), 1)
    q = torch.softmax(_logits(seed=2), 1)
    ref = F.kl_div(q.log(), p, reduction="none").sum(1).mean()  # KL(p||q)
    assert losses.kl_divergence(p, q).item() == pytest.approx(ref.item(), rel=1e-5)


def test_bhattacharyya_hand_value():
    bc = math.sqrt(0.125) + math.sqrt(0.375)
    assert losses.bhattacharyya(P, Q).item() == pytest.approx(-math.log(bc), rel=1e-6)


def test_alpha_divergence_hand_value_and_kl_limit():
    # alpha = 2: (1 - sum p^2/q) / (1 - 2) = sum p^2/q - 1 = 0.25/0.25 + 0.25/0.75 - 1
    assert losses.alpha_divergence(P, Q, 2.0).item() == pytest.approx(1 / 3, rel=1e-6)
    p = torch.softmax(_logits(seed=3), 1)
    q = torch.softmax(_logits(seed=4), 1)
    kl = losses.kl_divergence(p, q).item()
    assert losses.alpha_divergence(p, q, 1.0 + 1e-4).item() == pytest.approx(kl, rel=1e-3)
    assert losses.alpha_divergence(p, q, 1.0).item() == pytest.approx(kl, rel=1e-6)


@pytest.mark.parametrize(
    "kind,alpha", [("kl", None), ("bhattacharyya", None), ("alpha", 0.5), ("alpha", 2.0)]
)
def test_divergences_zero_on_equal_and_nonnegative(kind, alpha):
    p = torch.softmax(_logits(seed=5), 1)
    q = torch.softmax(_logits(seed=6), 1)
    assert abs(losses.divergence(p, p, kind, alpha).item()) < 1e-6
    assert losses.divergence(p, q, kind, alpha).item() > 0


def test_entropy_range_and_hand_value():
    c = 4
    assert losses.entropy(torch.zeros(2, c, 3, 3)).item() == pytest.approx(math.log(c), rel=1e-6)
    h = losses.entropy(_logits())
    assert 0 <= h.item() <= math.log(4)
    # p = (0.25, 0.75): -(0.25 ln 0.25 + 0.75 ln 0.75)
    logits = torch.tensor([0.0, math.log(3)]).view(1, 2, 1, 1)
    assert losses.entropy(logits).item() == pytest.approx(
        -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    )


def test_min_entropy_hand_value_and_below_shannon():
    logits = torch.tensor([0.0, math.log(3)]).view(1, 2, 1, 1)
    assert losses.min_entropy(logits).item() == pytest.approx(-math.log(0.75))
    z = _logits(seed=7)
    assert losses.min_entropy(z).item() <= losses.entropy(z).item() + 1e-7


@pytest.mark.parametrize("fn", ["entropy", "min_entropy", "distill", "pce", "ce", "dice"])
def test_finite_values_and_gradients_for_extreme_logits(fn):
    z = (torch.sign(_logits(seed=8)) * 1e4).requires_grad_()
    labels = torch.randint(0, 4, (3, 5, 6))
    loss = {
        "entropy": lambda: losses.entropy(z),
        "min_entropy": lambda: losses.min_entropy(z),
        "distill": lambda: losses.distillation(z, z.flip(0), smoothing=False),
        "pce": lambda: losses.partial_cross_entropy(z, labels, 255),
        "ce": lambda: losses.cross_entropy(z, labels),
        "dice": lambda: losses.dice_loss(z, labels),
    }[fn]()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_distillation_direction_and_detach():
    t = _logits(seed=9).requires_grad_()
    s = _logits(seed=10).requires_grad_()
    fwd = losses.distillation(t, s, direction="teacher_student")
    rev = losses.distillation(s, t, direction="student_teacher")
    assert fwd.item() == pytest.approx(rev.item(), rel=1e-6)
    pt, ps = losses.smoothed_probs(t), losses.smoothed_probs(s)
    assert fwd.item() == pytest.approx(losses.kl_divergence(pt, ps).item(), rel=1e-6)
    losses.distillation(t, s, detach_teacher=True).backward()
    assert t.grad is None and s.grad is not None
    s.grad = None
    losses.distillation(t, s, detach_teacher=False).backward()
    assert t.grad is not None and t.grad.abs().sum() > 0


def test_losses_are_float32_under_half_inputs():
    z = _logits(seed=11).half()
    assert losses.entropy(z).dtype == torch.float32
    assert losses.distillation(z, z).dtype == torch.float32


def test_dice_loss_perfect_prediction_near_zero():
    labels = torch.randint(0, 2, (2, 8, 8))
    logits = F.one_hot(labels, 2).movedim(-1, 1).float() * 50
    assert losses.dice_loss(logits, labels).item() < 1e-4
