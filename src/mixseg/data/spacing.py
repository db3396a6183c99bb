"""Voxel spacing in millimetres from an image file's own header: the one place that knows units.

Every reader (ACDC and ``mixseg segment`` for NIfTI, LA for NRRD) gets its spacing from
``spacing_mm``, so a file has one spacing whatever path reads it.

- NIfTI: ``pixdim[1:4]`` scaled by the spatial unit of ``xyzt_units`` (metre, mm, micron).
  "Unknown" (code 0) is read as mm: it is what nibabel, and many tools, write by default (the
  ACDC files and this project's test files among them), and the NIfTI-1 standard has no other
  default to offer; refusing it would refuse most real files. The header is parsed *raw*:
  ``nib.load`` replaces a zero ``pixdim`` by 1 (with a warning naming no file), which would turn
  a broken header into a 1 mm voxel; here a zero, negative-zero or non-finite size is refused.
  A negative size is read as its magnitude (as nibabel and ITK do: the sign is orientation).
- NRRD: the row norms of ``space directions`` with each world axis scaled by its
  ``space units`` entry, else ``spacings`` scaled by ``units``. Unit strings: mm (and its
  spellings), cm, m, um / micron; an empty string is unknown, read as mm like NIfTI's.

Unknown unit codes or strings are refused (``DataError`` naming the file): a spacing off by a
factor 1000 would silently resample a scan to nonsense.
"""

from __future__ import annotations

import io
from pathlib import Path

import nibabel as nib
import numpy as np

from mixseg.data.errors import DataError

# Millimetres per unit. NIfTI spatial codes (xyzt_units & 7): 0 unknown, 1 metre, 2 mm, 3 micron.
NIFTI_UNIT_MM = {0: 1.0, 1: 1000.0, 2: 1.0, 3: 0.001}
NRRD_UNIT_MM = {
    "": 1.0, "mm": 1.0, "millimeter": 1.0, "millimeters": 1.0, "millimetre": 1.0,
    "millimetres": 1.0, "cm": 10.0, "m": 1000.0, "meter": 1000.0, "meters": 1000.0,
    "metre": 1000.0, "metres": 1000.0, "um": 0.001, "µm": 0.001, "micron": 0.001,
    "microns": 0.001, "micrometer": 0.001, "micrometers": 0.001,
}  # fmt: skip


def spacing_mm(path: Path, header: bytes | dict | None = None) -> tuple[float, ...] | None:
    """Per-axis voxel size in mm of an image file, in the file's axis order (x, y, z).

    Args:
        path: a ``.nii``/``.nii.gz`` or ``.nrrd``/``.nhdr`` file (the format is told by the
            header given, else by the name), named in errors.
        header: what was already read, to avoid reading it again: a NIfTI file's first bytes
            (decompressed; at least its header) or the NRRD header dict of ``nrrd.read``.
            ``None``: read from ``path``.

    Returns:
        NIfTI: the spatial sizes (up to 3). NRRD: one size per axis, or ``None`` when the
        header has neither ``space directions`` nor ``spacings`` (the caller decides).

    Raises:
        DataError: unreadable header, unknown unit, zero or non-finite voxel size.
    """
    path = Path(path)
    if isinstance(header, dict) or (header is None and _is_nrrd(path)):
        return _nrrd_spacing(path, _read_nrrd_header(path) if header is None else header)
    return _nifti_spacing(path, _read_nifti_header(path) if header is None else header)


def _is_nrrd(path: Path) -> bool:
    return path.name.lower().endswith((".nrrd", ".nhdr"))


def _checked(path: Path, sizes: np.ndarray, where: str) -> tuple[float, ...]:
    """Magnitudes of ``sizes`` (mm), refusing zero and non-finite ones."""
    sizes = np.abs(np.asarray(sizes, dtype=np.float64))
    if not np.isfinite(sizes).all() or (sizes == 0).any():
        problem = f"non-positive or non-finite voxel size {sizes.tolist()} mm ({where})"
        raise DataError(path, f"{problem}: write the file again with its true voxel size")
    return tuple(float(s) for s in sizes)


def _read_nifti_header(path: Path) -> bytes:
    """The first 540 decompressed bytes (a NIfTI-2 header; NIfTI-1's is 348)."""
    try:
        with nib.openers.ImageOpener(path) as fh:
            return fh.read(540)
    except (OSError, EOFError) as exc:
        raise DataError(path, f"unreadable NIfTI header ({exc})") from exc


