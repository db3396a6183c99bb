"""Methods: every registered method returns finite, named, weighted terms on a tiny batch, and
its terms respond to exactly the hyper-parameters it declares it reads."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from mixseg.data.batch import IGNORE, Batch
from mixseg.methods import METHODS, get_method
from mixseg.methods.base import HyperParams, KDParams, parse_divergence
from mixseg.models import build_model

HP = HyperParams(
    lambda_w=0.5,
    lambda_kd=2.0,
    lambda_ent=3.0,
    divergence="kl",
    kd=KDParams(smoothing=True, temperature=1.0, direction="teacher_student", detach_teacher=False),
    entropy_on="partial",
)
EXPECTED_TERMS = {
    "lower": {"ce"},
    "upper": {"ce"},
    "single": {"ce", "pce"},
    "single_ent": {"ce", "pce", "ent"},
    "decoupled": {"ce", "pce"},
    "kl": {"ce", "pce", "kd"},
    "kl_ent": {"ce", "pce", "kd", "ent"},
}


def tiny_batch(n_full: int = 2, n_weak: int = 3, size: int = 16) -> Batch:
    g = torch.Generator().manual_seed(0)
    n = n_full + n_weak
    mask = (torch.rand(n, size, size, generator=g) > 0.6).long()
    weak = torch.full((n, size, size), IGNORE)
    weak[n_full:, 6:9, 6:9] = 1
    mask[n_full:] = IGNORE
    is_full = torch.arange(n) < n_full
    return Batch(torch.rand(n, 1, size, size, generator=g), mask, weak, is_full)


MIXED = sorted(EXPECTED_TERMS)  # Eq. 5's family; the other methods have their own test files


def test_every_method_is_tested_somewhere():
    assert set(METHODS) == set(MIXED) | {"proposals", "uamt", "glmi", "ssco"}


@pytest.mark.parametrize("name", MIXED)
def test_terms_are_finite_named_scalars(name):
    method = get_method(name)
    torch.manual_seed(0)
    model = build_model(dims=2, base=4, n_decoders=method.n_decoders, padding="same")
    batch = tiny_batch()
    terms = method.objective(model(batch.image), batch, HP)
    assert set(terms) == EXPECTED_TERMS[name]
    for key, value in terms.items():
        assert value.ndim == 0 and torch.isfinite(value), key
    sum(terms.values()).backward()


@pytest.mark.parametrize("name", MIXED)
def test_terms_scale_with_their_weight(name):
    method = get_method(name)
    torch.manual_seed(0)
    model = build_model(dims=2, base=4, n_decoders=method.n_decoders, padding="same")
    batch = tiny_batch()
    logits = [lg.detach() for lg in model(batch.image)]
    base = method.objective(logits, batch, HP)
    for key, term in (("lambda_w", "pce"), ("lambda_kd", "kd"), ("lambda_ent", "ent")):
        doubled = dataclasses.replace(HP, **{key: 2 * getattr(HP, key)})
        new = method.objective(logits, batch, doubled)
        if term in base:
            assert key in method.reads
            assert torch.allclose(new[term], 2 * base[term]), (name, term)
        else:
            assert key not in method.reads


def test_unread_hyper_parameter_is_none_and_would_fail():
    # runs.resolve_hyper leaves unread values None: an objective reading one would crash.
    hp = dataclasses.replace(HP, lambda_kd=None)
    batch = tiny_batch()
    model = build_model(dims=2, base=4, n_decoders=2, padding="same")
    get_method("decoupled").objective(model(batch.image), batch, hp)  # does not read it
    with pytest.raises(TypeError):
        get_method("kl").objective(model(batch.image), batch, hp)


def test_partial_ce_ignores_full_rows_and_ce_ignores_weak_rows():
    method = get_method("single")
    batch = tiny_batch()
    logits = torch.randn(5, 2, 16, 16, requires_grad=True)
    terms = method.objective([logits], batch, HP)
    terms["ce"].backward(retain_graph=True)
    assert logits.grad[~batch.is_full].abs().sum() == 0
    logits.grad = None
    terms["pce"].backward()
    assert logits.grad[batch.is_full].abs().sum() == 0


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("kl", ("kl", None)),
        ("bhattacharyya", ("bhattacharyya", None)),
        ("alpha2", ("alpha", 2.0)),
        ("alpha0.5", ("alpha", 0.5)),
    ],
)
def test_parse_divergence(spec, expected):
    assert parse_divergence(spec) == expected


@pytest.mark.parametrize("spec", ["js", "alpha", "alpha-1", "alphax"])
def test_parse_divergence_rejects(spec):
    with pytest.raises(ValueError, match="divergence must be"):
        parse_divergence(spec)


def test_proposals_is_one_cross_entropy_over_ground_truth_and_pseudo_masks():
    """Full rows use their mask, pseudo rows their dense pseudo-mask: one CE over all pixels."""
    batch = tiny_batch()
    batch.weak[~batch.is_full] = (torch.rand(3, 16, 16) > 0.5).long()  # dense pseudo-masks
    logits = torch.randn(5, 2, 16, 16)
    target = torch.cat([batch.mask[batch.is_full], batch.weak[~batch.is_full]])
    terms = get_method("proposals").objective([logits], batch, HyperParams())
    assert set(terms) == {"ce"}
    assert torch.allclose(terms["ce"], torch.nn.functional.cross_entropy(logits, target))


def test_reference_losses_are_the_reference_codes_by_hand():
    """``loss_convention: reference`` (the options ``runs.resolve_hyper`` sets with it): the
    reference code's ``nn.KLDivLoss()(log_softmax(p_teacher / T), softmax(p_student / T)) *
    alpha T^2`` (the mean over classes and pixels) and ``-(softmax(x) * log_softmax(x)).mean()``
    on every student output, computed here with torch's own functions."""
    from mixseg.methods.base import REFERENCE_KD

    batch = tiny_batch()
    torch.manual_seed(0)
    teacher, student = torch.randn(5, 4, 16, 16), torch.randn(5, 4, 16, 16)
    hp = dataclasses.replace(HP, kd=REFERENCE_KD, entropy_on="all", loss_convention="reference")
    terms = get_method("kl_ent").objective([teacher, student], batch, hp, None)
    full, t = batch.is_full, 2.0
    soft_t, soft_s = torch.softmax(teacher[full], 1), torch.softmax(student[full], 1)
    kd = torch.nn.KLDivLoss(reduction="mean")(
        torch.log_softmax(soft_t / t, 1), torch.softmax(soft_s / t, 1)
    )
    torch.testing.assert_close(terms["kd"], HP.lambda_kd * kd * 0.5 * t * t)
    ent = -(torch.softmax(student, 1) * torch.log_softmax(student, 1)).mean()
    torch.testing.assert_close(terms["ent"], HP.lambda_ent * ent)
    paper = get_method("kl_ent").objective(
        [teacher, student], batch, dataclasses.replace(HP, loss_convention="paper"), None
    )
    assert not torch.allclose(paper["kd"], terms["kd"])
