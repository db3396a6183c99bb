"""The 3D mixed-batch sampler (Left-Atrium track): random patches of whole volumes.

The 3D counterpart of ``datasets.make_batch`` and, like it, a *pure function of (seed, step)*: the
volumes of a step are chosen by the same index logic (``_full_indices``, ``_weak_indices``) and the
patch position of batch row ``r`` comes from ``np.random.default_rng([seed, 2, step, r])``, so a
resumed run sees exactly the batches an uninterrupted run would.

No augmentation: there is no RandomRotFlip (or any other transform); a patch is a plain random
crop of the volume, zero-padded first on axes shorter than the patch.

Axis order: volumes and patches are (D, H, W); batch images (B, 1, D, H, W), label maps
(B, D, H, W).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from mixseg.data.batch import IGNORE, Batch
from mixseg.data.datasets import _full_indices, _weak_indices
from mixseg.sliding import centre_pad


@dataclasses.dataclass(frozen=True)
class VolumePool:
    """Whole training volumes; shapes may differ between volumes but not within a pair.

    Attributes:
        images: float32 (D, H, W) per volume.
        labels: uint8 (D, H, W) per volume: {0, 1} for full masks and pseudo masks; partial
            labels already encoded as 1 (labelled foreground) / ``IGNORE``; all ``IGNORE`` for
            unlabelled volumes.

    Raises:
        ValueError: different numbers of images and labels, or an image and its label that are
            not 3D arrays of the same shape.
    """

    images: list[np.ndarray]
    labels: list[np.ndarray]

    def __post_init__(self) -> None:
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        for i, (image, label) in enumerate(zip(self.images, self.labels, strict=True)):
            if image.ndim != 3 or image.shape != label.shape:
                raise ValueError(
                    f"volume {i}: image {image.shape} and label {label.shape} must be the same 3D"
                    " shape"
                )

    def __len__(self) -> int:
        return len(self.images)


def random_patch(
    image: np.ndarray,
    label: np.ndarray,
    patch: tuple[int, int, int],
    rng: np.random.Generator,
    pad_label: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A uniformly random crop of exactly ``patch`` from an image and its label.

    Axes shorter than the patch are first padded (centred, as UA-MT) with zeros in the image and
    ``pad_label`` in the label.

    Args:
        image: (D, H, W).
        label: (D, H, W), same shape as ``image``.
        patch: patch size (d, h, w).
        rng: draws the crop offset, one integer per axis (D, then H, then W).
        pad_label: label value of padded voxels.

    Returns:
        (image patch, label patch), both of shape ``patch`` (views of the inputs when nothing
        had to be padded).

    Raises:
        ValueError: ``image`` and ``label`` are not 3D arrays of the same shape, or ``patch`` is
            not three positive ints.
    """
    if image.ndim != 3 or image.shape != label.shape:
        raise ValueError(f"image {image.shape} and label {label.shape} must be the same 3D shape")
    if len(patch) != 3 or any(p < 1 for p in patch):
        raise ValueError(f"patch must be three positive ints (d, h, w), got {patch}")
    image, _ = centre_pad(image, patch, 0)
    label, _ = centre_pad(label, patch, pad_label)
    starts = [int(rng.integers(0, n - p + 1)) for n, p in zip(image.shape, patch, strict=True)]
    crop = tuple(slice(s, s + p) for s, p in zip(starts, patch, strict=True))
    return image[crop], label[crop]


def make_batch3d(
    step: int,
    seed: int,
    full: VolumePool,
    other: VolumePool | None,
    batch_full: int,
    batch_other: int,
    patch: tuple[int, int, int],
) -> Batch:
    """The batch of ``step``: ``batch_full`` fully labelled patches, then ``batch_other`` others.

    Full rows: ``mask`` is the ground truth (padded with 0), ``weak`` is ``IGNORE``. Other rows
    (partial labels, pseudo masks or unlabelled volumes): ``mask`` is ``IGNORE``, ``weak`` the
    stored label values (padded with ``IGNORE``: padding is unlabelled). Nothing is augmented.

    Args:
        step: 0-based optimiser step.
        seed: run seed.
        full: fully labelled volumes.
        other: the other volumes, or None for a fully supervised batch.
        batch_full: fully labelled rows (at least 1).
        batch_other: other rows (ignored when ``other`` is None).
        patch: patch size (d, h, w).

    Returns:
        A ``Batch`` with image float32 (B, 1, d, h, w), mask and weak int64 (B, d, h, w), and
        ``is_full`` True on the first ``batch_full`` rows.

    Raises:
        ValueError: ``batch_full < 1``, ``batch_other < 0``, an empty pool that must supply rows,
            or a bad patch (see ``random_patch``).
    """
    if batch_full < 1 or batch_other < 0:
        raise ValueError(
            f"need batch_full >= 1 and batch_other >= 0, got {batch_full}, {batch_other}"
        )
    if len(full) == 0:
        raise ValueError("the fully labelled pool is empty")
    rows = [(full, int(i), 0) for i in _full_indices(step, seed, len(full), batch_full)]
    if other is not None and batch_other > 0:
        if len(other) == 0:
            raise ValueError(f"batch_other={batch_other} but the other pool is empty")
        rows += [
            (other, int(i), IGNORE) for i in _weak_indices(step, seed, len(other), batch_other)
        ]
    images, labels = [], []
    for row, (pool, index, pad_label) in enumerate(rows):
        rng = np.random.default_rng([seed, 2, step, row])
        image, label = random_patch(pool.images[index], pool.labels[index], patch, rng, pad_label)
        images.append(image.astype(np.float32, copy=False))
        labels.append(label.astype(np.int64))
    label = np.stack(labels)
    is_full = np.arange(len(rows)) < batch_full
    ignore = np.full_like(label, IGNORE)
    return Batch(
        image=torch.from_numpy(np.stack(images))[:, None],
        mask=torch.from_numpy(np.where(is_full[:, None, None, None], label, ignore)),
        weak=torch.from_numpy(np.where(is_full[:, None, None, None], ignore, label)),
        is_full=torch.from_numpy(is_full),
    )
