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

``forward(x, features=True)`` also returns intermediate features for GLMI's mutual-information
heads (Peng et al. 2021; reference §3.2), sizes given for ``padding="same"`` and an H x W input:

- ``bottleneck``: the centre's second conv-BN-ReLU, before its up-convolution: 16·base channels
  at H/16 (GLMI's ``Conv5``).
- ``dec2_<i>``: decoder i's ``dec2`` block after its two conv-BN-ReLU, before its
  up-convolution: 2·base channels at H/2 (GLMI's ``Up_conv3``).
- ``dec1_<i>``: decoder i's ``dec1`` output, the input of the 1x1 classifier: base channels
  at H (GLMI's ``Up_conv2``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
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

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(output, features before the up-convolution: cmid channels at the input size)."""
        *convs, up = self
        for layer in convs:
            x = layer(x)
        return up(x), x


def _resize(x: torch.Tensor, size: torch.Size) -> torch.Tensor:
    if x.shape[2:] == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


Resize = Callable[[torch.Tensor, torch.Size], torch.Tensor]


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

    def forward(
        self, centre: torch.Tensor, skips: list[torch.Tensor], resize: Resize = _resize
    ) -> torch.Tensor:
        return self.forward_features(centre, skips, resize)[0]

    def forward_features(
        self, centre: torch.Tensor, skips: list[torch.Tensor], resize: Resize = _resize
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(logits, {"dec2": dec2's features before its up-convolution, "dec1": dec1's output}).

        ``resize(skip, size)`` brings each encoder skip to the decoder's size (bilinear; a
        benchmark passes a caching one to time sharing it between decoders).
        """
        e1, e2, e3, e4 = skips
        d = self.dec4(torch.cat([centre, resize(e4, centre.shape[2:])], 1))
        d = self.dec3(torch.cat([d, resize(e3, d.shape[2:])], 1))
        d, dec2 = self.dec2.forward_features(torch.cat([d, resize(e2, d.shape[2:])], 1))
        dec1 = self.dec1(torch.cat([d, resize(e1, d.shape[2:])], 1))
        return self.final(dec1), {"dec2": dec2, "dec1": dec1}


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
        self.base = base
        self.n_decoders = n_decoders
        self.enc1 = EncoderBlock(in_channels, b, pad)
        self.enc2 = EncoderBlock(b, 2 * b, pad)
        self.enc3 = EncoderBlock(2 * b, 4 * b, pad)
        self.enc4 = EncoderBlock(4 * b, 8 * b, pad, dropout=dropout)
        self.center = DecoderBlock(8 * b, 16 * b, 8 * b, pad)
        self.decoders = nn.ModuleList(Decoder(b, num_classes, pad) for _ in range(n_decoders))

    def feature_channels(self) -> dict[str, int]:
        """Channels of each tensor of ``forward(x, features=True)``, by key."""
        chans = {"bottleneck": 16 * self.base}
        for i in range(self.n_decoders):
            chans |= {f"dec2_{i}": 2 * self.base, f"dec1_{i}": self.base}
        return chans

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """The shared part, run once for every decoder: (centre output, bottleneck features,
        encoder skips [e1, e2, e3, e4])."""
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        e4 = self.enc4(e3)
        centre, bottleneck = self.center.forward_features(e4)
        return centre, bottleneck, [e1, e2, e3, e4]

    def forward(
        self,
        x: torch.Tensor,
        heads: list[int] | tuple[int, ...] | None = None,
        features: bool = False,
        no_grad: Collection[int] = (),
    ) -> list[torch.Tensor] | tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
        """Logits (B, C, H, W) at the input size, one tensor per requested decoder; the
        decoders in ``no_grad`` run without autograd.

        With ``features=True``: ``(logits, feats)``, ``feats`` holding ``bottleneck`` and, per
        requested decoder i, ``dec2_<i>`` and ``dec1_<i>`` (module docstring).
        """
        centre, bottleneck, skips = self.encode(x)
        idx = range(self.n_decoders) if heads is None else heads
        logits, feats = [], {"bottleneck": bottleneck}
        for i in idx:
            with torch.no_grad() if i in no_grad else contextlib.nullcontext():
                out, dec = self.decoders[i].forward_features(centre, skips)
            logits.append(_resize(out, x.shape[2:]))
            feats.update({f"{name}_{i}": f for name, f in dec.items()})
        return (logits, feats) if features else logits
