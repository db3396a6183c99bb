"""Input scans of ``mixseg segment``: finding NIfTI files, checking them from their headers
before any work is done, and reading one (a 3D volume or one frame of a 4D cine).

NIfTI files store (x, y, z[, t]); ``read_scan`` returns the project's (z, y, x) order with the
voxel size in mm. Every problem raises ``DataError`` naming the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import nibabel as nib
import numpy as np

from mixseg.data import acdc
from mixseg.data.errors import DataError
from mixseg.data.spacing import spacing_mm


@dataclasses.dataclass(frozen=True)
class Job:
    """One scan to segment, checked from its header: ``frame`` is the 1-based frame of a 4D
    cine (``None`` for a 3D volume); the outputs are ``<stem>_mask.nii.gz`` (and ``.png``)."""

    path: Path
    frame: int | None
    stem: str


def nifti_stem(path: Path) -> str | None:
    """``scan`` for ``scan.nii`` / ``scan.nii.gz`` (any case), ``None`` for other files."""
    name = path.name
    for suffix in (".nii.gz", ".nii"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def collect_inputs(inputs: Iterable[Path], skip_dir: Path | None = None) -> list[Path]:
    """Files as given; folders expanded to every NIfTI inside (recursively, sorted), except
    ground truth (``*_gt.nii[.gz]``), hidden files and anything under ``skip_dir`` (the
    output folder).
    A file named twice is kept once.

    Raises:
        DataError: a folder holds no NIfTI file.
    """
    skip = Path(skip_dir).resolve() if skip_dir is not None else None
    files: list[Path] = []
    seen: set[Path] = set()
    for item in map(Path, inputs):
        found = [item]
        if item.is_dir():
            found = sorted(
                p
                for p in item.rglob("*")
                if p.is_file()
                and not p.name.startswith(".")  # hidden: e.g. a killed run's temporary file
                and (stem := nifti_stem(p)) is not None
                and not stem.endswith("_gt")
                and (skip is None or not p.resolve().is_relative_to(skip))
            )
            if not found:
                raise DataError(item, "no NIfTI files (.nii, .nii.gz) in this folder")
        for p in found:
            if p.resolve() not in seen:
                seen.add(p.resolve())
                files.append(p)
    return files


def _open(path: Path) -> nib.Nifti1Image:
    """The image object (header read, data not yet), or DataError. The voxel size is checked
    on the raw header first (``spacing_mm``): nibabel would turn a zero size into 1 mm."""
    if nifti_stem(path) is None:
        raise DataError(path, "not a NIfTI file (expected .nii or .nii.gz)")
    if not path.is_file():
        raise DataError(path, "file not found")
    spacing_mm(path)
    try:
        img = nib.load(path)
    except Exception as exc:  # nibabel raises ImageFileError, OSError, EOFError, ValueError, ...
        raise DataError(path, f"unreadable NIfTI ({exc})") from exc
    if not isinstance(img, nib.Nifti1Image):  # Nifti2Image is a subclass
        raise DataError(path, f"not a NIfTI image ({type(img).__name__})")
    return img


def plan_job(path: Path, frame: str | int | None) -> Job:
    """Check a scan from its header (dimensionality, frame) before any work is done.

    Args:
        path: a NIfTI file.
        frame: for 4D cines: ``"ED"`` or ``"ES"`` (read from ``Info.cfg`` next to the file) or a
            1-based frame number; ignored for 3D volumes.

    Raises:
        DataError: not NIfTI or unreadable, unknown unit or zero voxel size, wrong
            dimensionality, 4D without a usable frame.
    """
    path = Path(path)
    shape = _open(path).shape
    stem = nifti_stem(path)
    if len(shape) == 3:
        return Job(path, None, stem)
    if len(shape) != 4:
        raise DataError(
            path,
            f"wrong dimensionality: {len(shape)}D image of shape {shape}, expected a 3D "
            "volume (x, y, z) or a 4D cine (x, y, z, t)",
        )
    n_frames = shape[3]
    if frame is None:
        raise DataError(path, f"4D cine of {n_frames} frames: choose one with --frame ED|ES|N")
    number = frame
    if isinstance(frame, str):
        try:
            info = acdc.read_info(path.parent)
        except DataError as exc:
            raise DataError(path, f"--frame {frame} is read from Info.cfg: {exc}") from exc
        number = info.ed if frame == "ED" else info.es
    if not 1 <= number <= n_frames:
        raise DataError(path, f"frame {number} outside 1-{n_frames} (frames are 1-based)")
    return Job(path, number, f"{stem}_frame{number:02d}")


def plan_jobs(files: Iterable[Path], frame: str | int | None) -> tuple[list[Job], list[DataError]]:
    """``plan_job`` of every file, and the errors of those that failed (including two scans
    that would write the same output name)."""
    jobs: dict[str, Job] = {}
    errors: list[DataError] = []
    for path in files:
        try:
            job = plan_job(path, frame)
        except DataError as exc:
            errors.append(exc)
            continue
        if job.stem in jobs:
            errors.append(DataError(path, f"same output name as {jobs[job.stem].path}"))
        else:
            jobs[job.stem] = job
    return list(jobs.values()), errors


def read_scan(job: Job) -> tuple[np.ndarray, tuple[float, float, float], nib.Nifti1Image]:
    """Read the data of a planned scan (the frame of a cine).

    Returns:
        image float32 (Z, Y, X), finite; voxel size (z, y, x) in mm (``spacing.spacing_mm``:
        the header's units, mm when unknown); the image object, whose header and affine the
        mask will carry.

    Raises:
        DataError: unreadable or truncated data, NaN/Inf values, a zero voxel size.
    """
    data, _, (sx, sy, sz) = acdc.load_nifti(job.path)
    img = _open(job.path)  # header only: the data were read by load_nifti
    if job.frame is not None:
        data = data[..., job.frame - 1]
    if data.ndim != 3:
        raise DataError(job.path, f"wrong dimensionality: data of shape {data.shape}")
    image = np.ascontiguousarray(data.astype(np.float32).transpose(2, 1, 0))
    if not np.isfinite(image).all():
        raise DataError(job.path, "image contains NaN or Inf values")
    return image, (sz, sy, sx), img
