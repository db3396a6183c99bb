"""Sliding-window inference: window starts, exact reconstruction with an identity network (with
and without padding, overlap or batching), multi-channel outputs, full coverage and averaging.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixseg.sliding import centre_pad, sliding_window, window_starts


def _volume(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize(
    ("size", "window", "stride", "expected"),
    [
        (88, 80, 4, [0, 4, 8]),
        (183, 112, 18, [0, 18, 36, 54, 71]),
        (80, 80, 4, [0]),
        (10, 4, 4, [0, 4, 6]),
        (12, 4, 4, [0, 4, 8]),
        (7, 4, 2, [0, 2, 3]),
    ],
)
def test_window_starts_hand_computed(size, window, stride, expected):
    assert window_starts(size, window, stride) == expected


def test_window_starts_cover_the_axis():
    rng = np.random.default_rng(1)
    for _ in range(200):
        window = int(rng.integers(1, 20))
        stride = int(rng.integers(1, window + 1))
        size = int(rng.integers(window, 80))
        starts = window_starts(size, window, stride)
        covered = np.zeros(size, bool)
        for s in starts:
            covered[s : s + window] = True
        assert covered.all()
        assert starts[0] == 0 and starts[-1] == size - window
        assert all(b > a for a, b in zip(starts, starts[1:], strict=False))


@pytest.mark.parametrize(("size", "window", "stride"), [(3, 4, 1), (5, 0, 1), (5, 2, 0)])
def test_window_starts_rejects(size, window, stride):
    with pytest.raises(ValueError):
        window_starts(size, window, stride)


@pytest.mark.parametrize(
    ("shape", "window", "stride", "batch_size"),
    [
        ((8, 12, 16), (4, 6, 8), (2, 3, 4), 1),  # divisible
        ((9, 13, 17), (4, 6, 8), (3, 5, 3), 3),  # not divisible: clamped last windows
        ((8, 12, 16), (4, 6, 8), (4, 6, 8), 2),  # stride == window: no overlap
        ((3, 13, 5), (4, 6, 8), (2, 3, 4), 4),  # smaller than the window on D and W: padding
        ((2, 3, 1), (4, 6, 8), (1, 2, 3), 1),  # smaller on every axis: a single padded window
    ],
)
def test_identity_reconstructs_exactly(shape, window, stride, batch_size):
    volume = _volume(shape)
    out = sliding_window(lambda x: x, volume, window, stride, batch_size=batch_size)
    assert out.shape == (1, *shape) and out.dtype == np.float32
    assert np.array_equal(out[0], volume)


def test_two_channels():
    volume = _volume((7, 9, 10))
    out = sliding_window(lambda x: torch.cat([x, 2 * x], 1), volume, (4, 4, 4), (2, 3, 4), 5)
    assert out.shape == (2, 7, 9, 10)
    assert np.array_equal(out[0], volume)
    assert np.array_equal(out[1], 2 * volume)


def test_every_voxel_covered():
    rng = np.random.default_rng(2)
    for _ in range(20):
        window = tuple(int(v) for v in rng.integers(1, 7, 3))
        stride = tuple(int(rng.integers(1, w + 1)) for w in window)
        shape = tuple(int(v) for v in rng.integers(1, 12, 3))
        out = sliding_window(torch.ones_like, _volume(shape), window, stride, batch_size=8)
        # A voxel no window covered would be 0 / 0 = nan.
        assert np.array_equal(out, np.ones((1, *shape), np.float32))


def test_overlaps_are_averaged():
    # W = 7, window 4, stride 2: starts 0, 2, 3. Each window outputs its first input value
    # everywhere, i.e. 0, 2 and 3 on volume [0 .. 6].
    volume = np.arange(7, dtype=np.float32).reshape(1, 1, 7)

    def first_value(x: torch.Tensor) -> torch.Tensor:
        return x[..., :1].expand_as(x).clone()

    out = sliding_window(first_value, volume, (1, 1, 4), (1, 1, 2), batch_size=2)
    expected = [0, 0, (0 + 2) / 2, (0 + 2 + 3) / 3, (2 + 3) / 2, (2 + 3) / 2, 3]
    np.testing.assert_allclose(out[0, 0, 0], expected, rtol=1e-6)


def test_padding_is_centred_zeros():
    # D = 1 with window 4: padded by 1 before and 2 after, so the window sees [0, v, 0, 0].
    seen = []

    def record(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.clone())
        return x

    volume = np.full((1, 2, 2), 5.0, np.float32)
    sliding_window(record, volume, (4, 2, 2), (1, 1, 1))
    (window,) = seen
    assert window.shape == (1, 1, 4, 2, 2)
    assert window[0, 0, :, 0, 0].tolist() == [0.0, 5.0, 0.0, 0.0]


def test_centre_pad_returns_crop():
    array = np.arange(6).reshape(2, 3)
    padded, crop = centre_pad(array, (5, 2), value=-1)
    assert padded.shape == (5, 3)
    assert (padded[0] == -1).all() and (padded[3:] == -1).all()
    assert np.array_equal(padded[crop], array)
    same, crop = centre_pad(array, (1, 1))
    assert same is array and np.array_equal(same[crop], array)


def test_runs_without_grad():
    weight = torch.ones(1, requires_grad=True)

    def forward(x: torch.Tensor) -> torch.Tensor:
        out = x * weight
        assert not out.requires_grad
        return out

    sliding_window(forward, _volume((4, 4, 4)), (2, 2, 2), (2, 2, 2))


@pytest.mark.parametrize(
    ("shape", "window", "stride", "batch_size"),
    [
        ((4, 4), (2, 2, 2), (1, 1, 1), 1),  # not 3D
        ((4, 4, 4), (2, 0, 2), (1, 1, 1), 1),  # window not positive
        ((4, 4, 4), (2, 2), (1, 1), 1),  # window not a triple
        ((4, 4, 4), (2, 2, 2), (1, -1, 1), 1),  # stride not positive
        ((4, 4, 4), (2, 2, 2), (1, 3, 1), 1),  # stride > window
        ((4, 4, 4), (2, 2, 2), (1, 1, 1), 0),  # batch size
    ],
)
def test_rejects_bad_arguments(shape, window, stride, batch_size):
    with pytest.raises(ValueError):
        sliding_window(lambda x: x, np.zeros(shape, np.float32), window, stride, batch_size)


def test_rejects_bad_forward_output():
    with pytest.raises(ValueError, match="forward must return"):
        sliding_window(lambda x: x[:, 0], _volume((4, 4, 4)), (2, 2, 2), (2, 2, 2))