def nifti_version(raw: bytes) -> int | None:
    """1 or 2 from a NIfTI file's first 4 bytes (``sizeof_hdr`` 348 or 540, either byte
    order), ``None`` for anything else."""
    for order in ("little", "big"):
        version = {348: 1, 540: 2}.get(int.from_bytes(raw[:4], order))
        if version is not None and len(raw) >= 4:
            return version
    return None


def _nifti_spacing(path: Path, raw: bytes) -> tuple[float, ...]:
    """``pixdim[1:n]`` x unit, ``n`` = min(3, number of dimensions), from the raw header."""
    version = nifti_version(raw)
    size = {1: 348, 2: 540}.get(version, 0)
    if version is None or len(raw) < size:
        raise DataError(path, "not a NIfTI header (bad sizeof_hdr, or truncated)")
    klass = nib.Nifti1Header if version == 1 else nib.Nifti2Header
    try:  # check=False: no fix-up, the values as written
        hdr = klass.from_fileobj(io.BytesIO(raw[:size]), check=False)
        ndim, code = int(hdr["dim"][0]), int(hdr["xyzt_units"]) & 7
        pixdim = np.asarray(hdr["pixdim"][1 : 1 + min(3, max(ndim, 0))], dtype=np.float64)
    except Exception as exc:  # nibabel: HeaderDataError, ValueError, ... on a damaged header
        raise DataError(path, f"unreadable NIfTI header ({exc})") from exc
    if code not in NIFTI_UNIT_MM:
        raise DataError(path, f"unknown spatial unit code {code} in xyzt_units (NIfTI: 1 metre, "
                              "2 mm, 3 micron, 0 unknown = mm)")  # fmt: skip
    return _checked(path, pixdim * NIFTI_UNIT_MM[code], "pixdim")


def _read_nrrd_header(path: Path) -> dict:
    import nrrd

    try:
        return nrrd.read_header(str(path))
    except Exception as exc:  # pynrrd: NRRDError, ValueError, UnicodeDecodeError, ...
        raise DataError(path, f"unreadable NRRD header ({type(exc).__name__}: {exc})") from exc


def _unit_scale(path: Path, units: object, n: int, field: str) -> np.ndarray:
    """mm per unit of each of ``n`` entries of the ``field`` header list (absent: mm)."""
    if units is None:
        return np.ones(n)
    units = [str(u).strip() for u in units]
    if len(units) != n:
        raise DataError(path, f"'{field}' has {len(units)} entries, expected {n}: {units}")
    unknown = sorted({u for u in units if u.lower() not in NRRD_UNIT_MM})
    if unknown:
        raise DataError(path, f"unknown unit(s) {unknown} in '{field}' (known: mm, cm, m, um)")
    return np.array([NRRD_UNIT_MM[u.lower()] for u in units])


def _nrrd_spacing(path: Path, header: dict) -> tuple[float, ...] | None:
    """Row norms of ``space directions`` (world axes scaled to mm), else ``spacings``."""
    ndim = int(header.get("dimension", 0) or 0)
    if header.get("space directions") is not None:
        try:
            dirs = np.asarray(header["space directions"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(path, f"'space directions' is not numeric: {exc}") from exc
        if dirs.ndim != 2 or dirs.shape[0] != ndim or not np.isfinite(dirs).all():
            raise DataError(path, f"'space directions' is not one vector per axis: {dirs.tolist()}")
        scale = _unit_scale(path, header.get("space units"), dirs.shape[1], "space units")
        return _checked(path, np.linalg.norm(dirs * scale, axis=1), "space directions")
    if header.get("spacings") is not None:
        try:
            spacing = np.asarray(header["spacings"], dtype=np.float64).ravel()
        except (TypeError, ValueError) as exc:
            raise DataError(path, f"'spacings' is not numeric: {exc}") from exc
        if spacing.shape != (ndim,):
            raise DataError(path, f"'spacings' is not one number per axis: {spacing.tolist()}")
        return _checked(path, spacing * _unit_scale(path, header.get("units"), ndim, "units"),
                        "spacings")  # fmt: skip
    return None
