"""Fuzz the raw-data readers: random truncations and byte flips of a valid ``.nii.gz`` (its
compressed bytes and its NIfTI header), an ``Info.cfg`` and an NRRD header (seeded, a few
seconds). Each damaged input gives a ``DataError`` naming the damaged file, or a read that is
correct: identical to the undamaged read where the damage cannot be told from the bytes (a
gzip header's time stamp), else one that keeps the reader's contract (shapes, dtypes, values,
positive spacing). Never another exception; and the stage that reads them (``build_dir``) leaves
no output behind on a failure.
"""

from __future__ import annotations

import gzip
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import nrrd
import numpy as np
import pytest
from helpers import write_acdc_patient

from mixseg.data import acdc, la
from mixseg.data.errors import DataError
from mixseg.data.staging import build_dir

N_MUTATIONS = 150  # per target: 1,053 reads in all, about 2 s on a quiet machine


def truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(0, len(data)))]


def flip(data: bytes, rng: np.random.Generator, lo: int = 0, hi: int | None = None) -> bytes:
    """1 to 3 bytes of ``data[lo:hi]`` xor-ed with a random non-zero byte."""
    out = bytearray(data)
    hi = len(data) if hi is None else min(hi, len(data))
    for pos in rng.integers(lo, hi, size=int(rng.integers(1, 4))):
        out[pos] ^= int(rng.integers(1, 256))
    return bytes(out)


def mutations(data: bytes, rng: np.random.Generator, header_end: int | None = None):
    """``N_MUTATIONS`` damaged copies of ``data``: half truncations, half byte flips (inside
    the first ``header_end`` bytes if given)."""
    for k in range(N_MUTATIONS):
        yield truncate(data, rng) if k % 2 == 0 else flip(data, rng, 0, header_end)


def check_acdc(frames: list[acdc.Frame]) -> None:
    """The ACDC reader's contract."""
    for f in frames:
        assert f.image.dtype == np.float32 and f.image.ndim == 3 and np.isfinite(f.image).all()
        assert f.label.dtype == np.uint8 and f.label.shape == f.image.shape
        assert set(np.unique(f.label).tolist()) <= acdc.ACDC_LABELS
        assert len(f.spacing) == 3 and all(np.isfinite(s) and s > 0 for s in f.spacing)


def check_la(case: la.LACase) -> None:
    """The LA reader's contract."""
    assert case.image.dtype == np.float32 and case.image.ndim == 3
    assert np.isfinite(case.image).all() and case.label.shape == case.image.shape
    assert set(np.unique(case.label).tolist()) <= {0, 1}
    assert len(case.spacing) == 3 and all(np.isfinite(s) and s > 0 for s in case.spacing)


def fuzz(
    target: Path, damaged: list[bytes], read: Callable[[], object], check: Callable, same=None
) -> dict[str, int]:
    """Write each damaged version to ``target``, read, and check the outcome.

    Returns:
        Counts of outcomes: ``error``, ``identical``, ``contract`` (a different valid read).
    """
    original = target.read_bytes()
    counts = {"error": 0, "identical": 0, "contract": 0}
    try:
        for data in damaged:
            target.write_bytes(data)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # nibabel warns about odd headers
                    result = read()
            except DataError as exc:
                assert target.name in str(exc), (str(exc), data[:64])
                counts["error"] += 1
                continue
            check(result)
            counts["identical" if same is not None and same(result) else "contract"] += 1
    finally:
        target.write_bytes(original)
    return counts


@pytest.fixture
def patient(tmp_path) -> Path:
    return write_acdc_patient(tmp_path, 1, shape=(14, 12, 3))


def _same_frames(reference: list[acdc.Frame]) -> Callable:
    def same(result) -> bool:
        _, frames = result
        return len(frames) == len(reference) and all(
            np.array_equal(a.image, b.image) and np.array_equal(a.label, b.label)
            and a.spacing == b.spacing for a, b in zip(frames, reference, strict=True)
        )  # fmt: skip

    return same


