"""Networks: Table 8's parameter counts, shapes, head selection, branch independence."""

import pytest
import torch

from mixseg.models import build_model, count_parameters


@pytest.mark.parametrize("n_decoders,expected", [(1, 31_042_434), (2, 41_137_220)])
def test_unet_parameter_counts_of_table_8(n_decoders, expected):
    assert count_parameters(build_model(2, 64, n_decoders, "valid")) == expected


def test_padding_does_not_change_parameter_count():
    assert count_parameters(build_model(2, 8, 2, "same")) == count_parameters(
        build_model(2, 8, 2, "valid")
    )


@pytest.mark.parametrize("padding,size", [("valid", 192), ("same", 32), ("same", 48)])
def test_unet_logits_have_input_size(padding, size):
    model = build_model(2, 4, 2, padding).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, size, size))
    assert [o.shape for o in out] == [torch.Size([2, 2, size, size])] * 2


def test_heads_select_decoders():
    torch.manual_seed(0)
    model = build_model(2, 4, 2, "same").eval()
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        both = model(x)
        student = model(x, heads=[1])
    assert len(student) == 1 and torch.equal(student[0], both[1])
    assert not torch.equal(both[0], both[1])  # independently initialised decoders


def test_teacher_loss_leaves_student_decoder_untouched():
    model = build_model(2, 4, 2, "same")
    out = model(torch.randn(2, 1, 32, 32))
    out[0].sum().backward()
    assert all(p.grad is None for p in model.decoders[1].parameters())
    assert all(p.grad is not None for p in model.enc1.parameters())


def test_init_is_seeded():
    torch.manual_seed(3)
    a = build_model(2, 4, 1, "same").state_dict()
    torch.manual_seed(3)
    b = build_model(2, 4, 1, "same").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_vnet_shapes_and_divisibility_error():
    model = build_model(3, 4, 2).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 1, 16, 32, 48))
    assert [o.shape for o in out] == [torch.Size([1, 2, 16, 32, 48])] * 2
    with pytest.raises(ValueError, match="divisible by 16"):
        model(torch.randn(1, 1, 16, 30, 32))


def test_vnet_bottleneck_level_runs_in_float32_under_autocast():
    """Under bfloat16 autocast every convolution computes in bfloat16 but the three that touch
    the 2x2x2 bottleneck grid of a 32^3 patch (the strided one into it, its own, each decoder's
    up-convolution out of it), where oneDNN's bfloat16 conv3d gradient can be NaN; without
    autocast all is float32."""
    model = build_model(3, 4, 2).train()
    dtypes: dict[str, torch.dtype] = {}
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Conv3d | torch.nn.ConvTranspose3d):
            m.register_forward_hook(lambda m, i, o, name=name: dtypes.__setitem__(name, o.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        model(torch.randn(2, 1, 32, 32, 32))
    wide = {n for n, d in dtypes.items() if d == torch.float32}
    assert wide == {
        "down4.0",
        *(f"block5.{i}" for i in (0, 3, 6)),
        *(f"decoders.{k}.up5.0" for k in (0, 1)),
    }
    assert len(dtypes) > len(wide) and all(
        d == torch.bfloat16 for n, d in dtypes.items() if n not in wide
    )
    model(torch.randn(2, 1, 32, 32, 32))
    assert set(dtypes.values()) == {torch.float32}


def test_vnet_single_branch_matches_ua_mt_layout():
    # UA-MT's VNet(n_filters=16, batchnorm): the dual model adds exactly one more decoder.
    single = count_parameters(build_model(3, 16, 1))
    dual = count_parameters(build_model(3, 16, 2))
    decoder = count_parameters(build_model(3, 16, 2).decoders[1])
    assert dual - single == decoder


def test_bad_arguments():
    with pytest.raises(ValueError):
        build_model(4, 8, 1)
    with pytest.raises(ValueError):
        build_model(2, 8, 0, "same")
    with pytest.raises(ValueError):
        build_model(2, 8, 1, "reflect")
