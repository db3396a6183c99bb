"""The ``preprocess`` stage's library for LA: raw scans -> canonical cases + ``splits.json``.

The paper (section 4) follows UA-MT (Yu et al., 2019): "all the scans are cropped centering at
the heart region ... and normalized as zero mean and unit variance". UA-MT's
``la_heart_processing.py`` z-scores the whole volume, then crops x and y to the label's bounding
box plus random margins of 10-19 voxels (at 0.625 mm) per side, widened to at least 112 voxels;
z is never cropped. Here the same, with four deliberate differences, all for reproducibility:

- the margins come from a ``numpy.random.Generator`` seeded from (``split.seed``, a hash of the
  case ID), not from the global unseeded ``np.random``; a case's crop does not depend on which
  other cases exist;
- margins are millimetres (10-19 x 0.625 mm), converted to the scan's voxels, and the minimum
  extent is ``pre.size`` voxels *of the output grid*, so the crop has the same physical size
  at any resolution ([56, 56] at 1.25 mm = UA-MT's [112, 112] at 0.625 mm);
- a window that runs over the border is shifted inside (UA-MT clips it, losing the margin);
- ``pre.percentiles`` clip intensities before the z-score (``[0, 100]`` = UA-MT: no clipping).

Then, if ``pre.spacing_mm`` is set and differs from the scan's spacing, the crop is resampled to
that isotropic spacing (trilinear image; label linearly interpolated and thresholded at 0.5).
Volumes smaller than ``pre.size`` (the ``(y, x)`` minimum; a 3-value ``(z, y, x)`` size also
sets a z minimum) are zero-padded, centred. The crop is **not** cut down to ``pre.size``: that is
the training patch, drawn at random by the sampler (UA-MT's RandomCrop), and test volumes are
segmented whole by a sliding window, so the metric sees the whole LA. Each canonical case keeps
the spacing (z, y, x) of its grid, so metrics are in mm. Only ``pre.mode == "crop"`` has this
meaning; ``resize`` (stretching to a fixed shape) is rejected for LA.

UA-MT's preprocessed ``mri_norm2.h5`` cases (``LACase.preprocessed``) are already z-scored and
cropped: they are only resampled and padded. As in UA-MT's preprocessing
(github.com/yulequan/UA-MT), the crop uses the label, so the LA position is known even for the
partially labelled and test scans. The crop windows are written to ``crops.json`` (native voxel
indices, (z, y, x) half-open ranges) so predictions can be mapped back to the raw grid.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from mixseg import atomic
from mixseg.config import PreprocessParams, SettingsParams, SplitParams
from mixseg.data import la
from mixseg.data.canonical import Case, save_case
from mixseg.data.errors import DataError
from mixseg.data.splits import splits_meta
from mixseg.data.staging import build_dir, map_jobs

log = logging.getLogger(__name__)

UAMT_SPACING_MM = 0.625  # the voxel size UA-MT's margins (in voxels) refer to
MARGIN_VOXELS = (10, 20)  # UA-MT: np.random.randint(10, 20), i.e. 10..19


def case_rng(seed: int, case_id: str) -> np.random.Generator:
    """The crop generator of one case: from (seed, a stable hash of its ID)."""
    key = int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:8], "big")
    return np.random.default_rng(np.random.SeedSequence([seed, key]))


def crop_window(lo: int, hi: int, n: int, need: int, margins: tuple[int, int]) -> tuple[int, int]:
    """Half-open window around the box [lo, hi) of an axis of length ``n``.

    The box grows by ``margins`` (before, after) and, if still shorter than ``need``, evenly to
    ``need``; then it is shifted to lie inside [0, n) (or becomes [0, n) if it is longer).
    """
    extra = max(need - (hi - lo), 0)
    a = lo - margins[0] - extra // 2
    b = hi + margins[1] + extra - extra // 2
    if b - a >= n:
        return 0, n
    shift = max(0, -a) - max(0, b - n)
    return a + shift, b + shift


def zscore(image: np.ndarray, percentiles: tuple[float, float], path: Path) -> np.ndarray:
    """Clip to the volume's ``percentiles``, then zero mean and unit variance (float32)."""
    if tuple(percentiles) != (0.0, 100.0):
        image = np.clip(image, *np.percentile(image, percentiles))
    mean, std = float(image.mean(dtype=np.float64)), float(image.std(dtype=np.float64))
    if not std > 0:
        raise DataError(path, "constant image: cannot normalise to unit variance")
    return ((image - mean) / std).astype(np.float32)


