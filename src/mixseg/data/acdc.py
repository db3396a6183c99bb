"""Reader for the ACDC distribution format (Bernard et al., TMI 2018).

Layout (the official archive, and what ``synthetic_acdc.write_acdc`` writes)::

    <root>/[database/]training/patient001/Info.cfg
    <root>/.../patient001/patient001_frame01.nii.gz       image, axes (x, y, z)
    <root>/.../patient001/patient001_frame01_gt.nii.gz    labels 0 bg, 1 RV, 2 MYO, 3 LV cavity
    <root>/.../patient001/patient001_frameYY[_gt].nii.gz  YY = ES frame from Info.cfg
    <root>/.../patient001/patient001_4d.nii.gz            (ignored)

The ED and ES frame numbers are read from ``Info.cfg``: ED is not always frame 01 on the real
data (patient090 is frame04). Arrays are returned as (z, y, x) with spacing (z, y, x) in mm,
read from the NIfTI header by ``spacing.spacing_mm`` (units honoured, never assumed). Every
problem raises ``DataError`` naming the file.
"""

from __future__ import annotations

import dataclasses
import gzip
import re
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

from mixseg.data.errors import DataError
from mixseg.data.spacing import nifti_version, spacing_mm

ACDC_LABELS = frozenset({0, 1, 2, 3})
LV_LABEL = 3
INFO_KEYS = ("ED", "ES", "Group", "Height", "NbFrame", "Weight")
_PATIENT_RE = re.compile(r"^patient\d{3}$")
GZIP_MAGIC = b"\x1f\x8b"


@dataclasses.dataclass(frozen=True)
class PatientInfo:
    """The contents of one ``Info.cfg``."""

    patient_id: str
    ed: int
    es: int
    group: str


@dataclasses.dataclass(frozen=True)
class Frame:
    """One annotated frame: image float32 (z, y, x), labels uint8 (z, y, x), spacing (z, y, x)
    in mm."""

    case_id: str
    image: np.ndarray
    label: np.ndarray
    spacing: tuple[float, float, float]


def find_patients(root: Path) -> list[Path]:
    """Patient folders under ``root``, sorted by id.

    Searches ``root``, ``root/training`` and ``root/database/training`` (the official archive's
    top folder), so a user may point at any of them. The ``testing`` patients are not used: the
    paper splits the 100 training exams.

    Raises:
        DataError: no ``patientXXX`` folder with an ``Info.cfg`` exists there.
    """
    root = Path(root)
    for base in (root / "database" / "training", root / "training", root):
        if base.is_dir():
            found = sorted(p for p in base.iterdir() if p.is_dir() and _PATIENT_RE.match(p.name))
            if found:
                return found
    raise DataError(root, "no patientXXX folders found (expected <root>/training/patientXXX/)")


def read_info(patient_dir: Path) -> PatientInfo:
    """Parse ``Info.cfg`` (``Key: value`` lines).

    Raises:
        DataError: the file is missing, a line is malformed, or ED/ES are missing, not integers
            or below 1.
    """
    path = Path(patient_dir) / "Info.cfg"
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise DataError(path, "missing Info.cfg") from exc
    except UnicodeDecodeError as exc:
        raise DataError(path, "not a text file") from exc
    fields: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise DataError(path, f"line {lineno} is not 'Key: value': {line!r}")
        fields[key.strip()] = value.strip()
    for key in ("ED", "ES"):
        if key not in fields:
            raise DataError(path, f"no {key} entry (ED and ES frame numbers are required)")
    try:
        ed, es = int(float(fields["ED"])), int(float(fields["ES"]))
    except (ValueError, OverflowError) as exc:  # "x", "nan"; "inf", "1e999"
        raise DataError(
            path, f"ED/ES are not integers: {fields['ED']!r}, {fields['ES']!r}"
        ) from exc
    if min(ed, es) < 1:
        raise DataError(path, f"ED/ES frame numbers start at 1, got ED {ed}, ES {es}")
    return PatientInfo(Path(patient_dir).name, ed, es, fields.get("Group", "unknown"))


