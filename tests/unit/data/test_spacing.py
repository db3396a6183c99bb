"""Voxel spacing in mm: one function for every reader, units honoured, raw header checked.

Every file below stores the same 1.5 x 2 x 10 mm voxel in another unit, so each reader must
return (1.5, 2, 10) mm (x, y, z) or refuse the file naming it.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import nibabel as nib
import nrrd
import numpy as np
import pytest

from mixseg import scans
from mixseg.data import acdc, la
from mixseg.data.errors import DataError
from mixseg.data.spacing import spacing_mm

MM = (1.5, 2.0, 10.0)


def write_nifti(path: Path, unit: str | int, scale: float) -> Path:
    """A (4, 5, 6) volume of voxel ``MM / scale`` in ``unit`` (a nibabel name or a raw code):
    ``scale`` is mm per unit."""
    img = nib.Nifti1Image(np.arange(120, dtype=np.int16).reshape(4, 5, 6),
                          np.diag([*(m / scale for m in MM), 1.0]))  # fmt: skip
    if isinstance(unit, str):
        img.header.set_xyzt_units(xyz=unit)
    else:
        img.header["xyzt_units"] = unit
    nib.save(img, path)
    return path


@pytest.mark.parametrize(
    "unit, scale", [("mm", 1.0), ("unknown", 1.0), ("meter", 1e3), ("micron", 1e-3)]
)
def test_nifti_units_give_the_same_mm_on_every_path(tmp_path, unit, scale):
    path = write_nifti(tmp_path / "s.nii.gz", unit, scale)
    assert spacing_mm(path) == pytest.approx(MM)
    assert acdc.load_nifti(path)[2] == pytest.approx(MM)  # the ACDC reader
    _, zyx, _ = scans.read_scan(scans.plan_job(path, None))  # mixseg segment
    assert zyx == pytest.approx(MM[::-1])


def test_nifti_unknown_unit_code_is_refused(tmp_path):
    path = write_nifti(tmp_path / "s.nii.gz", 5, 1.0)  # codes 4-7 are not defined
    with pytest.raises(DataError, match="unknown spatial unit code 5") as err:
        acdc.load_nifti(path)
    assert err.value.path == path


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_zero_pixdim_is_refused_before_nibabel_makes_it_1(tmp_path, suffix):
    path = write_nifti(tmp_path / f"s{suffix}", "mm", 1.0)
    raw = bytearray(acdc.read_nifti_bytes(path))
    raw[80:84] = struct.pack("<f", 0.0)  # pixdim[1], the x size (pixdim at bytes 76-107)
    path.write_bytes(gzip.compress(bytes(raw)) if suffix == ".nii.gz" else bytes(raw))
    assert nib.load(path).header.get_zooms()[0] == 1.0  # what nibabel's fix-up gives
    for read in (spacing_mm, acdc.load_nifti, lambda p: scans.plan_job(p, None)):
        with pytest.raises(DataError, match=r"voxel size \[0.0, 2.0, 10.0\]") as err:
            read(path)
        assert err.value.path == path


def write_nrrd(path: Path, header: dict) -> Path:
    nrrd.write(str(path), np.zeros((4, 5, 6), np.uint8), header)
    return path


@pytest.mark.parametrize(
    "header",
    [
        {"space": "left-posterior-superior", "space directions": np.diag(MM)},
        {"space": "left-posterior-superior", "space directions": np.diag(MM) / 1e3,
         "space units": ["m", "m", "m"]},
        {"space": "left-posterior-superior", "space directions": np.diag(MM) / 10,
         "space units": ["cm", "cm", "cm"]},
        {"spacings": np.array(MM) * 1e3, "units": ["um", "um", "um"]},
        {"spacings": np.array(MM), "units": ["", "mm", "millimeters"]},
    ],
)  # fmt: skip
def test_nrrd_units(tmp_path, header):
    path = write_nrrd(tmp_path / "lgemri.nrrd", header)
    assert spacing_mm(path) == pytest.approx(MM)
    assert la.load_nrrd(path)[1] == pytest.approx(MM)


def test_nrrd_mixed_world_units_scale_each_world_axis(tmp_path):
    # An oblique x axis: (1.2 mm, 0.09 cm) -> norm sqrt(1.2^2 + 0.9^2) = 1.5 mm.
    dirs = np.array([[1.2, 0.09, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    dirs[2] = [0.0, 1.0, 0.0]  # 1 cm = 10 mm along world y
    header = {"space": "left-posterior-superior", "space directions": dirs,
              "space units": ["mm", "cm", "mm"]}  # fmt: skip
    path = write_nrrd(tmp_path / "x.nrrd", header)
    assert spacing_mm(path) == pytest.approx(MM)


def test_nrrd_unknown_unit_is_refused(tmp_path):
    path = write_nrrd(tmp_path / "lgemri.nrrd", {"spacings": np.array(MM),
                                                  "units": ["mm", "furlong", "mm"]})  # fmt: skip
    with pytest.raises(DataError, match="furlong") as err:
        la.load_nrrd(path)
    assert err.value.path == path