def _pad_to(volume: np.ndarray, minimum: tuple[int, int, int]) -> np.ndarray:
    """Zero-pad (centred) each axis of (Z, Y, X) to at least ``minimum``."""
    pads = [(max(m - n, 0) // 2, max(m - n, 0) - max(m - n, 0) // 2)
            for n, m in zip(volume.shape, minimum, strict=True)]  # fmt: skip
    return np.pad(volume, pads) if any(p != (0, 0) for p in pads) else volume


def preprocess_case(
    case: la.LACase, pre: PreprocessParams, seed: int
) -> tuple[Case, dict[str, Any]]:
    """One raw case -> (canonical case, crop record). See the module docstring."""
    if pre.mode != "crop":
        raise ValueError(f"LA supports preprocess mode 'crop' only (UA-MT), got {pre.mode!r}")
    size = tuple(pre.size)
    if len(size) not in (2, 3):
        raise ValueError(f"preprocess size must be (y, x) or (z, y, x), got {size}")
    minimum = size if len(size) == 3 else (1, *size)
    out_mm = (pre.spacing_mm,) * 3 if pre.spacing_mm is not None else case.spacing
    image, label, spacing = case.image, case.label, case.spacing
    window = [[0, n] for n in image.shape]
    if not case.preprocessed:
        if not label.any():
            raise DataError(case.label_path, "empty LA label: the crop is centred on the label")
        image = zscore(image, pre.percentiles, case.label_path.with_name(la.IMAGE_FILE))
        margins = case_rng(seed, case.case_id).integers(*MARGIN_VOXELS, size=4)
        for axis in (1, 2):  # y, x; z is never cropped (UA-MT)
            idx = np.flatnonzero(label.any(axis=tuple(a for a in range(3) if a != axis)))
            pair = margins[2 * (axis - 1) : 2 * axis]  # (before, after) in 0.625 mm voxels
            m = [int(round(v * UAMT_SPACING_MM / spacing[axis])) for v in pair]
            need = math.ceil(minimum[axis] * out_mm[axis] / spacing[axis] - 1e-6)
            window[axis] = list(crop_window(int(idx[0]), int(idx[-1]) + 1, image.shape[axis],
                                            need, (m[0], m[1])))  # fmt: skip
        box = tuple(slice(a, b) for a, b in window)
        image, label = image[box], label[box]
    if pre.spacing_mm is not None and not np.allclose(spacing, pre.spacing_mm, rtol=1e-6):
        factors = tuple(s / pre.spacing_mm for s in spacing)
        shape_in = image.shape
        image = ndimage.zoom(image, factors, order=1, mode="nearest", grid_mode=True)
        lab = ndimage.zoom(label.astype(np.float32), factors, order=1, mode="nearest",
                           grid_mode=True)  # fmt: skip
        label = (lab > 0.5).astype(np.uint8)
        # The exact output spacing follows from the integer sizes ndimage.zoom produced.
        spacing = tuple(s * n / m for s, n, m in zip(spacing, shape_in, image.shape, strict=True))
    image, label = _pad_to(image, minimum), _pad_to(label, minimum)
    canonical = Case(case.case_id, case.case_id, image.astype(np.float32), label, spacing)
    record = {"window_zyx": window, "raw_spacing_zyx": list(case.spacing),
              "shape_zyx": list(image.shape), "spacing_zyx": list(spacing)}  # fmt: skip
    return canonical, record


def _la_case(args: tuple[Path, Path, PreprocessParams, int]) -> tuple[str, dict[str, Any]]:
    case_dir, cases_dir, pre, seed = args
    case, record = preprocess_case(la.read_case(case_dir), pre, seed)
    save_case(cases_dir / f"{case.case_id}.npz", case)
    return case.case_id, record


def prepare_la(
    raw_root: Path,
    out_dir: Path,
    pre: PreprocessParams,
    split: SplitParams,
    settings: SettingsParams,
    workers: int = 1,
) -> dict[str, Any]:
    """Preprocess every LA case under ``raw_root`` into ``out_dir`` (one case per patient).

    Writes ``out_dir/cases/<ID>.npz``, ``out_dir/crops.json`` and ``out_dir/splits.json`` (the
    contract of ``prepare.prepare_acdc``: patient id = case ID, group ``"LA"``, a seeded
    train/val/test split, labelling order and Set-N settings; UA-MT's ``train.list`` /
    ``test.list`` are not used). The directory is built under a temporary name and renamed.

    Returns:
        The content of ``splits.json``.

    Raises:
        DataError: any raw file is bad (the message names it); nothing is left in ``out_dir``.
        ValueError: ``pre`` is not usable for LA (mode other than ``crop``, bad size).
    """
    case_dirs = la.find_cases(raw_root)

    def fill(tmp: Path) -> dict[str, Any]:
        (tmp / "cases").mkdir()
        jobs = [(d, tmp / "cases", pre, split.seed) for d in case_dirs]
        results = map_jobs(_la_case, jobs, workers)
        records = {cid: {"group": "LA", "cases": [cid]} for cid, _ in results}
        meta = splits_meta("la", records, split, settings)
        atomic.write_json(tmp / "crops.json", dict(results))
        atomic.write_json(tmp / "splits.json", meta)
        return meta

    meta = build_dir(out_dir, fill)
    log.info("preprocessed %d LA cases", len(meta["patients"]))
    return meta
