"""Partial labels by iterative erosion (paper section 4; Kervadec et al. 2019).

The paper: "eroding iteratively the full pixel-wise masks with a kernel of size 10 x 10, until the
smallest possible contour is obtained". What the code it points to (SizeLoss_WSS
``gen_weak.py::erosion_strat``) really does, per 2D slice::

    for it in 10, 9, ..., 1:
        eroded = binary_erosion(mask, full 3x3 structure, iterations=it)   # border_value = 0
        if eroded.any(): return eroded
    return mask                      # even one erosion empties it: keep the original mask

i.e. up to ``iterations`` erosions by a 3x3 square (a 21x21 square for 10), backing off until the
result is non-empty. ``erode_to_core`` implements exactly that, computed incrementally (erode one
step at a time and keep the last non-empty result: identical output, one pass instead of up to
ten). Options (``presets.<p>.<ds>.weak``):

- ``iterations``: the maximum number of erosions (10 in the paper at 256x256 pixels);
- ``connectivity``: scipy's connectivity of the 3x3(x3) structuring element, from 1 (the
  cross: 4-neighbourhood in 2D, 6 in 3D) to the number of dimensions (the full square or cube:
  8-neighbourhood in 2D, 26 in 3D); in 3D, 2 is the 18-neighbourhood (the cube without its
  corners). The reference code's full square is ``connectivity = ndim``: 2 for ACDC, and its
  3D analogue, the full cube, 3 for LA (the cube is what "a kernel of size 10 x 10" extends to
  in 3D; the 18-neighbourhood is neither the paper's square nor a ball, see the README);
- ``per_object``: erode every connected object separately, so each object keeps a core (the
  reference erodes the whole slice at once, which can erase a small second object).

**Which pixels count as labelled**: only the eroded foreground core, labelled as the target class.
No background pixel is ever labelled (the reference code's partial labels mark LV pixels only), so
the partial cross-entropy of Eq. 2 sees foreground only. A weak label is therefore always inside
its ground truth, and non-empty wherever the ground truth (slice, object) is non-empty.

For 2D datasets (ACDC) the erosion runs per (y, x) slice; for 3D datasets (LA) on the volume
with the 3D structure of the given connectivity. Connected objects (``per_object``) are always
found with the full neighbourhood (``connectivity = ndim``), whatever the erosion's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from mixseg import atomic
from mixseg.data.canonical import load_case


def _structure(ndim: int, connectivity: int) -> np.ndarray:
    """The 3x3(x3) structuring element whose elements lie at most ``connectivity`` unit steps
    from the centre: 1 = cross, ``ndim`` = full square/cube (scipy's convention).

    Raises:
        ValueError: ``connectivity`` outside 1..ndim (scipy would silently clamp it).
    """
    if not 1 <= connectivity <= ndim:
        raise ValueError(
            f"connectivity must be 1 (cross) to {ndim} (full) for a {ndim}D mask, "
            f"got {connectivity}"
        )
    return ndimage.generate_binary_structure(ndim, connectivity)


def _core(mask: np.ndarray, iterations: int, structure: np.ndarray) -> np.ndarray:
    """Most eroded non-empty version of ``mask`` within ``iterations`` erosions (or ``mask``)."""
    current = mask
    for _ in range(iterations):
        nxt = ndimage.binary_erosion(current, structure=structure)
        if not nxt.any():
            break
        current = nxt
    return current


def erode_to_core(
    mask: np.ndarray, iterations: int, connectivity: int | None = None, per_object: bool = True
) -> np.ndarray:
    """Partial label of one binary mask (2D slice or 3D volume).

    Args:
        mask: boolean or {0, 1} array, 2D or 3D.
        iterations: maximum number of erosions, ≥ 0 (0 returns the mask itself).
        connectivity: 1 (cross) to ``mask.ndim`` (full 3x3 square / 3x3x3 cube, the
            reference code's structure and the default); 2 in 3D is the 18-neighbourhood.
        per_object: erode each connected object (full connectivity) separately.

    Returns:
        Boolean array of ``mask``'s shape, a subset of ``mask``, non-empty on every non-empty
        object (``per_object``) or wherever ``mask`` is non-empty.

    Raises:
        ValueError: negative ``iterations``, bad ``connectivity`` or a mask that is not 2D/3D.
    """
    mask = np.asarray(mask) != 0
    if mask.ndim not in (2, 3):
        raise ValueError(f"mask must be 2D or 3D, got shape {mask.shape}")
    if iterations < 0:
        raise ValueError(f"iterations must be ≥ 0, got {iterations}")
    full = mask.ndim
    structure = _structure(mask.ndim, full if connectivity is None else connectivity)
    if not mask.any():
        return mask.copy()
    if not per_object:
        return _core(mask, iterations, structure)
    objects, n = ndimage.label(mask, structure=_structure(mask.ndim, full))
    out = np.zeros_like(mask)
    for k, box in enumerate(ndimage.find_objects(objects), start=1):
        # Pad the object's box by one voxel: erosion uses border_value 0, so padding with 0
        # keeps the result identical to eroding the object inside the whole image.
        obj = np.pad(objects[box] == k, 1)
        core = _core(obj, iterations, structure)[(slice(1, -1),) * mask.ndim]
        out[box] |= core
    assert n == 0 or out.any()
    return out


def weak_label_slices(
    label: np.ndarray, iterations: int, connectivity: int, per_object: bool
) -> np.ndarray:
    """Partial labels of a (Z, H, W) label volume, slice by slice (2D datasets). uint8 {0, 1}."""
    return np.stack([erode_to_core(s, iterations, connectivity, per_object) for s in label]).astype(
        np.uint8
    )


def weak_label_volume(
    label: np.ndarray, iterations: int, connectivity: int, per_object: bool
) -> np.ndarray:
    """Partial labels of a (Z, Y, X) label volume in 3D (3D datasets). uint8 {0, 1}."""
    return erode_to_core(label, iterations, connectivity, per_object).astype(np.uint8)


def write_weak_labels(
    cases_dir: Path,
    case_ids: list[str],
    out_dir: Path,
    dims: int,
    iterations: int,
    connectivity: int,
    per_object: bool,
) -> int:
    """Erode the labels of ``case_ids`` into ``out_dir/<case_id>.npz`` (key ``weak``, uint8).

    The directory is built under a temporary name and renamed at the end.

    Args:
        dims: 2 (slice-wise erosion, ACDC) or 3 (volumetric erosion, LA).

    Returns:
        The number of labelled (weak) voxels written, for the log.
    """
    erode = {2: weak_label_slices, 3: weak_label_volume}[dims]
    out_dir = Path(out_dir)
    total = 0
    with atomic.directory(out_dir) as tmp:
        for cid in case_ids:
            case = load_case(Path(cases_dir) / f"{cid}.npz")
            weak = erode(case.label, iterations, connectivity, per_object)
            total += int(weak.sum())
            atomic.save_npz(tmp / f"{cid}.npz", weak=weak)
    return total
