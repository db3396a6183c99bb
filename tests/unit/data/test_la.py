"""LA reader and preprocess: layouts, spacing from unusual NRRD headers, (z, y, x) order; each bad
input raises a DataError naming the file; prepare_la writes canonical cases and splits.

Cases are written with pynrrd directly (not our generator), except one end-to-end run on
``synthetic_la`` output.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import types
from pathlib import Path

import nrrd
import numpy as np
import pytest

from mixseg.config import PreprocessParams, SettingsParams, SplitParams
from mixseg.data import la
from mixseg.data.canonical import load_case
from mixseg.data.errors import DataError
from mixseg.data.prepare_la import crop_window, prepare_la
from mixseg.data.synthetic_la import write_la

SHAPE = (48, 40, 12)  # (x, y, z) as stored
SPACING = (0.8, 0.9, 2.0)  # (x, y, z) mm
PRE = PreprocessParams(mode="crop", size=(24, 24), spacing_mm=None, percentiles=(0.0, 100.0))
SPLIT = SplitParams(train=0.6, val=0.2, test=0.2, seed=0)
SETTINGS = SettingsParams(n_full=(1,), ratios=(1, 2), default_ratio=1)


def _header(spacing=SPACING, **extra) -> dict:
    return {"space": "left-posterior-superior", "space directions": np.diag(spacing),
            "encoding": "gzip", **extra}  # fmt: skip


def write_case(
    base: Path,
    cid: str,
    image: np.ndarray | None = None,
    label: np.ndarray | None = None,
    img_header: dict | None = None,
    lab_header: dict | None = None,
    centre: tuple[int, int, int] = (24, 20, 6),
) -> Path:
    """``base/<cid>/{lgemri,laendo}.nrrd``: a bright ball (255) in noise, axes (x, y, z)."""
    cdir = base / cid
    cdir.mkdir(parents=True, exist_ok=True)
    if label is None:
        x, y, z = np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij")
        ball = ((x - centre[0]) * SPACING[0]) ** 2 + ((y - centre[1]) * SPACING[1]) ** 2
        ball = ball + ((z - centre[2]) * SPACING[2]) ** 2 < 6.0**2
        label = np.where(ball, 255, 0).astype(np.uint8)
    if image is None:
        rng = np.random.default_rng(len(cid))
        image = (40 + 150 * (label > 0) + rng.integers(0, 30, label.shape)).astype(np.uint8)
    nrrd.write(str(cdir / "lgemri.nrrd"), image, img_header or _header())
    nrrd.write(str(cdir / "laendo.nrrd"), label, lab_header or _header())
    return cdir


@pytest.fixture
def la_root(tmp_path) -> Path:
    """Five cases in the challenge layout, LA balls at different places."""
    base = tmp_path / "raw" / la.TRAINING_DIR
    for k in range(5):
        write_case(base, f"CASE{k:016d}", centre=(14 + 5 * k, 12 + 4 * k, 4 + k))
    return tmp_path / "raw"


# ---------------------------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------------------------
def test_find_cases_layouts(tmp_path):
    base = tmp_path / "data" / la.TRAINING_DIR
    for cid in ("B", "A"):
        write_case(base, cid)
    for root in (tmp_path, tmp_path / "data", base):
        assert [p.name for p in la.find_cases(root)] == ["A", "B"]
    flat = tmp_path / "flat"
    write_case(flat, "C")
    (flat / "notes").mkdir()  # no case files: not a case folder outside the named layout
    assert [p.name for p in la.find_cases(flat)] == ["C"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no LA case folders") as err:
        la.find_cases(tmp_path / "empty")
    assert err.value.path == tmp_path / "empty"
    with pytest.raises(DataError, match="not a folder"):
        la.find_cases(tmp_path / "missing")


def test_read_case_axis_order_and_spacing(tmp_path):
    image = np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE)
    cdir = write_case(tmp_path, "X", image=image)
    case = la.read_case(cdir)
    assert case.case_id == "X" and case.image.dtype == np.float32
    assert case.image.shape == SHAPE[::-1]  # (z, y, x)
    assert case.image[3, 5, 7] == image[7, 5, 3]
    assert case.spacing == pytest.approx(SPACING[::-1])
    assert case.label.dtype == np.uint8 and set(np.unique(case.label).tolist()) == {0, 1}
    assert not case.preprocessed and case.label_path == cdir / "laendo.nrrd"


def test_spacing_from_oblique_permuted_space_directions(tmp_path):
    c, s = math.cos(0.5), math.sin(0.5)
    dirs = np.array([[0.0, -0.7 * c, 0.7 * s], [0.8, 0.0, 0.0], [0.0, 1.5 * s, 1.5 * c]])
    header = {"space": "right-anterior-superior", "space directions": dirs, "encoding": "raw"}
    case = la.read_case(write_case(tmp_path, "X", img_header=header, lab_header=header))
    assert case.spacing == pytest.approx((1.5, 0.8, 0.7))  # (z, y, x): per array axis


def test_spacing_from_spacings_field_and_default(tmp_path, caplog):
    header = {"spacings": np.array([0.7, 0.75, 1.1]), "encoding": "gzip"}
    case = la.read_case(write_case(tmp_path, "S", img_header=header, lab_header=header))
    assert case.spacing == pytest.approx((1.1, 0.75, 0.7))
    bare = {"encoding": "gzip"}
    with caplog.at_level(logging.WARNING, logger="mixseg.data.la"):
        case = la.read_case(write_case(tmp_path, "D", img_header=bare, lab_header=bare))
    assert case.spacing == (0.625, 0.625, 0.625)
    assert "assuming 0.625" in caplog.text and "lgemri.nrrd" in caplog.text


def test_label_zero_one_accepted(tmp_path):
    label = np.zeros(SHAPE, np.uint8)
    label[10:20, 10:20, 3:6] = 1
    case = la.read_case(write_case(tmp_path, "X", label=label))
    assert case.label.sum() == 300


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-200])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\x01 not an nrrd file at all")


BAD_INPUTS = {
    "missing image": ("lgemri.nrrd", lambda d: (d / "lgemri.nrrd").unlink(), "missing image"),
    "missing label": ("laendo.nrrd", lambda d: (d / "laendo.nrrd").unlink(), "missing label"),
    "truncated image": ("lgemri.nrrd", lambda d: _truncate(d / "lgemri.nrrd"), "unreadable"),
    "garbage label": ("laendo.nrrd", lambda d: _garbage(d / "laendo.nrrd"), "unreadable"),
    "shape mismatch": ("laendo.nrrd", lambda d: nrrd.write(
        str(d / "laendo.nrrd"), np.zeros((48, 40, 11), np.uint8), _header()), "differs"),
    "label values": ("laendo.nrrd", lambda d: nrrd.write(
        str(d / "laendo.nrrd"), np.full(SHAPE, 2, np.uint8), _header()), "label values"),
    "mixed label values": ("laendo.nrrd", lambda d: nrrd.write(
        str(d / "laendo.nrrd"), np.resize(np.array([0, 1, 255], np.uint8), SHAPE),
        _header()), "label values"),
    "nan": ("lgemri.nrrd", lambda d: nrrd.write(
        str(d / "lgemri.nrrd"), np.full(SHAPE, np.nan, np.float32), _header()), "NaN"),
    "inf": ("lgemri.nrrd", lambda d: nrrd.write(
        str(d / "lgemri.nrrd"), np.full(SHAPE, np.inf, np.float32), _header()), "NaN or Inf"),
    "2d image": ("lgemri.nrrd", lambda d: nrrd.write(
        str(d / "lgemri.nrrd"), np.zeros((48, 40), np.uint8),
        {"space directions": np.diag([0.8, 0.9]), "encoding": "raw"}), "3D"),
    "spacing mismatch": ("laendo.nrrd", lambda d: nrrd.write(
        str(d / "laendo.nrrd"), np.zeros(SHAPE, np.uint8), _header((0.8, 0.9, 2.5))), "spacing"),
    "zero spacing": ("lgemri.nrrd", lambda d: nrrd.write(
        str(d / "lgemri.nrrd"), np.zeros(SHAPE, np.uint8), _header((0.8, 0.0, 2.0))),
        "non-positive"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_names_the_file(tmp_path, name):
    filename, corrupt, problem = BAD_INPUTS[name]
    cdir = write_case(tmp_path, "BAD")
    corrupt(cdir)
    with pytest.raises(DataError, match=problem) as err:
        la.read_case(cdir)
    assert err.value.path == cdir / filename
    assert str(cdir / filename) in str(err.value)


def test_h5_layout_needs_h5py(tmp_path, monkeypatch):
    cdir = tmp_path / "H5CASE"
    cdir.mkdir()
    (cdir / "mri_norm2.h5").write_bytes(b"not read without h5py")
    assert la.find_cases(tmp_path) == [cdir]
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py -> ImportError
    with pytest.raises(DataError, match="needs h5py") as err:
        la.read_case(cdir)
    assert err.value.path == cdir / "mri_norm2.h5"


class _FakeH5File(dict):
    """Stand-in for ``h5py.File`` (h5py is not a requirement): datasets read with ``[()]``."""

    def __init__(self, path, mode):
        label = np.zeros(SHAPE, np.uint8)
        label[5:9, 5:9, 2:4] = 1
        super().__init__(image=np.ones(SHAPE, np.float32), label=label)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_h5_layout_with_h5py(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", types.SimpleNamespace(File=_FakeH5File))
    cdir = tmp_path / "H5CASE"
    cdir.mkdir()
    (cdir / "mri_norm2.h5").write_bytes(b"")
    case = la.read_case(cdir)
    assert case.preprocessed and case.image.shape == SHAPE[::-1] and case.label.sum() == 32
    assert case.spacing == (0.625, 0.625, 0.625)


# ---------------------------------------------------------------------------------------------
# Preprocess
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lo", "hi", "n", "need", "margins", "expected"),
    [
        (40, 60, 100, 10, (5, 7), (35, 67)),  # margins only
        (40, 60, 100, 40, (5, 7), (25, 77)),  # widened evenly to 40, then margins
        (2, 20, 100, 10, (5, 7), (0, 30)),  # runs over the start: shifted, size kept
        (90, 99, 100, 10, (5, 7), (78, 100)),  # widened by 1, runs over the end
        (10, 20, 30, 40, (5, 7), (0, 30)),  # longer than the axis: the whole axis
    ],
)
def test_crop_window(lo, hi, n, need, margins, expected):
    assert crop_window(lo, hi, n, need, margins) == expected


def test_prepare_writes_canonical_cases_and_splits(la_root, tmp_path):
    out = tmp_path / "processed"
    meta = prepare_la(la_root, out, PRE, SPLIT, SETTINGS)
    assert json.loads((out / "splits.json").read_text()) == meta
    ids = sorted(p.name for p in (la_root / la.TRAINING_DIR).iterdir())
    assert meta["dataset"] == "la"
    assert meta["patients"] == {cid: {"group": "LA", "cases": [cid]} for cid in ids}
    train, val, test = (set(meta[k]) for k in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (3, 1, 1)
    assert not (train & val or train & test or val & test) and train | val | test == set(ids)
    assert set(meta["order"]) == train and meta["default_ratio"] == 1
    assert meta["settings"]["set1"]["full"] == meta["order"][:1]
    crops = json.loads((out / "crops.json").read_text())
    for cid in ids:
        case = load_case(out / "cases" / f"{cid}.npz")
        raw = la.read_case(la_root / la.TRAINING_DIR / cid)
        assert case.patient_id == cid and case.image.dtype == np.float32
        # (z, y, x): z is never cropped; y/x at least the preset size; spacing kept.
        assert case.image.shape[0] == SHAPE[2] and min(case.image.shape[1:]) >= 24
        assert case.spacing == pytest.approx(SPACING[::-1])
        assert case.label.sum() == raw.label.sum()  # the whole LA is inside the crop
        (z0, z1), (y0, y1), (x0, x1) = crops[cid]["window_zyx"]
        assert (z0, z1) == (0, SHAPE[2])
        # z-score over the whole raw volume, then cropped.
        expected = (raw.image - raw.image.mean()) / raw.image.std()
        np.testing.assert_allclose(case.image, expected[:, y0:y1, x0:x1], atol=1e-4)
        # Margins of 10-19 voxels at 0.625 mm = 6.25-11.9 mm each side (unless shifted).
        ys = np.flatnonzero(raw.label.any(axis=(0, 2)))
        assert ys[0] - y0 >= math.floor(10 * 0.625 / SPACING[1]) or y0 == 0 or y1 == SHAPE[1]


def test_prepare_is_seeded(la_root, tmp_path):
    a = prepare_la(la_root, tmp_path / "a", PRE, SPLIT, SETTINGS)
    b = prepare_la(la_root, tmp_path / "b", PRE, SPLIT, SETTINGS, workers=2)
    assert a == b
    crops = [json.loads((tmp_path / n / "crops.json").read_text()) for n in ("a", "b")]
    assert crops[0] == crops[1]
    other = SplitParams(train=0.6, val=0.2, test=0.2, seed=1)
    prepare_la(la_root, tmp_path / "c", PRE, other, SETTINGS)
    assert json.loads((tmp_path / "c" / "crops.json").read_text()) != crops[0]


def test_prepare_resamples_and_pads(la_root, tmp_path):
    pre = PreprocessParams(mode="crop", size=(8, 40, 40), spacing_mm=1.6, percentiles=(1.0, 99.0))
    prepare_la(la_root, tmp_path / "p", pre, SPLIT, SETTINGS)
    for path in sorted((tmp_path / "p" / "cases").iterdir()):
        case = load_case(path)
        assert case.spacing == pytest.approx((1.6, 1.6, 1.6), rel=0.05)
        assert case.image.shape[0] == round(SHAPE[2] * SPACING[2] / 1.6)  # 15 >= 8: no pad
        assert min(case.image.shape[1:]) >= 40  # 40 voxels at 1.6 mm = 64 mm > the scan's y
        volume = case.label.sum() * np.prod(case.spacing)
        assert volume == pytest.approx(4 / 3 * math.pi * 6.0**3, rel=0.25)


def test_prepare_rejects_resize_and_empty_label(la_root, tmp_path):
    resize = PreprocessParams(mode="resize", size=(24, 24), spacing_mm=None,
                              percentiles=(0.0, 100.0))  # fmt: skip
    with pytest.raises(ValueError, match="crop"):
        prepare_la(la_root, tmp_path / "out", resize, SPLIT, SETTINGS)
    cdir = sorted((la_root / la.TRAINING_DIR).iterdir())[2]
    nrrd.write(str(cdir / "laendo.nrrd"), np.zeros(SHAPE, np.uint8), _header())
    with pytest.raises(DataError, match="empty LA label") as err:
        prepare_la(la_root, tmp_path / "out", PRE, SPLIT, SETTINGS)
    assert err.value.path == cdir / "laendo.nrrd"
    assert not any(p.name.startswith("out") for p in tmp_path.iterdir())


def test_prepare_on_synthetic_data(tmp_path):
    raw = tmp_path / "raw"
    write_la(raw, n_cases=6, seed=0, shape=(64, 64, 24), spacing=2.5)
    pre = PreprocessParams(mode="crop", size=(28, 28), spacing_mm=2.5, percentiles=(0.0, 100.0))
    meta = prepare_la(raw, tmp_path / "out", pre, SplitParams(0.5, 0.25, 0.25, 0), SETTINGS)
    assert len(meta["train"]) + len(meta["val"]) + len(meta["test"]) == 6
    for cid in meta["patients"]:
        case = load_case(tmp_path / "out" / "cases" / f"{cid}.npz")
        assert case.image.shape[0] == 24 and min(case.image.shape[1:]) >= 28
        assert case.spacing == (2.5, 2.5, 2.5)
        assert 30 < case.label.sum() * 2.5**3 / 1000 < 110  # mL, nothing cut off
