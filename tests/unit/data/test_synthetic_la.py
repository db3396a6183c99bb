"""synthetic_la: the 2018 LA challenge on-disk format, anatomy statistics, determinism, atomicity.

Statistics rather than hashes: NumPy does not promise identical random streams across versions.
"""

from __future__ import annotations

import re
from pathlib import Path

import nrrd
import numpy as np
import pytest
from scipy import ndimage

from mixseg.data import la
from mixseg.data.synthetic_la import (
    TRAINING_DIR,
    case_id,
    generate_case,
    montage_la,
    write_la,
)
from mixseg.data.synthetic_la.anatomy import Grid, sample_case
from mixseg.data.synthetic_la.render import case_sdfs

SMALL = {"shape": (64, 64, 24), "spacing": 2.5}  # same 160x160x60 mm field, 1/8 of the voxels
N = 5


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "la"
    write_la(root, n_cases=N, seed=0, workers=1, **SMALL)
    return root


@pytest.fixture(scope="module")
def full_cases() -> list[dict]:
    """Three cases on the default 128x128x44 grid at 1.25 mm."""
    return [generate_case(i, 0) for i in (1, 2, 3)]


def _case_dirs(root: Path) -> list[Path]:
    return sorted((root / TRAINING_DIR).iterdir())


def test_layout_ids_and_lists(root):
    dirs = _case_dirs(root)
    ids = [d.name for d in dirs]
    assert ids == sorted(case_id(i, 0) for i in range(1, N + 1))
    assert all(re.fullmatch(r"[0-9A-Z]{20}", i) for i in ids)
    for d in dirs:
        assert {p.name for p in d.iterdir()} == {"lgemri.nrrd", "laendo.nrrd"}
    train = (root / "train.list").read_text().split()
    test = (root / "test.list").read_text().split()
    assert len(train) == 4 and len(test) == 1  # 80/20
    assert not set(train) & set(test) and sorted(train + test) == ids


def test_nrrd_headers(root):
    for d in _case_dirs(root):
        for name, values in (("lgemri.nrrd", None), ("laendo.nrrd", {0, 255})):
            raw = (d / name).read_bytes()
            assert b"GMT" not in raw[:300]  # no wall-clock stamp: reproducible bytes
            data, header = nrrd.read(str(d / name))
            assert data.dtype == np.uint8 and data.shape == SMALL["shape"]
            assert header["encoding"] == "gzip"
            assert header["space"] == "left-posterior-superior"
            assert np.allclose(header["space directions"], np.diag([2.5] * 3))
            if values is not None:
                assert set(np.unique(data).tolist()) == values


def test_full_grid_statistics(full_cases):
    for case in full_cases:
        image, label = case["image"], case["label"]
        assert image.dtype == np.uint8 and image.shape == (128, 128, 44)
        assert label.dtype == np.uint8 and label.shape == image.shape
        assert set(np.unique(label).tolist()) == {0, 255}
        assert case["spacing"] == (1.25, 1.25, 1.25)
        inside = label > 0
        volume_ml = inside.sum() * 1.25**3 / 1000
        assert 30 < volume_ml < 110
        assert ndimage.label(inside)[1] == 1  # one piece: body, vein stubs, appendage
        # Label in the bright blood pool; the dark lungs exist; the top of the range is used.
        assert image[inside].mean() > 1.6 * image[~inside].mean()
        assert np.mean(image[inside] > np.median(image)) > 0.9
        assert np.mean(image < 0.15 * image.max()) > 0.05
        assert 190 <= np.percentile(image, 99.8) <= 255
        # The label does not reach the in-plane border of the field of view.
        xs, ys, zs = np.nonzero(inside)
        assert xs.min() > 5 and ys.min() > 5 and xs.max() < 122 and ys.max() < 122
        assert (zs.max() - zs.min()) * 1.25 > 25


def test_label_is_cut_inside_continuous_blood():
    """Veins and the mitral plane cut the label, not the blood (the network must learn them)."""
    for index in (1, 2):
        rng = np.random.default_rng(index)
        grid = Grid.make((128, 128, 44), 1.25)
        d = case_sdfs(sample_case(rng), grid)
        label = d["label"] < 0
        blood = (d["la_blood"] < 0) | (d["lv_cavity"] < 0)
        assert np.all(blood[label])
        extra_ml = (blood & ~label).sum() * 1.25**3 / 1000
        assert extra_ml > 5  # vein segments beyond the label, LV side of the plane
        # The label touches unlabelled blood: the cut surfaces exist.
        assert (ndimage.binary_dilation(label) & blood & ~label).sum() > 50


def test_generate_case_deterministic():
    a, b = generate_case(2, 7, **SMALL), generate_case(2, 7, **SMALL)
    assert a["case_id"] == b["case_id"]
    assert np.array_equal(a["image"], b["image"]) and np.array_equal(a["label"], b["label"])
    c, d = generate_case(2, 8, **SMALL), generate_case(3, 7, **SMALL)
    for other in (c, d):
        assert other["case_id"] != a["case_id"]
        assert not np.array_equal(other["image"], a["image"])
        assert not np.array_equal(other["label"], a["label"])
    assert case_id(2, 7) == a["case_id"] and len({case_id(i, 0) for i in range(200)}) == 200
    with pytest.raises(ValueError):
        generate_case(-1, 0)


def test_workers_give_identical_files(tmp_path, root):
    other = tmp_path / "la2"
    write_la(other, n_cases=N, seed=0, workers=2, **SMALL)
    for name in ("train.list", "test.list"):
        assert (other / name).read_bytes() == (root / name).read_bytes()
    for d in _case_dirs(root):
        for f in d.iterdir():
            assert (other / TRAINING_DIR / d.name / f.name).read_bytes() == f.read_bytes()


def test_write_is_atomic_and_refuses_existing(tmp_path, root):
    with pytest.raises(FileExistsError):
        write_la(root, n_cases=1, seed=0)
    for bad in ({"n_cases": 0, "seed": 0}, {"n_cases": 1, "seed": -1}):
        with pytest.raises(ValueError):
            write_la(tmp_path / "x", **bad)
    assert list(tmp_path.iterdir()) == []


def test_project_reader_accepts_it(root):
    dirs = la.find_cases(root)
    assert [d.name for d in dirs] == [d.name for d in _case_dirs(root)]
    case = la.read_case(dirs[0])
    assert case.image.shape == (24, 64, 64) and case.image.dtype == np.float32
    assert case.spacing == (2.5, 2.5, 2.5)
    assert set(np.unique(case.label).tolist()) == {0, 1}


def test_montage(tmp_path, root):
    out = tmp_path / "m.png"
    montage_la(root, out, n=2)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size < 500_000
