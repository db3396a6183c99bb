"""GLMI (Peng et al. 2021; reference §3.2): UNet features, the IIC mutual-information losses on
hand-checked joints, the flip T, and the objective on a tiny network (base 2, 2 + 2 rows)."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mixseg.config import build
from mixseg.data.batch import IGNORE, Batch
from mixseg.methods.base import HYPER_KEYS, HyperParams, StepContext
from mixseg.methods.glmi import (
    GLMI,
    GLMIParams,
    flip,
    global_joint,
    local_joint,
    mi_loss,
    random_flips,
)
from mixseg.models import build_model

PARAMS = GLMIParams(n_subheads=2, n_clusters=4, local_padding=(1, 2), flip_prob=0.8)


pytestmark = pytest.mark.usefixtures("one_thread")


def _hp(params: GLMIParams = PARAMS) -> HyperParams:
    return HyperParams(lambda_gmi=1.0, lambda_lmi=0.1, lambda_cons=10.0, sections={"glmi": params})


def _batch(size: int = 32, n_l: int = 2, n_u: int = 2) -> Batch:
    g = torch.Generator().manual_seed(0)
    n = n_l + n_u
    mask = torch.randint(0, 2, (n, size, size), generator=g)
    mask[n_l:] = IGNORE
    weak = torch.full((n, size, size), IGNORE)
    return Batch(torch.randn(n, 1, size, size, generator=g), mask, weak, torch.arange(n) < n_l)


def _run(model: nn.Module, batch: Batch, hp: HyperParams, aux: dict, seed: int = 0) -> dict:
    torch.manual_seed(seed)  # same flips and dropout for every call
    return GLMI.objective([], batch, hp, StepContext(0, 10, model, aux, batch.image))


def _one_hot(labels: list[int], k: int) -> torch.Tensor:
    return F.one_hot(torch.tensor(labels), k).float()


# ---------------------------------------------------------------------------------------------
# UNet features
# ---------------------------------------------------------------------------------------------
def test_unet_features_keys_shapes_and_unchanged_logits():
    torch.manual_seed(0)
    model = build_model(2, 2, 2, "same").eval()
    x = torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        plain = model(x)
        logits, feats = model(x, features=True)
    assert all(torch.equal(a, b) for a, b in zip(plain, logits, strict=True))
    sizes = {"bottleneck": 2, "dec2_0": 16, "dec1_0": 32, "dec2_1": 16, "dec1_1": 32}
    chans = model.feature_channels()
    assert chans == {"bottleneck": 32, "dec2_0": 4, "dec1_0": 2, "dec2_1": 4, "dec1_1": 2}
    assert {k: tuple(v.shape) for k, v in feats.items()} == {
        k: (3, chans[k], s, s) for k, s in sizes.items()
    }


# ---------------------------------------------------------------------------------------------
# IIC mutual information
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [2, 4])
def test_identical_uniform_one_hot_assignments_give_minus_log_k(k):
    # P = diag(1/k), P_i = P_j = 1/k: MI = Σ_i (1/k) log((1/k) / (1/k)²) = log k.
    z = _one_hot([i % k for i in range(3 * k)], k)
    joint = global_joint(z, z)
    torch.testing.assert_close(joint, torch.eye(k) / k)
    assert mi_loss(joint).item() == pytest.approx(-math.log(k), abs=1e-6)


def test_independent_assignments_give_zero_mi():
    # Every pair (i, j) once: P = 1/4 everywhere = P_i P_j.
    joint = global_joint(_one_hot([0, 0, 1, 1], 2), _one_hot([0, 1, 0, 1], 2))
    torch.testing.assert_close(joint, torch.full((2, 2), 0.25))
    assert mi_loss(joint).item() == pytest.approx(0.0, abs=1e-6)
    uniform = torch.full((5, 3), 1 / 3)
    assert mi_loss(global_joint(uniform, uniform)).item() == pytest.approx(0.0, abs=1e-6)


def test_joints_are_symmetric_distributions():
    g = torch.Generator().manual_seed(1)
    z, z_t = torch.randn(2, 3, 6, 5, generator=g).softmax(-1)  # (sub-heads, B, k)
    joint = global_joint(z, z_t)
    assert joint.shape == (3, 5, 5)
    torch.testing.assert_close(joint, joint.transpose(-2, -1))
    torch.testing.assert_close(joint.sum((-2, -1)), torch.ones(3))
    assert (joint >= 0).all() and -math.log(5) <= mi_loss(joint).item() <= 0

    maps, maps_t = torch.randn(2, 2, 5, 8, 8, generator=g).softmax(2)  # (B, k, h, w)
    local = local_joint(maps, maps_t, pad=2)
    assert local.shape == (25, 5, 5)  # one joint per displacement of the 5 x 5 window
    torch.testing.assert_close(local, local.transpose(1, 2))
    torch.testing.assert_close(local.sum((1, 2)), torch.ones(25))


def test_local_joint_of_identical_maps_without_displacement_is_minus_log_k():
    labels = torch.arange(16).view(1, 4, 4) % 4  # every cluster on 4 of the 16 pixels
    maps = F.one_hot(labels, 4).movedim(-1, 1).float()
    assert mi_loss(local_joint(maps, maps, pad=0)).item() == pytest.approx(-math.log(4), abs=1e-6)


# ---------------------------------------------------------------------------------------------
# The transformation T
# ---------------------------------------------------------------------------------------------
def test_flip_per_image_is_an_involution():
    x = torch.randn(4, 3, 6, 5)
    flips = torch.tensor([[False, False], [True, False], [False, True], [True, True]])
    y = flip(x, flips)
    torch.testing.assert_close(flip(y, flips), x, rtol=0, atol=0)
    expected = [x[0], x[1].flip(-2), x[2].flip(-1), x[3].flip(-2, -1)]
    torch.testing.assert_close(y, torch.stack(expected), rtol=0, atol=0)
    labels = torch.randint(0, 2, (4, 6, 5))  # label maps (B, H, W) too
    assert torch.equal(flip(labels, flips)[1], labels[1].flip(-2))


def test_flip_aligns_features_of_an_equivariant_map():
    conv = nn.Conv2d(1, 3, 1)  # pixel-wise, hence flip-equivariant
    x = torch.randn(6, 1, 8, 8)
    flips = random_flips(6, 0.5)
    with torch.no_grad():
        torch.testing.assert_close(flip(conv(x), flips), conv(flip(x, flips)))
    assert random_flips(5, 0.0).sum() == 0 and random_flips(5, 1.0).all()


# ---------------------------------------------------------------------------------------------
# The objective
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [16, 32, 48])
def test_objective_terms_present_and_finite(size):
    torch.manual_seed(0)
    model = build_model(2, 2, 1, "same")
    aux = GLMI.make_aux(model, _hp())
    terms = _run(model, _batch(size), _hp(), aux)
    assert set(terms) == {"ce", "gmi", "lmi", "cons"}
    assert all(t.ndim == 0 and torch.isfinite(t) for t in terms.values())
    assert terms["gmi"] <= 0 and terms["lmi"] <= 0 and terms["cons"] >= 0


def test_labels_of_unlabelled_rows_are_never_read():
    torch.manual_seed(0)
    model = build_model(2, 2, 1, "same")
    aux = GLMI.make_aux(model, _hp())
    batch = _batch()
    clean = _run(model, batch, _hp(), aux)
    garbage = batch.mask.clone(), batch.weak.clone()
    for t in garbage:
        t[~batch.is_full] = 77  # an invalid class: reading it would raise or change the loss
    dirty = _run(model, Batch(batch.image, *garbage, batch.is_full), _hp(), aux)
    assert all(torch.equal(clean[k], dirty[k]) for k in clean)


def test_gradients_reach_the_heads_and_the_network():
    torch.manual_seed(0)
    model = build_model(2, 2, 1, "same")
    aux = GLMI.make_aux(model, _hp())
    sum(_run(model, _batch(), _hp(), aux).values()).backward()
    for name, p in [*aux["iic"].named_parameters(), *model.named_parameters()]:
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    for layer in ("bottleneck", "dec2_0", "dec1_0"):
        assert aux["iic"][layer].proj.weight.grad.abs().sum() > 0, layer
    assert model.enc1[0].weight.grad.abs().sum() > 0


class _PixelNet(nn.Module):
    """Flip-equivariant stand-in for UNet2D: every output is a pixel-wise function of x."""

    def __init__(self):
        super().__init__()
        self.embed, self.classify = nn.Conv2d(1, 3, 1), nn.Conv2d(3, 2, 1)

    def feature_channels(self) -> dict[str, int]:
        return {"bottleneck": 3, "dec2_0": 3, "dec1_0": 3}

    def forward(self, x: torch.Tensor, features: bool = False):
        f = torch.tanh(self.embed(x))
        return [self.classify(f)], {"bottleneck": f, "dec2_0": f, "dec1_0": f}


def test_t_is_invisible_to_an_equivariant_network():
    # Outputs and local features of x_u are re-aligned with those of T(x_u): flipping every
    # image then changes nothing (consistency 0, same MI terms as without T).
    torch.manual_seed(0)
    model = _PixelNet()
    params = dict(n_subheads=2, n_clusters=4, local_padding=(1, 2))
    aux = GLMI.make_aux(model, _hp(GLMIParams(**params, flip_prob=0.0)))
    batch = _batch(16)
    never = _run(model, batch, _hp(GLMIParams(**params, flip_prob=0.0)), aux)
    always = _run(model, batch, _hp(GLMIParams(**params, flip_prob=1.0)), aux)
    assert always["cons"].item() == pytest.approx(0.0, abs=1e-12)
    for key in ("ce", "gmi", "lmi"):
        torch.testing.assert_close(always[key], never[key])


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------
def test_params_section_and_method_declaration():
    raw = {"n_subheads": 5, "n_clusters": 20, "local_padding": [1, 3], "flip_prob": 0.8}
    assert build(GLMIParams, raw, "glmi") == GLMIParams(5, 20, (1, 3), 0.8)
    with pytest.raises(ValueError):
        GLMIParams(5, 20, (1, 3), 1.5)
    with pytest.raises(ValueError):
        GLMIParams(5, 1, (1, 3), 0.8)
    assert GLMI.reads <= set(HYPER_KEYS) and GLMI.own_forward and GLMI.other_rows == "none"
    assert dict(GLMI.sections) == {"glmi": GLMIParams} and GLMI.outputs() == 1
