"""Sliding-window inference over a 3D volume (the Left-Atrium track), as UA-MT's test_single_case.

Axis order: a volume is (D, H, W); windows and strides are given in the same order. The network
sees windows as (B, 1, d, h, w) tensors and returns (B, C, d, h, w); the result is (C, D, H, W).

Axes shorter than the window are zero-padded (centred: ``pad // 2`` before, the rest after) and
cropped back at the end. Window starts along an axis are ``0, stride, 2 * stride, ...`` with the
last window clamped to end at the axis' size, so every voxel is covered; overlapping outputs are
averaged. What the outputs are (logits, softmax probabilities) is the caller's choice.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import torch

Triple = tuple[int, int, int]


def window_starts(size: int, window: int, stride: int) -> list[int]:
    """Start offsets of the windows along one axis.

    ``ceil((size - window) / stride) + 1`` windows at ``0, stride, 2 * stride, ...``, the last one
    clamped to ``size - window`` (UA-MT's ``test_single_case``).

    Args:
        size: length of the axis.
        window: window length along the axis.
        stride: step between consecutive window starts.

    Returns:
        Strictly increasing start offsets, the first 0 and the last ``size - window``.

    Raises:
        ValueError: a non-positive window or stride, or ``size < window``.
    """
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be positive, got {window} and {stride}")
    if size < window:
        raise ValueError(f"axis of size {size} is smaller than the window {window}")
    count = math.ceil((size - window) / stride) + 1
    return [min(i * stride, size - window) for i in range(count)]


def centre_pad(
    array: np.ndarray, min_shape: tuple[int, ...], value: float = 0
) -> tuple[np.ndarray, tuple[slice, ...]]:
    """Pad every axis shorter than ``min_shape`` up to it, centred as UA-MT.

    An axis short by ``pad`` gets ``pad // 2`` values before and the rest after; longer axes are
    left alone.

    Args:
        array: any array with ``len(min_shape)`` axes.
        min_shape: the minimum size of each axis.
        value: the padding value.

    Returns:
        The padded array (``array`` itself when nothing is padded) and the slices that crop it back
        to ``array``.

    Raises:
        ValueError: ``min_shape`` does not have one entry per axis.
    """
    if len(min_shape) != array.ndim:
        raise ValueError(f"min_shape {min_shape} does not match array shape {array.shape}")
    short = [max(m - n, 0) for n, m in zip(array.shape, min_shape, strict=True)]
    pads = [(p // 2, p - p // 2) for p in short]
    crop = tuple(slice(b, b + n) for (b, _), n in zip(pads, array.shape, strict=True))
    if not any(short):
        return array, crop
    return np.pad(array, pads, constant_values=value), crop


def _triple(name: str, value: Triple) -> Triple:
    if len(value) != 3 or any(int(v) < 1 for v in value):
        raise ValueError(f"{name} must be three positive ints (d, h, w), got {value}")
    return int(value[0]), int(value[1]), int(value[2])


def sliding_window(
    forward: Callable[[torch.Tensor], torch.Tensor],
    volume: np.ndarray,
    window: Triple,
    stride: Triple,
    batch_size: int = 1,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """Run ``forward`` over overlapping windows of ``volume`` and average the outputs.

    The outputs are summed into a float64 accumulator (so averaging identical values gives them
    back exactly) together with a count map; the result is ``sum / count`` in float32.

    Args:
        forward: maps float32 windows (B, 1, d, h, w) on ``device`` to (B, C, d, h, w).
        volume: float32 (D, H, W).
        window: window size (d, h, w).
        stride: window step (d, h, w), each at most the window size.
        batch_size: windows per ``forward`` call (the last call may get fewer).
        device: where the windows are sent.

    Returns:
        float32 (C, D, H, W): the average of the outputs of the windows covering each voxel.

    Raises:
        ValueError: a volume that is not 3D, a window/stride that is not three positive ints, a
            stride larger than the window, a non-positive batch size, or an output of ``forward``
            that is not (B, C, d, h, w).
    """
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3D (D, H, W), got shape {volume.shape}")
    window, stride = _triple("window", window), _triple("stride", stride)
    if any(s > w for s, w in zip(stride, window, strict=True)):
        raise ValueError(f"stride {stride} must not exceed the window {window} on any axis")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")

    padded, crop = centre_pad(np.asarray(volume, dtype=np.float32), window)
    starts = list(
        itertools.product(
            *(window_starts(n, w, s) for n, w, s in zip(padded.shape, window, stride, strict=True))
        )
    )
    d, h, w = window
    total: np.ndarray | None = None
    count = np.zeros(padded.shape, dtype=np.int64)
    with torch.no_grad():
        for first in range(0, len(starts), batch_size):
            chunk = starts[first : first + batch_size]
            tiles = np.stack([padded[z : z + d, y : y + h, x : x + w] for z, y, x in chunk])
            out = forward(torch.from_numpy(tiles)[:, None].to(device))
            if out.ndim != 5 or out.shape[0] != len(chunk) or tuple(out.shape[2:]) != window:
                raise ValueError(
                    f"forward must return (B, C, {d}, {h}, {w}) with B={len(chunk)}, "
                    f"got {tuple(out.shape)}"
                )
            out_np = out.detach().cpu().numpy().astype(np.float64)
            if total is None:
                total = np.zeros((out_np.shape[1], *padded.shape), dtype=np.float64)
            for (z, y, x), tile in zip(chunk, out_np, strict=True):
                total[:, z : z + d, y : y + h, x : x + w] += tile
                count[z : z + d, y : y + h, x : x + w] += 1
    return (total / count)[(slice(None), *crop)].astype(np.float32)
