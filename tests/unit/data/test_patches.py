"""3D mixed-batch sampler: shapes and dtypes, determinism in (seed, step), padding values, patches
are true sub-volumes, full rows first, fully supervised batches (``other=None``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from mixseg.data.batch import IGNORE
from mixseg.data.patches import VolumePool, make_batch3d, random_patch

PATCH = (4, 5, 6)


def _pool(shapes: list[tuple[int, int, int]], partial: bool, seed: int) -> VolumePool:
    rng = np.random.default_rng(seed)
    images = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    if partial:  # labelled foreground 1, the rest IGNORE
        labels = [np.where(rng.random(s) < 0.3, 1, IGNORE).astype(np.uint8) for s in shapes]
    else:
        labels = [(rng.random(s) < 0.5).astype(np.uint8) for s in shapes]
    return VolumePool(images, labels)


FULL = _pool([(8, 9, 10), (6, 7, 12), (5, 5, 6)], partial=False, seed=0)
OTHER = _pool([(9, 8, 7), (4, 6, 6)], partial=True, seed=1)


def _batch(step: int = 0, seed: int = 0, other: VolumePool | None = OTHER):
    return make_batch3d(step, seed, FULL, other, batch_full=2, batch_other=3, patch=PATCH)


def _offsets(volume: np.ndarray, patch: np.ndarray) -> list[tuple[int, ...]]:
    ranges = [range(n - p + 1) for n, p in zip(volume.shape, patch.shape, strict=True)]
    return [
        o
        for o in itertools.product(*ranges)
        if np.array_equal(
            volume[tuple(slice(s, s + p) for s, p in zip(o, patch.shape, strict=True))], patch
        )
    ]


def test_shapes_and_dtypes():
    b = _batch()
    assert b.image.shape == (5, 1, *PATCH) and b.image.dtype == torch.float32
    assert b.mask.shape == b.weak.shape == (5, *PATCH)
    assert b.mask.dtype == b.weak.dtype == torch.int64
    assert b.is_full.dtype == torch.bool


def test_full_rows_first_and_label_roles():
    b = _batch()
    assert b.is_full.tolist() == [True, True, False, False, False]
    assert set(b.mask[:2].unique().tolist()) <= {0, 1}
    assert (b.weak[:2] == IGNORE).all()
    assert (b.mask[2:] == IGNORE).all()
    assert set(b.weak[2:].unique().tolist()) <= {1, IGNORE}


def test_same_step_same_batch_other_step_differs():
    a, b = _batch(step=7), _batch(step=7)
    for x, y in zip((a.image, a.mask, a.weak), (b.image, b.mask, b.weak), strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a.image, _batch(step=8).image)
    assert not torch.equal(a.image, _batch(step=7, seed=1).image)


def test_other_none_gives_a_fully_supervised_batch():
    b = _batch(other=None)
    assert b.image.shape == (2, 1, *PATCH)
    assert b.is_full.all()
    assert (b.weak == IGNORE).all()


def test_patch_is_a_sub_volume():
    image = np.arange(7 * 8 * 9, dtype=np.float32).reshape(7, 8, 9)
    label = (np.arange(image.size) % 251).astype(np.uint8).reshape(image.shape)
    for row in range(5):
        img, lab = random_patch(image, label, PATCH, np.random.default_rng(row))
        assert img.shape == lab.shape == PATCH
        (offset,) = _offsets(image, img)  # unique values: exactly one matching offset
        crop = tuple(slice(s, s + p) for s, p in zip(offset, PATCH, strict=True))
        assert np.array_equal(lab, label[crop])


def test_batch_rows_are_sub_volumes_of_the_pools():
    b = _batch(step=3)
    for row in range(5):
        pool = FULL if row < 2 else OTHER
        patch = b.image[row, 0].numpy()
        assert any(_offsets(v, patch) for v in pool.images)  # every volume is >= PATCH


def test_small_volume_is_padded():
    image = np.ones((2, 5, 3), np.float32)  # D and W shorter than the patch (4, 5, 6)
    full = VolumePool([image], [np.ones(image.shape, np.uint8)])
    other = VolumePool([image], [np.ones(image.shape, np.uint8)])
    b = make_batch3d(0, 0, full, other, batch_full=1, batch_other=1, patch=PATCH)
    # Centred padding: D 2 -> 4 is (1, 1), W 3 -> 6 is (1, 2); H is not padded.
    inside = (slice(1, 3), slice(None), slice(1, 4))
    pad = np.ones(PATCH, bool)
    pad[inside] = False
    img = b.image[:, 0].numpy()
    assert (img[:, ~pad] == 1).all() and (img[:, pad] == 0).all()
    assert (b.mask[0].numpy()[~pad] == 1).all() and (b.mask[0].numpy()[pad] == 0).all()
    assert (b.weak[1].numpy()[~pad] == 1).all() and (b.weak[1].numpy()[pad] == IGNORE).all()


def test_random_patch_of_exact_size_is_the_volume():
    image = np.arange(np.prod(PATCH), dtype=np.float32).reshape(PATCH)
    img, lab = random_patch(image, image.astype(np.uint8), PATCH, np.random.default_rng(0))
    assert np.array_equal(img, image) and np.array_equal(lab, image.astype(np.uint8))


def test_rejects_bad_inputs():
    with pytest.raises(ValueError):
        VolumePool([np.zeros((2, 2, 2), np.float32)], [])
    with pytest.raises(ValueError):
        VolumePool([np.zeros((2, 2, 2), np.float32)], [np.zeros((2, 2, 3), np.uint8)])
    with pytest.raises(ValueError):
        random_patch(np.zeros((4, 4)), np.zeros((4, 4)), (2, 2, 2), np.random.default_rng(0))
    with pytest.raises(ValueError):
        random_patch(np.zeros((4,) * 3), np.zeros((4,) * 3), (2, 0, 2), np.random.default_rng(0))
    with pytest.raises(ValueError):
        make_batch3d(0, 0, FULL, OTHER, batch_full=0, batch_other=1, patch=PATCH)
    with pytest.raises(ValueError):
        make_batch3d(0, 0, VolumePool([], []), None, batch_full=1, batch_other=0, patch=PATCH)
    with pytest.raises(ValueError):
        make_batch3d(0, 0, FULL, VolumePool([], []), batch_full=1, batch_other=1, patch=PATCH)
