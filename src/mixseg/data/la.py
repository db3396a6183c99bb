"""Reader for the 2018 Left Atrium challenge layout (Xiong et al., MedIA 2021), real or synthetic.

Layout (the challenge's training set, and what ``synthetic_la.write_la`` writes)::

    <root>/[.../]2018LA_Seg_Training Set/<ID>/lgemri.nrrd   GE-MRI image, axes (x, y, z)
    <root>/[.../]2018LA_Seg_Training Set/<ID>/laendo.nrrd   LA mask, 0 / 255 (0 / 1 accepted)

``root`` may be the ``2018LA_Seg_Training Set`` folder itself, its parent, or its grandparent
(UA-MT keeps it under ``data/``); failing that, case folders directly under ``root`` are used.
Arrays are returned as (z, y, x), slices first like the ACDC reader, with spacing (z, y, x) in
mm read from the NRRD header by ``spacing.spacing_mm`` (``space directions`` row norms in
``space units``, else ``spacings`` in ``units``; mm when no unit is given); without either,
0.625 mm isotropic (the challenge's resolution) is assumed and a warning logged. The array is
taken in its stored index order; an oblique or permuted ``space directions`` only sets the
spacing of each array axis (UA-MT likewise ignores the orientation).

UA-MT's preprocessed ``<ID>/mri_norm2.h5`` (datasets ``image`` float32 z-scored and cropped,
``label`` {0, 1}, no spacing: 0.625 mm assumed) is read too, but only if ``h5py`` can be
imported: it is not a project requirement, so without it such a case raises ``DataError``
asking for it. Those cases come back with ``preprocessed=True``: ``prepare_la`` must not crop or
normalise them again. Every problem raises ``DataError`` naming the file.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import nrrd
import numpy as np

from mixseg.data.errors import DataError
from mixseg.data.spacing import spacing_mm

log = logging.getLogger(__name__)

TRAINING_DIR = "2018LA_Seg_Training Set"
IMAGE_FILE, LABEL_FILE, H5_FILE = "lgemri.nrrd", "laendo.nrrd", "mri_norm2.h5"
DEFAULT_SPACING_MM = 0.625


@dataclasses.dataclass(frozen=True)
class LACase:
    """One LA scan: image float32 (z, y, x), label uint8 {0, 1} (z, y, x), spacing (z, y, x) mm.

    ``label_path`` is the file the label came from (for error messages downstream);
    ``preprocessed`` is True for UA-MT's already cropped and z-scored h5 files.
    """

    case_id: str
    image: np.ndarray
    label: np.ndarray
    spacing: tuple[float, float, float]
    label_path: Path
    preprocessed: bool = False


def _is_case(folder: Path) -> bool:
    return any((folder / name).exists() for name in (IMAGE_FILE, LABEL_FILE, H5_FILE))


def find_cases(root: Path) -> list[Path]:
    """Case folders under ``root``, sorted by ID.

    Inside a ``2018LA_Seg_Training Set`` folder every visible sub-folder is a case (a folder
    without its files then fails in ``read_case``, naming the missing file); elsewhere only
    sub-folders holding ``lgemri.nrrd``, ``laendo.nrrd`` or ``mri_norm2.h5`` count.

    Raises:
        DataError: ``root`` is not a folder or holds no case folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "not a folder (expected the LA data root)")
    named = [root] if root.name == TRAINING_DIR else []
    named += [root / TRAINING_DIR, *sorted(root.glob(f"*/{TRAINING_DIR}"))]
    for base in named:
        if base.is_dir():
            found = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
            if not found:
                raise DataError(base, "no case folders inside")
            return found
    found = sorted(p for p in root.iterdir() if p.is_dir() and _is_case(p))
    if not found:
        raise DataError(
            root, f"no LA case folders (expected <root>/{TRAINING_DIR}/<ID>/{IMAGE_FILE} + "
            f"{LABEL_FILE})"
        )  # fmt: skip
    return found


