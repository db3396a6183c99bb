"""2D UNet with a shared encoder and ``n`` identical decoders (the paper's ``UNet_Mixed``).

The layout is the official code's (``UNet_Base.py`` of ConfKD/MSL), which is what gives Table 8's
parameter counts at base 64: 31,042,434 with one decoder and 41,137,220 with two.

- Encoder block: [conv3x3 (bias) - BN - ReLU] x 2, (dropout), 2x2 max-pool. The *pooled* output
  feeds both the next block and the skip connection.
- Centre (shared): [conv - BN - ReLU] x 2 at 16·base channels, then a 2x2 transposed convolution
  back to 8·base: the branches split after this first up-convolution.
- Each decoder: three blocks [conv - BN - ReLU] x 2 + transposed conv, then [conv - BN - ReLU] x 2
  and a 1x1 classifier. The encoder feature is resized bilinearly to the decoder's size before
  concatenation, and the logits are resized bilinearly to the input size.

``padding="valid"`` is the official unpadded network (256² input -> 68² logits, upsampled);
``padding="same"`` pads every 3x3 convolution, so all sizes line up (inputs divisible by 16) and
no resize is needed: the cheaper choice at CPU scale, same parameter count.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn


def _conv_bn_relu(cin: int, cout: int, pad: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=pad), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class EncoderBlock(nn.Sequential):
    def __init__(self, cin: int, cout: int, pad: int, dropout: float = 0.0):
        layers = _conv_bn_relu(cin, cout, pad) + _conv_bn_relu(cout, cout, pad)
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.MaxPool2d(2, 2))
        super().__init__(*layers)


class DecoderBlock(nn.Sequential):
    def __init__(self, cin: int, cmid: int, cout: int, pad: int):
        super().__init__(
            *_conv_bn_relu(cin, cmid, pad),
            *_conv_bn_relu(cmid, cmid, pad),
            nn.ConvTranspose2d(cmid, cout, 2, stride=2),
        )


def _resize(x: torch.Tensor, size: torch.Size) -> torch.Tensor:
    if x.shape[2:] == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class Decoder(nn.Module):
    """One branch: from the centre's output and the encoder skips to class logits."""

    def __init__(self, base: int, num_classes: int, pad: int):
        super().__init__()
        b = base
        self.dec4 = DecoderBlock(16 * b, 8 * b, 4 * b, pad)
        self.dec3 = DecoderBlock(8 * b, 4 * b, 2 * b, pad)
        self.dec2 = DecoderBlock(4 * b, 2 * b, b, pad)
        self.dec1 = nn.Sequential(*_conv_bn_relu(2 * b, b, pad), *_conv_bn_relu(b, b, pad))
        self.final = nn.Conv2d(b, num_classes, 1)

    def forward(self, centre: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        e1, e2, e3, e4 = skips
        d = self.dec4(torch.cat([centre, _resize(e4, centre.shape[2:])], 1))
        d = self.dec3(torch.cat([d, _resize(e3, d.shape[2:])], 1))
        d = self.dec2(torch.cat([d, _resize(e2, d.shape[2:])], 1))
        d = self.dec1(torch.cat([d, _resize(e1, d.shape[2:])], 1))
        return self.final(d)


class UNet2D(nn.Module):
    """Shared encoder + centre, ``n_decoders`` decoders (0 = teacher, 1 = student)."""

    def __init__(
        self,
        base: int = 64,
        n_decoders: int = 1,
        padding: Literal["valid", "same"] = "valid",
        num_classes: int = 2,
        in_channels: int = 1,
        dropout: float = 0.5,
    ):
        super().__init__()
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        if n_decoders < 1:
            raise ValueError(f"n_decoders must be >= 1, got {n_decoders}")
        pad = 1 if padding == "same" else 0
        b = base
        self.n_decoders = n_decoders
        self.enc1 = EncoderBlock(in_channels, b, pad)
        self.enc2 = EncoderBlock(b, 2 * b, pad)
        self.enc3 = EncoderBlock(2 * b, 4 * b, pad)
        self.enc4 = EncoderBlock(4 * b, 8 * b, pad, dropout=dropout)
        self.center = DecoderBlock(8 * b, 16 * b, 8 * b, pad)
        self.decoders = nn.ModuleList(Decoder(b, num_classes, pad) for _ in range(n_decoders))

    def forward(self, x: torch.Tensor, heads: list[int] | tuple[int, ...] | None = None):
        """Logits (B, C, H, W) at the input size, one tensor per requested decoder."""
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        e4 = self.enc4(e3)
        centre = self.center(e4)
        skips = [e1, e2, e3, e4]
        idx = range(self.n_decoders) if heads is None else heads
        return [_resize(self.decoders[i](centre, skips), x.shape[2:]) for i in idx]
