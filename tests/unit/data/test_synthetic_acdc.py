"""synthetic_acdc: real ACDC on-disk format, anatomy statistics, determinism, atomicity."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from mixseg.data.acdc import read_patient
from mixseg.data.synthetic_acdc import GROUPS, generate_patient, group_of, write_acdc

N = 5  # one patient per group
INFO_KEYS = ["ED", "ES", "Group", "Height", "NbFrame", "Weight"]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "acdc"
    write_acdc(root, n_patients=N, seed=0, workers=1)
    return root


def _info(pdir: Path) -> dict[str, str]:
    lines = (pdir / "Info.cfg").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines)


def _frames(pdir: Path) -> dict[str, tuple[np.ndarray, np.ndarray, nib.Nifti1Image]]:
    """{"ED"|"ES": (image, label, image nifti)} as stored, axes (x, y, z)."""
    info, out = _info(pdir), {}
    for key in ("ED", "ES"):
        stem = pdir / f"{pdir.name}_frame{int(info[key]):02d}"
        img = nib.load(f"{stem}.nii.gz")
        gt = nib.load(f"{stem}_gt.nii.gz")
        out[key] = (np.asanyarray(img.dataobj), np.asanyarray(gt.dataobj), img)
    return out


def _patients(root: Path) -> list[Path]:
    return sorted((root / "training").iterdir())


def test_layout_and_info(root):
    pdirs = _patients(root)
    assert [p.name for p in pdirs] == [f"patient{i:03d}" for i in range(1, N + 1)]
    assert [_info(p)["Group"] for p in pdirs] == list(GROUPS)
    for pdir in pdirs:
        info = _info(pdir)
        assert list(info) == INFO_KEYS
        ed, es = int(info["ED"]), int(info["ES"])
        assert ed == 1 and 9 <= es <= 15 < 20 <= int(info["NbFrame"]) <= 35
        assert 150 <= float(info["Height"]) <= 195 and 50 <= float(info["Weight"]) <= 110
        assert re.fullmatch(r"\d+\.\d", info["Height"]) and re.fullmatch(r"\d+\.\d", info["Weight"])
        expected = {"Info.cfg"} | {
            f"{pdir.name}_frame{f:02d}{sfx}.nii.gz" for f in (ed, es) for sfx in ("", "_gt")
        }
        assert {p.name for p in pdir.iterdir()} == expected  # no 4d file


def test_nifti_dtypes_shapes_spacing(root):
    for pdir in _patients(root):
        for image, label, img in _frames(pdir).values():
            assert image.dtype == np.int16 and label.dtype == np.uint8
            assert image.shape == label.shape and image.ndim == 3
            assert 6 <= image.shape[2] <= 12
            assert set(np.unique(label)) <= {0, 1, 2, 3}
            zooms = img.header.get_zooms()
            assert np.allclose(zooms, np.diag(img.affine)[:3])
            assert np.allclose(img.affine, np.diag([*zooms, 1.0]))
            assert zooms[0] == zooms[1] and 0.70 <= zooms[0] <= 1.92 and 5 <= zooms[2] <= 10
            assert all(160 <= n <= 384 and n % 8 == 0 for n in image.shape[:2])
            assert image.min() >= 0 and image.max() > 100


def test_labels_and_anatomy(root):
    edv = {}
    for pdir in _patients(root):
        frames = _frames(pdir)
        (_, ed_lab, img), (_, es_lab, _) = frames["ED"], frames["ES"]
        assert set(np.unique(ed_lab)) == {0, 1, 2, 3}
        voxel_ml = float(np.prod(img.header.get_zooms())) / 1000
        lv_ed, lv_es = (ed_lab == 3).sum() * voxel_ml, (es_lab == 3).sum() * voxel_ml
        assert lv_es < lv_ed, pdir.name
        area = (ed_lab == 3).sum(axis=(0, 1))
        lv_slices = np.flatnonzero(area)
        assert len(lv_slices) >= 3
        assert area[lv_slices[-1]] < area.max()  # the LV shrinks towards the apex
        edv[_info(pdir)["Group"]] = lv_ed
    assert edv["DCM"] > edv["HCM"] and edv["DCM"] > edv["NOR"]


def test_project_reader_accepts_it(root):
    info, frames = read_patient(_patients(root)[0])
    assert (info.ed, info.group) == (1, "DCM") and len(frames) == 2
    assert frames[0].image.shape == frames[0].label.shape


def test_group_blocks():
    assert [group_of(i, 100) for i in (1, 20, 21, 40, 41, 60, 61, 80, 81, 100)] == [
        g for g in GROUPS for _ in range(2)
    ]
    assert {group_of(i, 7) for i in range(1, 8)} == set(GROUPS)
    with pytest.raises(ValueError):
        group_of(0, 5)


def test_generate_patient_deterministic():
    a, b, c = generate_patient(3, 5), generate_patient(3, 5), generate_patient(3, 6)
    assert a["group"] == "DCM" and a["info"] == b["info"] and a["spacing"] == b["spacing"]
    for frame, (image, label) in a["frames"].items():
        assert np.array_equal(image, b["frames"][frame][0])
        assert np.array_equal(label, b["frames"][frame][1])
    first = next(iter(c["frames"].values()))[0]
    assert first.shape != a["frames"][1][0].shape or not np.array_equal(first, a["frames"][1][0])


def test_workers_give_same_output(tmp_path, root):
    other = tmp_path / "par"
    write_acdc(other, n_patients=N, seed=0, workers=2)
    for p1, p2 in zip(_patients(root), _patients(other), strict=True):
        f1, f2 = _frames(p1), _frames(p2)
        for key in ("ED", "ES"):
            assert np.array_equal(f1[key][0], f2[key][0])


def test_write_is_atomic_and_refuses_existing(tmp_path, root):
    assert not list(root.parent.glob("*.tmp-*"))
    with pytest.raises(FileExistsError, match=re.escape(str(root))):
        write_acdc(root, n_patients=N, seed=0)
    target = tmp_path / "gen"
    own_stale = tmp_path / f"gen.tmp-{os.getpid()}"  # left by an earlier crash of this pid
    (own_stale / "training" / "patient001").mkdir(parents=True)
    other = tmp_path / "gen.tmp-1"
    other.mkdir()  # another process's folder is not ours to touch
    write_acdc(target, n_patients=1, seed=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gen", "gen.tmp-1"]
    assert [p.name for p in (target / "training").iterdir()] == ["patient001"]


def _sampled(n: int = 300) -> list:
    """Parameters (no rendering) of ``n`` patients, all groups."""
    from mixseg.data.synthetic_acdc.anatomy import sample_patient

    return [
        sample_patient(np.random.default_rng(np.random.SeedSequence([7, i])), GROUPS[i % 5])
        for i in range(n)
    ]


def test_acquisition_variability_ranges():
    """Two field strengths with their own contrast/SNR/bias; pixel size, matrix, heart pose."""
    from mixseg.data.synthetic_acdc import anatomy as A

    pats = _sampled()
    fields = [p.acq.field_t for p in pats]
    assert set(fields) == {1.5, 3.0} and 0.35 < fields.count(3.0) / len(fields) < 0.65
    for p in pats:
        f, acq, iv = A.FIELD[p.acq.field_t], p.acq, p.intensity
        assert f["snr"][0] <= acq.snr <= f["snr"][1]
        assert f["bias"][0] <= acq.bias_beta <= f["bias"][1]
        assert f["myo"][0] <= iv["myo"] <= f["myo"][1] and f["fat"][0] <= iv["fat"] <= f["fat"][1]
        assert acq.b1 == 0.0 if acq.field_t == 1.5 else abs(acq.b1) <= 0.35
        assert A.PX_TAIL[0] <= acq.px <= A.PX_TAIL[1]
        assert all(A.MATRIX[0] <= n <= A.MATRIX[1] and n % 8 == 0 for n in acq.shape)
        assert abs(math.degrees(acq.rotation)) <= A.ROTATION_DEG
        assert max(abs(o) for o in acq.offset) <= A.OFFSET_MM
        assert 6 <= p.heart.lvot_depth <= 22 and 8 * 0.95 <= p.heart.lvot_width <= 12 * 1.2
        h = p.heart
        assert all(A.PM_RADIUS[0] <= rad / h.R <= A.PM_RADIUS[1] for _, rad in h.pm)
        assert all(0.3 * A.TRAB_LEVEL[0] <= b <= 1.2 * A.TRAB_LEVEL[1] for _, b, _ in h.trab)
        assert 0 <= h.flat and 0 <= h.ecc <= A.ECC_MAX and 0 <= p.intensity["flow"] <= 0.25
    px = np.array([p.acq.px for p in pats])
    assert px.min() < 1.0 and px.max() > 1.8 and 1.3 < np.median(px) < 1.7  # tail + bulk
    rot = np.degrees([p.acq.rotation for p in pats])
    assert rot.min() < -0.8 * A.ROTATION_DEG and rot.max() > 0.8 * A.ROTATION_DEG
    # Banding mostly at 3 T; a bright (fluid-filled) stomach in about half the patients.
    band = {t: np.mean([bool(p.acq.band) for p in pats if p.acq.field_t == t]) for t in (1.5, 3.0)}
    assert band[3.0] > 0.4 > 0.25 > band[1.5]
    assert 0.3 < np.mean([p.intensity["spleen"] > 0.65 for p in pats]) < 0.7
    # 3 T: less blood-myocardium contrast, higher SNR, stronger bias on average.
    by = {t: [p for p in pats if p.acq.field_t == t] for t in (1.5, 3.0)}
    mean = {t: {k: np.mean([getattr(p.acq, k) for p in by[t]]) for k in ("snr", "bias_beta")}
            for t in by}  # fmt: skip
    assert mean[3.0]["snr"] > mean[1.5]["snr"] and mean[3.0]["bias_beta"] > mean[1.5]["bias_beta"]
    myo = {t: np.mean([p.intensity["myo"] for p in by[t]]) for t in by}
    assert myo[3.0] > myo[1.5]
    # Heart size on top of the group: the ED cavity radius spreads beyond the group's range.
    r_nor = [p.heart.R for p in pats if p.heart.group == "NOR"]
    assert min(r_nor) < 22 * 1.02 and max(r_nor) > 27 * 1.1


def test_outflow_tract_and_banding_shapes():
    from mixseg.data.synthetic_acdc.render import banding, lvot_sdf

    h = _sampled(1)[0].heart
    c, s = math.cos(h.lvot_angle), math.sin(h.lvot_angle)
    pts = np.array([0.0, 30.0, 45.0, -20.0], dtype=np.float32)  # along the channel, 30 mm epi
    f = lvot_sdf(pts * c, pts * s, h, 30.0, 0.0)
    assert f[0] < 0 and f[1] < 0 and f[2] < 0 and f[3] > 0  # through the wall, not backwards
    assert lvot_sdf(pts * c, pts * s, h, 30.0, h.lvot_depth)[1] >= -1e-3  # closed at its end
    x, y = np.meshgrid(np.linspace(-150, 150, 301), np.linspace(-150, 150, 301))
    b = banding(x, y, (0.6, 80.0, 3.0, 0.3, 0.002, 0.1))
    assert b.max() <= 1.0 and abs(b.min() - 0.4) < 0.02 and (b < 0.7).mean() < 0.15


def test_montage(tmp_path, root):
    from mixseg.data.synthetic_acdc import montage_acdc

    out = tmp_path / "m.png"
    montage_acdc(root, out, n=2)
    assert out.stat().st_size > 10_000
