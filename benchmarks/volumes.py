"""Benchmark inputs: canonical ACDC-like volumes and realistic predictions, made in memory.

Volumes come from the project's own synthetic generator (``mixseg.data.synthetic_acdc``) and
go through the preprocessing of a preset (``canonical.resample_inplane``), so their size,
anisotropic spacing and LV shape are what the pipeline evaluates: about 10 x 64 x 64 at
(10, 2, 2) mm for the cpu preset, 10 x 256 x 256 at (10, ~0.9, ~0.9) mm for the paper's.

A "prediction" is the ground truth perturbed as a trained network errs: slice-wise dilation or
erosion (1-2 pixels), a one-pixel shift, and a small false-positive blob far from the heart on
one slice (what makes HD95 large), all seeded.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
from scipy import ndimage

from mixseg.data.canonical import normalize_intensity, resample_inplane
from mixseg.data.synthetic_acdc import generate_patient

LV = 3


@dataclasses.dataclass(frozen=True)
class Volume:
    name: str
    image: np.ndarray  # float32 (Z, H, W)
    label: np.ndarray  # uint8 (Z, H, W) {0, 1}
    spacing: tuple[float, float, float]  # (z, y, x) mm


def canonical_volumes(
    n: int, mode: str, size: tuple[int, int], spacing_mm: float | None, seed: int = 0
) -> list[Volume]:
    """``n`` canonical volumes (ED frames of synthetic patients 1..n) at one preprocessing."""
    return list(_canonical(n, mode, tuple(size), spacing_mm, seed))


@lru_cache(maxsize=8)
def _canonical(n, mode, size, spacing_mm, seed) -> tuple[Volume, ...]:
    out = []
    for index in range(1, n + 1):
        pat = generate_patient(index, seed)
        frame = min(pat["frames"])
        image, label = pat["frames"][frame]
        # ACDC stores (x, y, z); the canonical order is (z, y, x).
        image = np.transpose(image, (2, 1, 0)).astype(np.float32)
        label = (np.transpose(label, (2, 1, 0)) == LV).astype(np.uint8)
        px, py, dz = pat["spacing"]
        image = normalize_intensity(image, (0.5, 99.5))
        image, label, spacing = resample_inplane(image, label, (dz, py, px), mode, size, spacing_mm)
        out.append(Volume(f"patient{index:03d}", image, label, spacing))
    return tuple(out)


def la_volumes(n: int, seed: int = 0, margin: int = 8) -> list[Volume]:
    """``n`` LA-like volumes as the cpu preset evaluates them: synthetic cases of the project's
    generator (``mixseg.data.synthetic_la``, 128 x 128 x 44 at 1.25 mm isotropic) cropped in
    y and x to the label's box plus ``margin`` voxels (z is never cropped), as the LA
    preprocessing does (about 44 x 70 x 70)."""
    return list(_la(n, seed, margin))


@lru_cache(maxsize=2)
def _la(n, seed, margin) -> tuple[Volume, ...]:
    from mixseg.data.synthetic_la import generate_case

    out = []
    for index in range(n):
        case = generate_case(index, seed)
        # The generator's axes are (x, y, z); the canonical order is (z, y, x).
        image = np.transpose(case["image"], (2, 1, 0)).astype(np.float32)
        label = (np.transpose(case["label"], (2, 1, 0)) > 0).astype(np.uint8)
        box = [slice(None)]
        for axis in (1, 2):
            hit = np.flatnonzero(label.any(axis=tuple(a for a in (0, 1, 2) if a != axis)))
            box.append(slice(max(hit[0] - margin, 0), min(hit[-1] + 1 + margin, label.shape[axis])))
        # Contiguous, as the preprocessed cases are when the pipeline loads them.
        image, label = (np.ascontiguousarray(a[tuple(box)]) for a in (image, label))
        s = case["spacing"]
        out.append(Volume(case["case_id"], image, label, (s[2], s[1], s[0])))
    return tuple(out)


def perturbed_prediction(label: np.ndarray, seed: int, false_positive: bool = True) -> np.ndarray:
    """A plausible network output for ground truth ``label`` (module docstring); without the
    far false-positive blob if ``false_positive`` is False (boundary errors only)."""
    rng = np.random.default_rng(seed)
    gt = label.astype(bool)
    pred = np.zeros_like(gt)
    cross = ndimage.generate_binary_structure(2, 1)
    for z, sl in enumerate(gt):
        if not sl.any():
            continue
        k = int(rng.integers(-2, 3))
        if k > 0:
            s = ndimage.binary_dilation(sl, cross, iterations=k)
        elif k < 0:
            s = ndimage.binary_erosion(sl, cross, iterations=-k)
            s = s if s.any() else sl
        else:
            s = sl
        pred[z] = np.roll(s, tuple(rng.integers(-1, 2, size=2)), axis=(0, 1))
    if not false_positive:
        return pred.astype(np.uint8)
    # A false positive far from the heart on one slice, of ~1% of the slice's width.
    z = int(rng.integers(0, gt.shape[0]))
    h, w = gt.shape[1:]
    r = max(1, w // 64)
    cy, cx = int(rng.integers(r, h // 5)), int(rng.integers(r, w // 5))
    pred[z, cy - r : cy + r + 1, cx - r : cx + r + 1] = True
    return pred.astype(np.uint8)


def synthetic_pool(n: int, size: tuple[int, int], seed: int = 0, weak: bool = False):
    """A training ``datasets.Pool`` of ``n`` random slices with disc-shaped labels (the
    throughput benchmarks only need the right shapes and dtypes, not anatomy)."""
    from mixseg.data.datasets import Pool

    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[:h, :w]
    images = rng.random((n, h, w), dtype=np.float32)
    labels = np.zeros((n, h, w), np.uint8)
    for i in range(n):
        cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
        r = rng.uniform(0.08, 0.15) * min(h, w) * (0.4 if weak else 1.0)
        labels[i] = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
    return Pool(images, labels)