def read_nifti_bytes(path: Path) -> bytes:
    """The whole file, decompressed if it is gzip (told by its magic bytes, not its name).

    Decompressing everything here (instead of letting nibabel read what it needs) makes gzip
    check its CRC and length trailer: a truncated or bit-flipped ``.nii.gz`` is refused instead
    of giving a silently wrong image.

    Raises:
        DataError: missing or unreadable file, truncated or corrupt gzip stream.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == GZIP_MAGIC else raw
    except EOFError as exc:
        raise DataError(path, f"truncated gzip stream ({exc})") from exc
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(path, f"corrupt gzip stream ({exc})") from exc


def load_nifti(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """Read a NIfTI-1 or -2 file fully: (data array as stored, affine, spatial voxel size in mm).

    The voxel size comes from ``spacing.spacing_mm`` (units honoured, raw header checked).

    Raises:
        DataError: missing, unreadable, truncated or corrupt file, data shorter than the header
            says, unknown unit or a zero voxel size.
    """
    path = Path(path)
    raw = read_nifti_bytes(path)
    spacing = spacing_mm(path, raw)  # first: nibabel would replace a zero pixdim by 1
    klass = nib.Nifti2Image if nifti_version(raw) == 2 else nib.Nifti1Image
    try:
        img = klass.from_bytes(raw)
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel: ImageFileError, HeaderDataError, ValueError, ...
        raise DataError(path, f"unreadable or truncated NIfTI ({exc})") from exc
    return data, img.affine, spacing


def read_frame(patient_dir: Path, frame: int) -> Frame:
    """Read image and ground truth of one frame and check they agree.

    Raises:
        DataError: a file is missing or unreadable, not 3D, image and labels differ in shape or
            affine, labels hold values outside {0, 1, 2, 3}, or the image has NaN/Inf.
    """
    patient_dir = Path(patient_dir)
    case_id = f"{patient_dir.name}_frame{frame:02d}"
    img_path = patient_dir / f"{case_id}.nii.gz"
    gt_path = patient_dir / f"{case_id}_gt.nii.gz"
    if not gt_path.exists():  # or a wrong frame number: name where it comes from
        raise DataError(gt_path, f"missing ground-truth file of frame {frame} (ED/ES frames are "
                                 "read from Info.cfg)")  # fmt: skip
    image, img_affine, zooms = load_nifti(img_path)
    label, gt_affine, _ = load_nifti(gt_path)
    if image.ndim != 3:
        raise DataError(img_path, f"expected a 3D volume (x, y, z), got shape {image.shape}")
    # Either file may be the wrong one: the message names both.
    if label.shape != image.shape:
        raise DataError(gt_path, f"shape {label.shape} differs from the shape {image.shape} of "
                                 f"its image {img_path.name}")  # fmt: skip
    if not np.allclose(img_affine, gt_affine, atol=1e-3):
        raise DataError(gt_path, f"affine differs from the affine of its image {img_path.name}")
    image = image.astype(np.float32, copy=False)
    if not np.isfinite(image).all():
        raise DataError(img_path, "image contains NaN or Inf values")
    if not np.array_equal(label, np.round(label)):
        raise DataError(gt_path, "labels are not integers")
    values = set(np.unique(label).astype(int).tolist())
    if not values <= ACDC_LABELS:
        raise DataError(gt_path, f"unexpected label values {sorted(values - ACDC_LABELS)}")
    # nibabel gives (x, y, z); the project's axis order is (z, y, x).
    return Frame(
        case_id=case_id,
        image=np.ascontiguousarray(image.transpose(2, 1, 0)),
        label=np.ascontiguousarray(label.astype(np.uint8).transpose(2, 1, 0)),
        spacing=(zooms[2], zooms[1], zooms[0]),
    )


def read_patient(patient_dir: Path) -> tuple[PatientInfo, list[Frame]]:
    """Read ``Info.cfg`` and the ED and ES frames of one patient."""
    info = read_info(patient_dir)
    frames = [read_frame(patient_dir, f) for f in sorted({info.ed, info.es})]
    return info, frames