def load_nrrd(path: Path) -> tuple[np.ndarray, tuple[float, ...] | None]:
    """Read a whole NRRD file: (array in (x, y, z) index order, spacing per axis or None).

    Raises:
        DataError: missing, unreadable, truncated or corrupt file, or a bad spacing field.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    try:
        data, header = nrrd.read(str(path))
    except Exception as exc:  # pynrrd raises a dozen types on damaged files, StopIteration on
        # an empty one (found by tests/unit/data/test_fuzz_readers.py): any error here is the file's
        problem = f"unreadable or truncated NRRD ({type(exc).__name__}: {exc})"
        raise DataError(path, problem) from exc
    if header.get("dimension") != data.ndim:
        raise DataError(path, f"header 'dimension' {header.get('dimension')} but {data.ndim}D data")
    return data, spacing_mm(path, header)


def _check_label(path: Path, label: np.ndarray) -> np.ndarray:
    """{0, 255} or {0, 1} -> uint8 {0, 1}."""
    values = set(np.unique(label).tolist())
    if not (values <= {0, 255} or values <= {0, 1}):
        shown = sorted(values)[:8]
        raise DataError(path, f"label values {shown} are neither a subset of {{0, 255}} nor of "
                              "{0, 1}")  # fmt: skip
    return (label > 0).astype(np.uint8)


def _finish(
    case_dir: Path, img_path: Path, lab_path: Path, image: np.ndarray, label: np.ndarray,
    spacing: tuple[float, ...], preprocessed: bool,
) -> LACase:  # fmt: skip
    """Shared checks; (x, y, z) arrays -> (z, y, x) ``LACase``."""
    if image.ndim != 3:
        raise DataError(img_path, f"expected a 3D volume (x, y, z), got shape {image.shape}")
    if label.shape != image.shape:  # either file may be the wrong one: name both
        raise DataError(lab_path, f"shape {label.shape} differs from the shape {image.shape} of "
                                  f"the image {img_path.name}")  # fmt: skip
    image = image.astype(np.float32, copy=False)
    if not np.isfinite(image).all():
        raise DataError(img_path, "image contains NaN or Inf values")
    label = _check_label(lab_path, label)
    return LACase(
        case_id=case_dir.name,
        image=np.ascontiguousarray(image.transpose(2, 1, 0)),
        label=np.ascontiguousarray(label.transpose(2, 1, 0)),
        spacing=(spacing[2], spacing[1], spacing[0]),
        label_path=lab_path,
        preprocessed=preprocessed,
    )


def _read_h5(case_dir: Path) -> LACase:
    path = case_dir / H5_FILE
    try:
        import h5py  # optional: not in requirements.txt
    except ImportError as exc:
        problem = ("UA-MT preprocessed file; reading it needs h5py, which is not installed "
                   "(pip install h5py, or use the raw NRRD files)")  # fmt: skip
        raise DataError(path, problem) from exc
    try:
        with h5py.File(path, "r") as f:
            image, label = np.asarray(f["image"][()]), np.asarray(f["label"][()])
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(path, f"unreadable UA-MT h5 (needs 'image' and 'label'): {exc}") from exc
    log.debug("%s: no spacing stored, assuming %.3f mm", path, DEFAULT_SPACING_MM)
    return _finish(case_dir, path, path, image, label, (DEFAULT_SPACING_MM,) * 3, True)


def read_case(case_dir: Path) -> LACase:
    """Read ``lgemri.nrrd`` + ``laendo.nrrd`` (or UA-MT's ``mri_norm2.h5``) and check them.

    Raises:
        DataError: a file is missing, unreadable or truncated; not 3D; image and label differ
            in shape or spacing; label values are not {0, 255} or {0, 1}; NaN/Inf in the image.
    """
    case_dir = Path(case_dir)
    img_path, lab_path = case_dir / IMAGE_FILE, case_dir / LABEL_FILE
    if not img_path.exists() and not lab_path.exists() and (case_dir / H5_FILE).exists():
        return _read_h5(case_dir)
    if not img_path.exists():
        raise DataError(img_path, f"missing image file {IMAGE_FILE}")
    if not lab_path.exists():
        raise DataError(lab_path, f"missing label file {LABEL_FILE}")
    image, img_spacing = load_nrrd(img_path)
    label, lab_spacing = load_nrrd(lab_path)
    if image.ndim != 3:
        raise DataError(img_path, f"expected a 3D volume (x, y, z), got shape {image.shape}")
    if img_spacing is not None and lab_spacing is not None:
        if not np.allclose(img_spacing, lab_spacing, rtol=1e-4, atol=1e-4):
            raise DataError(lab_path, f"spacing {lab_spacing} differs from the spacing "
                                      f"{img_spacing} of the image {img_path.name}")  # fmt: skip
    spacing = img_spacing or lab_spacing
    if spacing is None:
        log.warning("%s: no 'space directions' or 'spacings'; assuming %.3f mm isotropic",
                    img_path, DEFAULT_SPACING_MM)  # fmt: skip
        spacing = (DEFAULT_SPACING_MM,) * 3
    return _finish(case_dir, img_path, lab_path, image, label, spacing, False)
