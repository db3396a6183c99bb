"""Semi-supervised baselines UA-MT and SSCO (``methods/uamt.py``, ``methods/ssco.py``) and their
EMA/ramp helpers (``methods/ema.py``): hand-computed values of the pieces, finite named terms of
the objectives, gradients, and that the unlabelled rows' labels are never read."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mixseg.data.batch import IGNORE, Batch
from mixseg.methods.base import HYPER_KEYS, HyperParams, StepContext
from mixseg.methods.ema import ema_alpha, ema_copy, ema_update, sigmoid_rampup
from mixseg.methods.ssco import SSCO, SSCOParams, age, generalized_jsd, self_paced_weights
from mixseg.methods.uamt import UAMT, UAMTParams, masked_consistency, teacher_predictions
from mixseg.models import build_model

UAMT_P = UAMTParams(ema_decay=0.99, passes=8, noise_std=0.1, noise_clip=0.2, rampup=0.2)
SSCO_P = SSCOParams(gamma0=0.05, gamma1=math.log(2), weighting="soft", ema_decay=0.99, rampup=0.2)
UAMT_HP = HyperParams(lambda_c=0.1, sections={"uamt": UAMT_P})
SSCO_HP = HyperParams(lambda_sp=0.5, lambda_sc=4.0, sections={"ssco": SSCO_P})
TOTAL = 100


def tiny_batch(n_full: int = 2, n_unlabelled: int = 2, size: int = 16) -> Batch:
    """``other_rows == "none"``: the unlabelled rows carry IGNORE in mask and weak."""
    g = torch.Generator().manual_seed(0)
    n = n_full + n_unlabelled
    mask = (torch.rand(n, size, size, generator=g) > 0.6).long()
    mask[n_full:] = IGNORE
    weak = torch.full((n, size, size), IGNORE)
    is_full = torch.arange(n) < n_full
    return Batch(torch.rand(n, 1, size, size, generator=g), mask, weak, is_full)


def with_garbage(batch: Batch) -> Batch:
    """The same batch with out-of-range labels on the unlabelled rows (CE would fail on them)."""
    mask, weak = batch.mask.clone(), batch.weak.clone()
    rows = ~batch.is_full
    mask[rows] = 7
    weak[rows] = 3
    return Batch(batch.image, mask, weak, batch.is_full)


class ConstantNet(nn.Module):
    """A 'network' predicting the same logits (C,) at every pixel of every image."""

    def __init__(self, logits: list[float]):
        super().__init__()
        self.register_buffer("logits", torch.tensor(logits))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        c = self.logits.numel()
        return [self.logits.view(1, c, 1, 1).expand(x.shape[0], c, *x.shape[2:]).clone()]


# ------------------------------------------------------------------------------------- ema.py


def test_sigmoid_rampup_hand_values():
    assert sigmoid_rampup(0.0, 0.4) == pytest.approx(math.exp(-5))
    assert sigmoid_rampup(0.2, 0.4) == pytest.approx(math.exp(-1.25))
    assert sigmoid_rampup(0.4, 0.4) == 1.0
    assert sigmoid_rampup(0.9, 0.4) == 1.0
    assert sigmoid_rampup(0.0, 0.0) == 1.0


def test_ema_copy_is_a_frozen_deep_copy():
    torch.manual_seed(0)
    model = build_model(dims=2, base=2, n_decoders=1, padding="same")
    ema = ema_copy(model)
    assert all(not p.requires_grad for p in ema.parameters())
    assert all(p.requires_grad for p in model.parameters())
    for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
        assert torch.equal(pe, pm) and pe.data_ptr() != pm.data_ptr()


@pytest.mark.parametrize(
    ("step", "decay", "alpha"), [(0, 0.99, 0.0), (9, 0.99, 0.9), (999, 0.99, 0.99)]
)
def test_ema_update_moves_teacher_by_one_minus_alpha(step, decay, alpha):
    torch.manual_seed(0)
    model = build_model(dims=2, base=2, n_decoders=1, padding="same")
    ema = ema_copy(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
        for b in model.buffers():
            b.add_(1)
    before = [p.clone() for p in ema.parameters()]
    buffers = [b.clone() for b in ema.buffers()]
    assert ema_alpha(step, decay) == pytest.approx(alpha)
    ema_update(ema, model, step, decay)
    for old, new, theta in zip(before, ema.parameters(), model.parameters(), strict=True):
        assert torch.allclose(new - old, (1 - alpha) * (theta - old), atol=1e-6)
        if alpha == 0.0:
            assert torch.equal(new, theta)
    for old, new in zip(buffers, ema.buffers(), strict=True):  # UA-MT copies parameters only
        assert torch.equal(old, new)


# ------------------------------------------------------------------------------------ uamt.py


def test_uncertainty_of_a_constant_teacher_is_the_entropy_of_its_softmax():
    teacher = ConstantNet([0.0, math.log(3.0)])  # softmax (0.25, 0.75)
    target, uncertainty = teacher_predictions(teacher, torch.rand(2, 1, 8, 8), UAMT_P)
    expected = 0.25 * math.log(4.0) + 0.75 * math.log(4.0 / 3.0)  # 0.562335 nats
    assert uncertainty.shape == (2, 8, 8)
    assert torch.allclose(uncertainty, torch.full_like(uncertainty, expected), atol=1e-5)
    assert torch.allclose(target, teacher(torch.zeros(2, 1, 8, 8))[0])


def test_masked_consistency_hand_values():
    teacher = torch.tensor([0.0, 3.0]).view(1, 2, 1, 1).expand(2, 2, 4, 4)
    low = torch.zeros(2, 4, 4)
    assert masked_consistency(teacher.clone(), teacher, low, 0.5) == 0.0
    q = torch.sigmoid(torch.tensor(3.0))
    student = torch.zeros(2, 2, 4, 4)  # softmax (0.5, 0.5): both classes differ by 0.5 - q
    value = masked_consistency(student, teacher, low, 0.5)
    assert value == pytest.approx(float((q - 0.5) ** 2), rel=1e-5)
    assert masked_consistency(student, teacher, low + 1.0, 0.5) == 0.0  # nothing admitted


def uamt_step(batch: Batch, logits: list[torch.Tensor], aux, step: int = 50):
    torch.manual_seed(1)  # teacher noise and dropout
    ctx = StepContext(step, TOTAL, nn.Identity(), aux, batch.image)
    return UAMT.objective(logits, batch, UAMT_HP, ctx)


def test_uamt_terms_finite_and_named_and_backward():
    torch.manual_seed(0)
    model = build_model(dims=2, base=2, n_decoders=UAMT.n_decoders, padding="same")
    aux = UAMT.make_aux(model, UAMT_HP)
    batch = tiny_batch()
    terms = uamt_step(batch, model(batch.image), aux)
    assert set(terms) == {"ce", "dice", "cons"}
    for key, value in terms.items():
        assert value.ndim == 0 and torch.isfinite(value), key
    sum(terms.values()).backward()
    assert all(p.grad is None for p in aux["ema"].parameters())
    UAMT.after_step(model, aux, 0, UAMT_HP)  # step 0: the teacher becomes a copy
    for pe, pm in zip(aux["ema"].parameters(), model.parameters(), strict=True):
        assert torch.equal(pe, pm)


def test_uamt_consistency_zero_for_identical_student_and_teacher():
    batch = tiny_batch()
    logits = [torch.tensor([0.0, 3.0]).view(1, 2, 1, 1).expand(4, 2, 16, 16).clone()]
    terms = uamt_step(batch, logits, {"ema": ConstantNet([0.0, 3.0])}, step=0)
    assert terms["cons"] == 0.0  # entropy 0.19 nats < threshold 0.52 admits every pixel
    student = [torch.zeros(4, 2, 16, 16)]
    terms = uamt_step(batch, student, {"ema": ConstantNet([0.0, 3.0])}, step=TOTAL)
    q = torch.sigmoid(torch.tensor(3.0))
    assert terms["cons"] == pytest.approx(0.1 * float((q - 0.5) ** 2), rel=1e-5)  # ramp 1


def test_uamt_never_reads_unlabelled_labels():
    torch.manual_seed(0)
    model = build_model(dims=2, base=2, n_decoders=1, padding="same")
    aux = UAMT.make_aux(model, UAMT_HP)
    batch = tiny_batch()
    logits = [lg.detach() for lg in model(batch.image)]
    clean = uamt_step(batch, logits, aux)
    dirty = uamt_step(with_garbage(batch), logits, aux)
    for key in clean:
        assert torch.equal(clean[key], dirty[key]), key


# ------------------------------------------------------------------------------------ ssco.py


def test_jsd_hand_values_and_self_paced_weights():
    p = torch.softmax(torch.randn(2, 2, 4, 4, generator=torch.Generator().manual_seed(0)), 1)
    jsd, h_mixture = generalized_jsd([p, p.clone()])
    assert torch.allclose(jsd, torch.zeros_like(jsd), atol=1e-6)
    for weighting in ("soft", "hard"):
        assert torch.equal(self_paced_weights(jsd, 0.05, weighting), torch.ones_like(jsd))
    one_hot = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)
    jsd, h_mixture = generalized_jsd([one_hot, one_hot.flip(1)])  # disjoint: JSD = ln 2
    assert jsd.item() == pytest.approx(math.log(2), abs=1e-6)
    assert h_mixture.item() == pytest.approx(math.log(2), abs=1e-6)
    d = torch.tensor([0.0, 0.1, 0.3])
    assert torch.equal(self_paced_weights(d, 0.2, "hard"), torch.tensor([1.0, 1.0, 0.0]))
    assert torch.allclose(self_paced_weights(d, 0.2, "soft"), torch.tensor([1.0, 0.5, 0.0]))


def test_age_ramps_from_gamma0_to_gamma1():
    assert age(0.0, SSCO_P) == pytest.approx(0.05)
    assert age(0.5, SSCO_P) == pytest.approx((0.05 + math.log(2)) / 2)
    assert age(1.0, SSCO_P) == pytest.approx(math.log(2))


def ssco_step(batch: Batch, model: nn.Module, aux, logits=None, step: int = 50):
    torch.manual_seed(1)  # dropout of the EMA copies
    ctx = StepContext(step, TOTAL, model, aux, batch.image)
    logits = model(batch.image) if logits is None else logits
    return SSCO.objective(logits, batch, SSCO_HP, ctx)


def make_conets() -> nn.Module:
    torch.manual_seed(0)
    return build_model(dims=2, base=2, n_decoders=1, padding="same", n_networks=SSCO.n_networks)


def test_ssco_terms_finite_named_and_ce_reaches_both_networks():
    model = make_conets()
    aux = SSCO.make_aux(model, SSCO_HP)
    assert set(aux) == {"ema0", "ema1"}
    terms = ssco_step(tiny_batch(), model, aux)
    assert set(terms) == {"ce", "sp", "sc"}
    for key, value in terms.items():
        assert value.ndim == 0 and torch.isfinite(value), key
    terms["ce"].backward()
    for net in model.nets:
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    SSCO.after_step(model, aux, 9, SSCO_HP)  # alpha 0.9: each copy moves 0.1 towards its net
    for i, net in enumerate(model.nets):
        for pe, pm in zip(aux[f"ema{i}"].parameters(), net.parameters(), strict=True):
            assert torch.allclose(pm - pe, torch.full_like(pe, 0.9), atol=1e-5)


def test_ssco_never_reads_unlabelled_labels():
    model = make_conets()
    aux = SSCO.make_aux(model, SSCO_HP)
    batch = tiny_batch()
    logits = [lg.detach() for lg in model(batch.image)]
    clean = ssco_step(batch, model, aux, logits)
    dirty = ssco_step(with_garbage(batch), model, aux, logits)
    for key in clean:
        assert torch.equal(clean[key], dirty[key]), key


# ------------------------------------------------------------------------------ declarations


def test_methods_declare_what_they_read():
    for method, section in ((UAMT, "uamt"), (SSCO, "ssco")):
        assert method.reads <= set(HYPER_KEYS)
        assert section in method.reads and dict(method.sections)[section]
        assert method.other_rows == "none"
    assert UAMT.outputs() == 1 and SSCO.outputs() == 2


def test_params_are_validated():
    with pytest.raises(ValueError):
        UAMTParams(ema_decay=0.99, passes=0, noise_std=0.1, noise_clip=0.2, rampup=0.2)
    with pytest.raises(ValueError):
        SSCOParams(gamma0=0.0, gamma1=0.7, weighting="soft", ema_decay=0.99, rampup=0.2)
