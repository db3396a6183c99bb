"""3D VNet with a shared encoder and ``n`` identical decoders, for the Left-Atrium track.

The single-branch network is UA-MT's ``VNet`` (Yu et al. 2019; ``n_filters=16``, batch norm):
stages of [conv3x3x3 - BN - ReLU] (1, 2, 3, 3, 3 convolutions), 2x2x2 strided convolutions down,
2x2x2 transposed convolutions up, additive skips, dropout (p=0.5) on the bottleneck and before the
1x1x1 classifier. As for the 2D UNet, the encoder down to the bottleneck block is shared and each
branch starts with its own first up-convolution. Inputs must be divisible by 16 in every axis.

Under autocast (``train.precision: mixed``) the bottleneck level, the strided convolution into
it, its convolutions and each decoder's first up-convolution out of it, runs in float32: at the
cpu preset's 32^3 patches that grid is 2x2x2, where oneDNN's bfloat16 Conv3d returns a NaN
weight gradient from finite inputs now and then (README "Performance"); it is 1/512 of the
input's voxels, so float32 there costs little. Without autocast nothing changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection

import torch
from torch import nn


def _float32(x: torch.Tensor) -> torch.autocast:
    """Autocast off: the bottleneck level runs in float32 (module docstring)."""
    return torch.autocast(x.device.type, enabled=False)


def _stage(n_convs: int, cin: int, cout: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(n_convs):
        layers += [
            nn.Conv3d(cin if i == 0 else cout, cout, 3, padding=1),
            nn.BatchNorm3d(cout),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*layers)


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 2, stride=2), nn.BatchNorm3d(cout), nn.ReLU(inplace=True)
    )


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose3d(cin, cout, 2, stride=2), nn.BatchNorm3d(cout), nn.ReLU(inplace=True)
    )


class VDecoder(nn.Module):
    def __init__(self, n: int, num_classes: int, dropout: float):
        super().__init__()
        self.up5, self.block6 = _up(16 * n, 8 * n), _stage(3, 8 * n, 8 * n)
        self.up6, self.block7 = _up(8 * n, 4 * n), _stage(3, 4 * n, 4 * n)
        self.up7, self.block8 = _up(4 * n, 2 * n), _stage(2, 2 * n, 2 * n)
        self.up8, self.block9 = _up(2 * n, n), _stage(1, n, n)
        self.dropout = nn.Dropout3d(dropout) if dropout else nn.Identity()
        self.out = nn.Conv3d(n, num_classes, 1)

    def forward(self, x5: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        x1, x2, x3, x4 = skips
        with _float32(x5):  # reads the bottleneck grid (module docstring)
            up = self.up5(x5.float())
        x = self.block6(up + x4)
        x = self.block7(self.up6(x) + x3)
        x = self.block8(self.up7(x) + x2)
        x = self.block9(self.up8(x) + x1)
        return self.out(self.dropout(x))


class VNet3D(nn.Module):
    """Shared VNet encoder, ``n_decoders`` decoders (0 = teacher, 1 = student)."""

    def __init__(
        self,
        base: int = 16,
        n_decoders: int = 1,
        num_classes: int = 2,
        in_channels: int = 1,
        dropout: float = 0.5,
    ):
        super().__init__()
        if n_decoders < 1:
            raise ValueError(f"n_decoders must be >= 1, got {n_decoders}")
        n = base
        self.n_decoders = n_decoders
        self.block1, self.down1 = _stage(1, in_channels, n), _down(n, 2 * n)
        self.block2, self.down2 = _stage(2, 2 * n, 2 * n), _down(2 * n, 4 * n)
        self.block3, self.down3 = _stage(3, 4 * n, 4 * n), _down(4 * n, 8 * n)
        self.block4, self.down4 = _stage(3, 8 * n, 8 * n), _down(8 * n, 16 * n)
        self.block5 = _stage(3, 16 * n, 16 * n)
        self.dropout = nn.Dropout3d(dropout) if dropout else nn.Identity()
        self.decoders = nn.ModuleList(VDecoder(n, num_classes, dropout) for _ in range(n_decoders))

    def forward(
        self,
        x: torch.Tensor,
        heads: list[int] | tuple[int, ...] | None = None,
        no_grad: Collection[int] = (),
    ):
        """Logits (B, C, D, H, W), one tensor per requested decoder; the decoders in
        ``no_grad`` run without autograd."""
        if any(s % 16 for s in x.shape[2:]):
            raise ValueError(f"VNet3D needs input sizes divisible by 16, got {tuple(x.shape[2:])}")
        x1 = self.block1(x)
        x2 = self.block2(self.down1(x1))
        x3 = self.block3(self.down2(x2))
        x4 = self.block4(self.down3(x3))
        with _float32(x4):
            x5 = self.dropout(self.block5(self.down4(x4.float())))
        idx = range(self.n_decoders) if heads is None else heads
        out = []
        for i in idx:
            with torch.no_grad() if i in no_grad else contextlib.nullcontext():
                out.append(self.decoders[i](x5, [x1, x2, x3, x4]))
        return out
