"""Networks: ``build_model`` gives the 2D UNet (ACDC) or the 3D VNet (Left Atrium), each with a
shared encoder and ``n_decoders`` decoders (1 = single branch, 2 = teacher/student), or
``n_networks`` separate single-decoder networks (``CoNets``, co-training)."""

from __future__ import annotations

from torch import nn

from mixseg.models.conets import CoNets
from mixseg.models.unet import UNet2D
from mixseg.models.vnet import VNet3D

__all__ = ["CoNets", "UNet2D", "VNet3D", "build_model", "count_parameters", "init_weights"]


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (what Table 8 counts; BN running statistics are buffers)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def init_weights(module: nn.Module) -> None:
    """The official initialisation (``weights_init`` of the reference script): xavier-normal
    weights for every (transposed) convolution, zero bias for convolutions (transposed ones keep
    PyTorch's default bias, as there), BN weight ~ N(1, 0.02) and zero bias."""
    if isinstance(module, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        nn.init.xavier_normal_(module.weight)
        if isinstance(module, (nn.Conv2d, nn.Conv3d)) and module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm3d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build_model(
    dims: int,
    base: int,
    n_decoders: int,
    padding: str = "same",
    num_classes: int = 2,
    dropout: float = 0.5,
    n_networks: int = 1,
) -> nn.Module:
    """``dims=2``: ``UNet2D``; ``dims=3``: ``VNet3D`` (always padded; ``padding`` ignored).
    ``n_networks > 1``: that many single-decoder networks in a ``CoNets`` (``n_decoders`` must
    then be 1).

    Weights are initialised with ``init_weights`` from the current torch RNG state, so a seeded
    caller gets the same network every time.
    """
    if n_networks > 1:
        if n_decoders != 1:
            raise ValueError("co-trained networks have one decoder each")
        return CoNets(
            [build_model(dims, base, 1, padding, num_classes, dropout) for _ in range(n_networks)]
        )
    if dims == 2:
        model = UNet2D(base, n_decoders, padding, num_classes, dropout=dropout)
    elif dims == 3:
        model = VNet3D(base, n_decoders, num_classes, dropout=dropout)
    else:
        raise ValueError(f"dims must be 2 or 3, got {dims}")
    model.apply(init_weights)
    return model
