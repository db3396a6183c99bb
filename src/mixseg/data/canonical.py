"""Canonical per-case files: the contract between ``preprocess`` and everything after it.

A case file ``<case_id>.npz`` holds (axis order (z, y, x) throughout):

- ``image``: float32 (Z, H, W), intensities in [0, 1] (``normalize_intensity``), or z-scored
  for datasets whose paper protocol says so;
- ``label``: uint8 (Z, H, W), 1 = target structure (LV cavity for ACDC, LA for LA), 0 = rest;
- ``spacing``: float64 (3,), voxel size in mm of *this* grid (after resampling), (z, y, x);
- ``case_id``, ``patient_id``: strings.

Files are written to a temporary name and renamed, so a reader never sees half a case.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from scipy import ndimage

from mixseg import atomic
from mixseg.data.errors import DataError


@dataclasses.dataclass(frozen=True)
class Case:
    """One canonical case (see module docstring for the array contract)."""

    case_id: str
    patient_id: str
    image: np.ndarray
    label: np.ndarray
    spacing: tuple[float, float, float]


def save_case(path: Path, case: Case) -> None:
    """Write ``case`` atomically to ``path``."""
    atomic.save_npz(
        path,
        image=case.image.astype(np.float32, copy=False),
        label=case.label.astype(np.uint8, copy=False),
        spacing=np.asarray(case.spacing, dtype=np.float64),
        case_id=np.asarray(case.case_id),
        patient_id=np.asarray(case.patient_id),
    )


def load_case(path: Path) -> Case:
    """Read a canonical case file.

    Raises:
        DataError: the file is missing, unreadable or lacks a field.
    """
    try:
        with np.load(path) as z:
            return Case(
                case_id=str(z["case_id"]),
                patient_id=str(z["patient_id"]),
                image=z["image"],
                label=z["label"],
                spacing=tuple(float(s) for s in z["spacing"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(path, f"not a readable canonical case file ({exc})") from exc


def normalize_intensity(volume: np.ndarray, percentiles: tuple[float, float]) -> np.ndarray:
    """Clip to the volume's ``percentiles`` and scale to [0, 1] (float32).

    ``(0, 100)`` is plain min-max over the whole volume, as the paper's preprocessing does. A
    constant volume maps to zeros rather than dividing by zero.
    """
    lo, hi = np.percentile(volume, percentiles)
    if hi <= lo:
        return np.zeros_like(volume, dtype=np.float32)
    return ((np.clip(volume, lo, hi) - lo) / (hi - lo)).astype(np.float32)


def _zoom_slices(volume: np.ndarray, factors: tuple[float, float], order: int) -> np.ndarray:
    """Zoom every (y, x) slice of a (Z, Y, X) volume by ``factors`` (no zoom along z)."""
    return ndimage.zoom(volume, (1.0, *factors), order=order, mode="nearest", grid_mode=True)


def _center_crop_or_pad(volume: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crop or zero-pad the last two axes of (Z, Y, X) to ``size``."""
    out = np.zeros((volume.shape[0], *size), dtype=volume.dtype)
    src, dst = [], []
    for n_in, n_out in zip(volume.shape[1:], size, strict=True):
        if n_in >= n_out:
            start = (n_in - n_out) // 2
            src.append(slice(start, start + n_out))
            dst.append(slice(0, n_out))
        else:
            start = (n_out - n_in) // 2
            src.append(slice(0, n_in))
            dst.append(slice(start, start + n_in))
    out[:, dst[0], dst[1]] = volume[:, src[0], src[1]]
    return out


def resample_inplane(
    image: np.ndarray,
    label: np.ndarray,
    spacing: tuple[float, float, float],
    mode: str,
    size: tuple[int, int],
    spacing_mm: float | None,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """Bring (Z, Y, X) slices to the preset's in-plane grid; z is never resampled (2D model).

    Args:
        image: float32 (Z, Y, X).
        label: uint8 (Z, Y, X) binary mask.
        spacing: (z, y, x) mm of the input grid.
        mode: ``resize`` (stretch each slice to ``size``; the paper's 256x256) or ``crop``
            (resample to ``spacing_mm`` isotropic in-plane, then centre-crop/pad to ``size``).
        size: (H, W) of the output.
        spacing_mm: in-plane spacing for ``crop`` (ignored by ``resize``).

    Returns:
        image (Z, H, W) float32 (linear interpolation), label (Z, H, W) uint8 (the linearly
        interpolated mask thresholded at 0.5, smoother than nearest neighbour), spacing (z, y, x)
        of the output grid in mm.
    """
    _, ny, nx = image.shape
    if mode == "resize":
        factors = (size[0] / ny, size[1] / nx)
    elif mode == "crop":
        if spacing_mm is None or spacing_mm <= 0:
            raise ValueError("crop mode needs a positive spacing_mm")
        factors = (spacing[1] / spacing_mm, spacing[2] / spacing_mm)
    else:
        raise ValueError(f"unknown resampling mode {mode!r}")
    img = _zoom_slices(image, factors, order=1)
    lab = (_zoom_slices(label.astype(np.float32), factors, order=1) > 0.5).astype(np.uint8)
    # The exact output spacing follows from the integer output size ndimage.zoom produced.
    new_spacing = (spacing[0], spacing[1] * ny / img.shape[1], spacing[2] * nx / img.shape[2])
    if mode == "crop":
        img, lab = _center_crop_or_pad(img, size), _center_crop_or_pad(lab, size)
    return img.astype(np.float32), lab, new_spacing
