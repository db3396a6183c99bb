"""``train.forward_rows``: a batch of fully labelled rows + other rows, in one pass or two."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from mixseg import runs
from mixseg.config import ConfigError
from mixseg.data.batch import IGNORE, Batch
from mixseg.methods import get_method
from mixseg.methods.base import HyperParams, KDParams
from mixseg.models import build_model
from mixseg.train import forward_rows


class BNOnly(nn.Module):
    """A one-output 'network' that is only a BatchNorm: what it returns for a row depends on
    the other rows of its pass through the batch statistics alone."""

    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.bn(x)]


def _batch(n_full: int = 2, n_other: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_full + n_other, 1, 16, 16, generator=g)
    is_full = torch.zeros(n_full + n_other, dtype=torch.bool)
    is_full[:n_full] = True
    return x, is_full


def test_split_normalises_full_rows_by_their_own_statistics():
    x, is_full = _batch()
    shifted = x.clone()
    shifted[2:] = 10 * shifted[2:] + 5  # other rows of a very different distribution
    net = BNOnly().train()
    split_a = forward_rows(net, x, is_full, "split")[0]
    split_b = forward_rows(net, shifted, is_full, "split")[0]
    assert torch.equal(split_a[:2], split_b[:2])
    # by hand: each full row minus the mean of the two full rows, over their (biased) std
    f = x[:2]
    expected = (f - f.mean()) / torch.sqrt(f.var(unbiased=False) + net.bn.eps)
    torch.testing.assert_close(split_a[:2], expected)
    joint_a = forward_rows(net, x, is_full, "joint")[0]
    joint_b = forward_rows(net, shifted, is_full, "joint")[0]
    assert not torch.allclose(joint_a[:2], joint_b[:2])


def test_split_is_two_passes_and_joint_is_one():
    x, is_full = _batch()
    torch.manual_seed(0)
    net = build_model(dims=2, base=2, n_decoders=2, padding="same").train()
    ref = copy.deepcopy(net)
    torch.manual_seed(1)  # the same dropout masks for both (UNet's enc4 has dropout)
    got = forward_rows(net, x, is_full, "split")
    torch.manual_seed(1)
    want = [torch.cat(p) for p in zip(ref(x[:2]), ref(x[2:]), strict=True)]
    assert len(got) == 2
    for g, w in zip(got, want, strict=True):
        assert torch.equal(g, w)
    ref = copy.deepcopy(net)
    torch.manual_seed(1)
    got = forward_rows(net, x, is_full, "joint")
    torch.manual_seed(1)
    for g, w in zip(got, ref(x), strict=True):
        assert torch.equal(g, w)


@pytest.mark.parametrize("mode", ["split", "joint", None])
def test_one_group_is_one_pass(mode):
    x, _ = _batch()
    torch.manual_seed(0)
    net = build_model(dims=2, base=2, n_decoders=1, padding="same").train()
    ref = copy.deepcopy(net)
    for is_full in (torch.ones(5, dtype=torch.bool), torch.zeros(5, dtype=torch.bool)):
        torch.manual_seed(1)
        got = forward_rows(net, x, is_full, mode)[0]
        torch.manual_seed(1)
        assert torch.equal(got, ref(x)[0])


def test_rows_with_zero_loss_weight_leave_the_gradient_unchanged():
    """With ``split``, the gradient of the loss on the fully labelled rows is exactly the one
    the fully labelled rows alone give (the Lower bound's); with ``joint`` it is not."""
    x, is_full = _batch(n_full=2, n_other=4)
    mask = (x[:2, 0] > 0).long()
    torch.manual_seed(0)
    net = build_model(dims=2, base=2, n_decoders=1, padding="same").train()

    def grads(mode: str | None, inputs: torch.Tensor, rows: torch.Tensor) -> list[torch.Tensor]:
        model = copy.deepcopy(net)
        torch.manual_seed(1)  # the same dropout masks for the fully labelled rows
        logits = forward_rows(model, inputs, rows, mode)[0][:2]
        nn.functional.cross_entropy(logits, mask).backward()
        return [p.grad.clone() for p in model.parameters()]

    alone = grads(None, x[:2], is_full[:2])
    split = grads("split", x, is_full)
    joint = grads("joint", x, is_full)
    assert all(torch.equal(a, s) for a, s in zip(alone, split, strict=True))
    assert not all(torch.allclose(a, j) for a, j in zip(alone, joint, strict=True))


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("grad_heads", [(None, (1,)), ((0,), (1,))])
def test_grad_heads_change_no_number_and_skip_the_zero_backward(dims, grad_heads):
    """A dual-branch objective that reads the teacher (0) on the fully labelled rows only and
    the student (1) on the other rows gets the same logits, running statistics and
    gradients when the decoders it does not differentiate on a group run without autograd;
    those logits then carry no graph."""
    g = torch.Generator().manual_seed(0)
    shape = (6, 1, 16, 16) if dims == 2 else (6, 1, 16, 16, 16)
    x, is_full = torch.randn(*shape, generator=g), torch.arange(6) < 2
    mask = (x[:, 0] > 0).long()
    torch.manual_seed(0)
    net = build_model(dims=dims, base=2, n_decoders=2, padding="same").train()

    def run(heads):
        model = copy.deepcopy(net)
        torch.manual_seed(1)  # the same dropout masks
        logits = forward_rows(model, x, is_full, "split", heads)
        loss = nn.functional.cross_entropy(logits[0][:2], mask[:2])
        loss = loss + nn.functional.cross_entropy(logits[1][2:], mask[2:])
        loss.backward()
        stats = [b.clone() for b in model.buffers()]
        return logits, [p.grad for p in model.parameters()], stats

    want, want_grads, want_stats = run((None, None))
    got, got_grads, got_stats = run(grad_heads)
    for a, b in zip(want, got, strict=True):
        assert torch.equal(a.detach(), b.detach())
    assert all(torch.equal(a, b) for a, b in zip(want_stats, got_stats, strict=True))
    for a, b in zip(want_grads, got_grads, strict=True):
        assert (a is None) == (b is None) and (a is None or torch.equal(a, b))
    # the skipped backward: a graph-free decoder output on the rows it does not learn from
    teacher_other = copy.deepcopy(net)(x[2:], no_grad=[0])[0]
    assert teacher_other.grad_fn is None and not teacher_other.requires_grad


@pytest.mark.parametrize("name", ["decoupled", "kl", "kl_ent"])
@pytest.mark.parametrize("detach_teacher", [True, False])
@pytest.mark.parametrize("entropy_on", ["partial", "all"])
@pytest.mark.parametrize("idle", ["run", "skip"])
def test_dual_objectives_differentiate_only_their_grad_heads(
    name, detach_teacher, entropy_on, idle
):
    """Each dual-branch method's own objective, whatever its Eq. 3 / Eq. 4 options, gives the
    same loss and gradients with the method's ``full_heads``/``other_heads`` as with every
    decoder differentiated everywhere: it never differentiates, nor with ``idle: skip`` reads
    (NaN logits would make the loss NaN), what they leave out. (The 2D decoders draw no
    dropout, so skipping one changes no other number of the step.)"""
    method = get_method(name)
    assert method.other_heads == (1,)  # the teacher learns from the fully labelled rows only
    x, is_full = _batch(n_full=2, n_other=4)
    mask = torch.where(is_full[:, None, None], (x[:, 0] > 0).long(), IGNORE)
    weak = torch.full_like(mask, IGNORE)
    weak[2:, 6:9, 6:9] = 1
    batch = Batch(x, mask, weak, is_full)
    hp = HyperParams(
        lambda_w=0.5,
        lambda_kd=2.0,
        lambda_ent=3.0,
        divergence="kl",
        kd=KDParams(True, 1.0, "teacher_student", detach_teacher),
        entropy_on=entropy_on,
    )
    torch.manual_seed(0)
    net = build_model(dims=2, base=2, n_decoders=2, padding="same").train()

    def grads(heads, idle="run"):
        model = copy.deepcopy(net)
        torch.manual_seed(1)
        logits = forward_rows(model, x, is_full, "split", heads, idle)
        loss = sum(method.objective(logits, batch, hp, None).values())
        loss.backward()
        return loss, [p.grad for p in model.parameters()]

    want_loss, want = grads((None, None))
    got_loss, got = grads((method.full_heads, method.other_heads), idle)
    assert torch.equal(want_loss, got_loss)
    for a, b in zip(want, got, strict=True):
        assert (a is None) == (b is None) and (a is None or torch.equal(a, b))


@pytest.mark.parametrize("dims", [2, 3])
def test_skipped_decoders_do_not_run_on_the_rows_they_do_not_learn_from(dims):
    """``idle: skip``: the teacher (0) does not run on the other rows: its logits there are NaN
    and its running statistics are those of the fully labelled rows alone; the student (1),
    read on both groups, is as with ``run`` (in 2D, where the decoders draw no dropout)."""
    g = torch.Generator().manual_seed(0)
    shape = (5, 1, 16, 16) if dims == 2 else (5, 1, 16, 16, 16)
    x, is_full = torch.randn(*shape, generator=g), torch.arange(5) < 2
    torch.manual_seed(0)
    net = build_model(dims=dims, base=2, n_decoders=2, padding="same").train()
    skip, run, alone = copy.deepcopy(net), copy.deepcopy(net), copy.deepcopy(net)
    torch.manual_seed(1)
    got = forward_rows(skip, x, is_full, "split", (None, (1,)), "skip")
    torch.manual_seed(1)
    want = forward_rows(run, x, is_full, "split", (None, (1,)), "run")
    assert torch.isnan(got[0][2:]).all() and not torch.isnan(got[0][:2]).any()
    torch.manual_seed(1)
    alone(x[:2])  # every decoder on the fully labelled rows only
    stats = dict(skip.decoders[0].named_buffers())
    for k, v in alone.decoders[0].named_buffers():
        assert torch.equal(stats[k], v), k
    assert not all(
        torch.equal(a, b)
        for a, b in zip(run.decoders[0].buffers(), skip.decoders[0].buffers(), strict=True)
    )
    if dims == 2:
        assert torch.equal(got[1], want[1]) and torch.equal(got[0][:2], want[0][:2])
    with pytest.raises(ValueError, match="idle"):
        forward_rows(net, x, is_full, "split", (None, (1,)), "maybe")


def test_only_methods_with_idle_decoders_read_idle_decoders():
    for name in ("decoupled", "kl", "kl_ent"):
        assert "idle_decoders" in get_method(name).params_read
    for name in ("lower", "upper", "single", "single_ent", "uamt", "proposals", "glmi"):
        assert "idle_decoders" not in get_method(name).params_read
    params = {"mixed_forward": "split", "lambda_w": 0.1, "idle_decoders": "skip"}
    assert runs.resolve_hyper(params, get_method("decoupled"), {}).idle_decoders == "skip"
    assert runs.resolve_hyper(params, get_method("single"), {}).idle_decoders is None
    with pytest.raises(ConfigError, match="idle_decoders must be"):
        runs.resolve_hyper(dict(params, idle_decoders="no"), get_method("decoupled"), {})
    with pytest.raises(ValueError, match="idle_decoders"):
        runs.resolve_hyper(params, get_method("single"), {"idle_decoders": "run"})


def test_full_rows_must_come_first():
    x, is_full = _batch()
    net = BNOnly().train()
    with pytest.raises(ValueError, match="first"):
        forward_rows(net, x, is_full.flip(0), "split")


def test_only_mixed_batches_through_the_loop_depend_on_mixed_forward():
    assert "mixed_forward" not in get_method("lower").params_read  # one row group
    assert "mixed_forward" not in get_method("glmi").params_read  # runs its own forward
    for name in ("single", "decoupled", "kl_ent", "uamt", "proposals"):
        assert "mixed_forward" in get_method(name).params_read
    assert "mixed_forward" in runs.inherited_keys(get_method("kl_ent"), {})


def test_resolve_reads_and_checks_mixed_forward():
    params = {"mixed_forward": "split", "lambda_w": 0.1}
    hp = runs.resolve_hyper(params, get_method("single"), {})
    assert hp.mixed_forward == "split"
    assert runs.resolve_hyper(params, get_method("lower"), {}).mixed_forward is None
    with pytest.raises(ConfigError, match="mixed_forward"):
        runs.resolve_hyper({**params, "mixed_forward": "both"}, get_method("single"), {})
