"""ACDC reader and preprocess: real-format round trip; each bad input raises a DataError that
names the file, and leaves no output behind."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from helpers import write_acdc_patient

from mixseg.config import PreprocessParams, SettingsParams, SplitParams
from mixseg.data import acdc
from mixseg.data.canonical import load_case
from mixseg.data.errors import DataError
from mixseg.data.prepare import prepare_acdc

PRE = PreprocessParams(mode="crop", size=(32, 32), spacing_mm=2.0, percentiles=(0.0, 100.0))
SPLIT = SplitParams(train=0.8, val=0.1, test=0.1, seed=0)
SETTINGS = SettingsParams(n_full=(1, 2), ratios=(1, 2), default_ratio=2)


def test_read_patient_axes_spacing_and_frames(tmp_path):
    pdir = write_acdc_patient(tmp_path, 7, ed=4, es=11, shape=(40, 30, 5), spacing=(1.4, 1.6, 8.0))
    info, frames = acdc.read_patient(pdir)
    assert (info.ed, info.es, info.group) == (4, 11, "NOR")
    assert [f.case_id for f in frames] == ["patient007_frame04", "patient007_frame11"]
    f = frames[0]
    assert f.image.shape == (5, 30, 40)  # (z, y, x)
    assert f.spacing == pytest.approx((8.0, 1.6, 1.4))
    assert set(np.unique(f.label)) == {0, 1, 2, 3}


def test_find_patients_accepts_archive_top_folder(tmp_path):
    write_acdc_patient(tmp_path / "database", 1)
    assert [p.name for p in acdc.find_patients(tmp_path)] == ["patient001"]
    with pytest.raises(DataError, match="no patientXXX"):
        acdc.find_patients(tmp_path / "database" / "training" / "patient001")


def _prepare(root: Path, out: Path):
    return prepare_acdc(root, out, PRE, SPLIT, SETTINGS)


def test_prepare_writes_canonical_cases_and_splits(acdc_root, tmp_path):
    out = tmp_path / "processed"
    meta = _prepare(acdc_root, out)
    assert json.loads((out / "splits.json").read_text()) == meta
    assert len(meta["train"]) == 8 and len(meta["val"]) == 1 and len(meta["test"]) == 1
    case = load_case(out / "cases" / "patient001_frame01.npz")
    assert case.image.shape == (6, 32, 32) and case.image.dtype == np.float32
    assert case.label.dtype == np.uint8 and set(np.unique(case.label)) == {0, 1}
    assert 0.0 <= case.image.min() and case.image.max() <= 1.0
    assert case.spacing == pytest.approx((10.0, 2.0, 2.0), rel=0.03)
    # LV area is preserved by resampling: pi * 9^2 px at 1.5 mm -> mm^2 at 2 mm.
    area_mm2 = case.label[0].sum() * case.spacing[1] * case.spacing[2]
    assert area_mm2 == pytest.approx(np.pi * (9 * 1.5) ** 2, rel=0.15)


@pytest.mark.parametrize(
    "corrupt, expect_file, expect_msg",
    [
        ("truncate_image", "patient003_frame01.nii.gz", "truncated gzip"),
        ("missing_gt", "patient003_frame10_gt.nii.gz", "missing ground-truth"),
        ("shape_mismatch", "patient003_frame01_gt.nii.gz", "differs from the shape"),
        ("affine_mismatch", "patient003_frame01_gt.nii.gz", "affine differs"),
        ("bad_labels", "patient003_frame01_gt.nii.gz", "unexpected label values"),
        ("nan_image", "patient003_frame01.nii.gz", "NaN or Inf"),
        ("info_without_es", "Info.cfg", "no ES entry"),
        ("not_gzip", "patient003_frame01.nii.gz", "not a NIfTI"),
    ],
)
def test_bad_input_names_file_and_leaves_no_output(
    acdc_root, tmp_path, corrupt, expect_file, expect_msg
):
    pdir = acdc_root / "training" / "patient003"
    img = pdir / "patient003_frame01.nii.gz"
    gt = pdir / "patient003_frame01_gt.nii.gz"
    if corrupt == "truncate_image":
        data = img.read_bytes()
        img.write_bytes(data[: len(data) // 2])
    elif corrupt == "missing_gt":
        (pdir / "patient003_frame10_gt.nii.gz").unlink()
    elif corrupt == "shape_mismatch":
        nib.save(nib.Nifti1Image(np.zeros((5, 5, 6), np.uint8), np.diag([1.5, 1.5, 10, 1])), gt)
    elif corrupt == "affine_mismatch":
        lab = np.asanyarray(nib.load(gt).dataobj)
        nib.save(nib.Nifti1Image(lab, np.diag([2.0, 1.5, 10, 1])), gt)
    elif corrupt == "bad_labels":
        lab = np.asanyarray(nib.load(gt).dataobj).copy()
        lab[0, 0, 0] = 7
        nib.save(nib.Nifti1Image(lab, nib.load(gt).affine), gt)
    elif corrupt == "nan_image":
        im = np.asanyarray(nib.load(img).dataobj).astype(np.float32)
        im[1, 1, 1] = np.nan
        nib.save(nib.Nifti1Image(im, nib.load(img).affine), img)
    elif corrupt == "info_without_es":
        (pdir / "Info.cfg").write_text("ED: 1\nGroup: NOR\n")
    elif corrupt == "not_gzip":
        img.write_bytes(b"this is not a nifti file at all" * 10)
    out = tmp_path / "processed"
    with pytest.raises(DataError, match=expect_msg) as err:
        _prepare(acdc_root, out)
    assert Path(err.value.path).name == expect_file
    assert expect_file in str(err.value)
    assert not out.exists()
    assert not list(tmp_path.glob("processed*"))  # no temporary directory left either


def test_bad_input_in_worker_process_keeps_error(acdc_root, tmp_path):
    (acdc_root / "training" / "patient002" / "Info.cfg").write_text("ES: 3\n")
    with pytest.raises(DataError, match="no ED entry"):
        prepare_acdc(acdc_root, tmp_path / "p", PRE, SPLIT, SETTINGS, workers=2)
    assert not (tmp_path / "p").exists()