@pytest.mark.parametrize("name", ["patient001_frame01.nii.gz", "patient001_frame10_gt.nii.gz"])
def test_nii_gz_compressed_bytes(patient, name):
    """Damage to the compressed stream is caught by gzip (CRC, length): error or identical."""
    rng = np.random.default_rng(0)
    target = patient / name
    _, reference = acdc.read_patient(patient)
    damaged = list(mutations(target.read_bytes(), rng))
    counts = fuzz(target, damaged, lambda: acdc.read_patient(patient),
                  lambda r: check_acdc(r[1]), _same_frames(reference))  # fmt: skip
    assert counts["contract"] == 0, counts  # never a silently different image
    assert counts["error"] >= N_MUTATIONS // 2, counts


@pytest.mark.parametrize("name", ["patient001_frame01.nii.gz", "patient001_frame10_gt.nii.gz"])
def test_nifti_header(patient, name):
    """Damage to the (decompressed) 348-byte header, recompressed: error or a valid read."""
    rng = np.random.default_rng(1)
    target = patient / name
    raw = gzip.decompress(target.read_bytes())
    damaged = [gzip.compress(d) for d in mutations(raw, rng, header_end=348)]
    counts = fuzz(target, damaged, lambda: acdc.read_patient(patient), lambda r: check_acdc(r[1]))
    assert counts["error"] > 0, counts


def test_info_cfg(patient):
    rng = np.random.default_rng(2)
    target = patient / "Info.cfg"
    damaged = list(mutations(target.read_bytes(), rng))
    damaged += [b"ED: 1e999\nES: 10\n", b"ED: nan\nES: 10\n", b"ED: 1\nES: -3\n"]
    counts = fuzz(target, damaged, lambda: acdc.read_patient(patient), lambda r: check_acdc(r[1]))
    assert counts["error"] > 0, counts


@pytest.fixture
def la_case(tmp_path) -> Path:
    cdir = tmp_path / "CASE01"
    cdir.mkdir()
    x, y, z = np.meshgrid(*(np.arange(n) for n in (12, 10, 8)), indexing="ij")
    label = np.where((x - 6) ** 2 + (y - 5) ** 2 + (z - 4) ** 2 < 9, 255, 0).astype(np.uint8)
    header = {"space": "left-posterior-superior", "space directions": np.diag([0.8, 0.9, 2.0]),
              "encoding": "gzip"}  # fmt: skip
    nrrd.write(str(cdir / la.IMAGE_FILE), (label // 2 + 20).astype(np.uint8), header)
    nrrd.write(str(cdir / la.LABEL_FILE), label, header)
    return cdir


@pytest.mark.parametrize("name", [la.IMAGE_FILE, la.LABEL_FILE])
def test_nrrd(la_case, name):
    """Truncations of the whole file, flips inside the text header."""
    rng = np.random.default_rng(3)
    target = la_case / name
    data = target.read_bytes()
    header_end = data.index(b"\n\n") + 2
    counts = fuzz(target, list(mutations(data, rng, header_end)),
                  lambda: la.read_case(la_case), check_la)  # fmt: skip
    assert counts["error"] > 0, counts


def test_a_failed_read_leaves_no_output(patient, la_case, tmp_path):
    """The stages build their output with ``build_dir``: a damaged input leaves nothing."""
    rng = np.random.default_rng(4)
    out = tmp_path / "processed"
    # Cuts that always fail: Info.cfg before the end of "ES: 10", the label within its first half.
    label = la_case / la.LABEL_FILE
    cases = [
        (lambda: acdc.read_patient(patient), patient / "Info.cfg", 10),
        (lambda: la.read_case(la_case), label, label.stat().st_size // 2),
    ]
    for read, target, cut_max in cases:
        original = target.read_bytes()
        for _ in range(5):
            target.write_bytes(original[: int(rng.integers(0, cut_max))])

            def fill(tmp: Path, read=read) -> None:
                (tmp / "partial.npz").write_bytes(b"written before the read")
                read()

            with pytest.raises(DataError):
                build_dir(out, fill)
            assert not out.exists() and [p.name for p in tmp_path.glob("processed*")] == []
        target.write_bytes(original)
    shutil.rmtree(out, ignore_errors=True)
