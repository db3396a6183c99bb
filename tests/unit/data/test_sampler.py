"""data.sampler: one ``batch(step)`` interface over the 2D and 3D mixed-batch samplers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixseg.data import datasets, patches
from mixseg.data.sampler import PatchSampler, SliceSampler, build_sampler


def _volumes(n: int, shape: tuple[int, int, int], seed: int):
    rng = np.random.default_rng(seed)
    images = [rng.random(shape, dtype=np.float32) for _ in range(n)]
    return images, [(im > 0.5).astype(np.uint8) for im in images]


def _same(a, b) -> bool:
    pairs = zip(a.__dict__.values(), b.__dict__.values(), strict=True)
    return all(torch.equal(x, y) for x, y in pairs)


def test_2d_sampler_gives_the_slice_batches():
    full, other = _volumes(2, (3, 8, 8), 0), _volumes(3, (2, 8, 8), 1)
    s = build_sampler(2, full, other, seed=4, batch_full=2, batch_other=3, patch=None)
    assert isinstance(s, SliceSampler) and (len(s.full), len(s.other)) == (6, 6)
    for step in (0, 5):
        expected = datasets.make_batch(step, 4, s.full, s.other, 2, 3)
        assert _same(s.batch(step), expected)


def test_3d_sampler_gives_the_patch_batches():
    full, other = _volumes(2, (8, 10, 12), 0), _volumes(2, (9, 10, 12), 1)
    s = build_sampler(3, full, other, seed=1, batch_full=2, batch_other=1, patch=(4, 4, 4))
    assert isinstance(s, PatchSampler)
    expected = patches.make_batch3d(3, 1, s.full, s.other, 2, 1, (4, 4, 4))
    assert _same(s.batch(3), expected) and s.batch(3).image.shape == (3, 1, 4, 4, 4)


def test_no_other_rows_and_bad_arguments():
    full = _volumes(1, (2, 8, 8), 0)
    s = build_sampler(2, full, None, seed=0, batch_full=2, batch_other=4, patch=None)
    assert s.batch_other == 0 and bool(s.batch(0).is_full.all())
    with pytest.raises(ValueError, match="patch"):
        build_sampler(3, full, None, seed=0, batch_full=1, batch_other=0, patch=None)
    with pytest.raises(ValueError, match="dims"):
        build_sampler(4, full, None, seed=0, batch_full=1, batch_other=0, patch=None)
