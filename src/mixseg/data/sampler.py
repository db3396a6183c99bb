"""The mixed-batch sampler of a run: one interface, ``batch(step)``, for 2D slices and 3D patches.

A run builds its sampler once (``build_sampler``) from the volumes it trains on; the training loop
then asks for ``batch(step)`` without knowing whether the network sees slices of a stacked slice
pool (``datasets.make_batch``, ACDC) or random patches of whole volumes (``patches.make_batch3d``,
Left Atrium). Both are pure functions of (seed, step), so a resumed run sees exactly the batches
of an uninterrupted one and no sampler state is checkpointed.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

from mixseg.data.batch import Batch
from mixseg.data.datasets import Pool, make_batch, stack_pool
from mixseg.data.patches import VolumePool, make_batch3d

Volumes = tuple[list[np.ndarray], list[np.ndarray]]  # (images, targets), one (Z, H, W) per case


class Sampler(Protocol):
    """What the training loop needs of a sampler."""

    full: Pool | VolumePool  # the fully labelled images (their number sets an epoch)
    other: Pool | VolumePool | None  # the other rows' images, if the method has any
    batch_full: int
    batch_other: int  # 0 without ``other``

    def batch(self, step: int) -> Batch: ...


@dataclasses.dataclass(frozen=True)
class SliceSampler:
    """2D: ``batch_full`` slices of ``full``, then ``batch_other`` of ``other``."""

    full: Pool
    other: Pool | None
    seed: int
    batch_full: int
    batch_other: int

    def batch(self, step: int) -> Batch:
        return make_batch(step, self.seed, self.full, self.other, self.batch_full, self.batch_other)


@dataclasses.dataclass(frozen=True)
class PatchSampler:
    """3D: random ``patch``-sized crops of ``batch_full`` volumes of ``full``, then of
    ``batch_other`` volumes of ``other``."""

    full: VolumePool
    other: VolumePool | None
    seed: int
    batch_full: int
    batch_other: int
    patch: tuple[int, int, int]

    def batch(self, step: int) -> Batch:
        return make_batch3d(
            step, self.seed, self.full, self.other, self.batch_full, self.batch_other, self.patch
        )


def build_sampler(
    dims: int,
    full: Volumes,
    other: Volumes | None,
    *,
    seed: int,
    batch_full: int,
    batch_other: int,
    patch: tuple[int, int, int] | None,
) -> SliceSampler | PatchSampler:
    """The sampler of a ``dims``-D network over ``full`` and ``other`` volumes.

    Args:
        batch_other: rows of ``other`` per batch (forced to 0 without ``other``).
        patch: the 3D patch size (d, h, w); unused in 2D.

    Raises:
        ValueError: a 3D sampler without ``patch``, or ``dims`` not 2 or 3.
    """
    batch_other = batch_other if other is not None else 0
    if dims == 2:
        pools = stack_pool(*full), None if other is None else stack_pool(*other)
        return SliceSampler(*pools, seed, batch_full, batch_other)
    if dims != 3:
        raise ValueError(f"dims must be 2 or 3, got {dims}")
    if patch is None:
        raise ValueError("3D training needs a patch size: set train.patch and train.stride")
    pools = VolumePool(*full), None if other is None else VolumePool(*other)
    return PatchSampler(*pools, seed, batch_full, batch_other, tuple(patch))
