"""Offline synthetic LA-like 3D GE-MRI, written in the 2018 LA challenge format.

What ``write_la`` writes (the layout UA-MT and SSL4MIS read; ``mixseg.data.la`` reads both)::

    <root>/2018LA_Seg_Training Set/<ID>/lgemri.nrrd   image, uint8, axes (x, y, z)
    <root>/2018LA_Seg_Training Set/<ID>/laendo.nrrd   label, uint8, 0 background / 255 LA
    <root>/train.list, <root>/test.list               one ID a line, 80/20 as UA-MT

``<ID>`` is 20 upper-case letters and digits, like the challenge's, derived from (seed, index).
Both NRRD files are gzip-encoded with ``space: left-posterior-superior`` and a diagonal
``space directions`` giving the spacing (default 1.25 mm isotropic on a 128x128x44 grid, i.e.
160x160x55 mm: the z coverage of the real 88 slices at 0.625 mm).

The model is embedded-data.md section 2.2 (``anatomy`` samples it,
``render`` paints it): an irregular ellipsoidal atrium with four pulmonary veins
(the label keeps only their first part), an appendage, a mitral plane that cuts the label but
not the blood, neighbours (LV with nulled myocardium, RA, aorta, pulmonary artery, SVC,
oesophagus, spine, lungs), a wall with enhanced scar patches, texture, PSF, bias, slice jitter
and correlated Rician noise. Each case has its own ``numpy.random.Generator`` seeded from
(seed, index), so cases can be generated in parallel or alone, always the same. NumPy does not
promise identical streams across versions: test statistics, not hashes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
import warnings
from pathlib import Path

import nrrd
import numpy as np

from mixseg.data.staging import build_dir, map_jobs
from mixseg.data.synthetic_la.anatomy import Grid, sample_case
from mixseg.data.synthetic_la.render import render_case

log = logging.getLogger(__name__)

__all__ = ["TRAINING_DIR", "case_id", "generate_case", "montage_la", "write_la"]

TRAINING_DIR = "2018LA_Seg_Training Set"  # sic, with the space, as every UA-MT script
SHAPE = (128, 128, 44)
SPACING_MM = 1.25
TRAIN_FRACTION = 0.8  # UA-MT's train.list / test.list
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STAMP = re.compile(rb"# on [0-9: -]+\(GMT\)\.\n")
_STREAM_TAG = 0x1A  # keeps LA streams apart from the ACDC generator's for the same (seed, index)


def case_id(index: int, seed: int) -> str:
    """A 20-character upper-case alphanumeric ID, a pure function of (seed, index)."""
    n = int.from_bytes(hashlib.sha256(f"mixseg-la/{seed}/{index}".encode()).digest()[:16], "big")
    chars = []
    for _ in range(20):
        n, r = divmod(n, 36)
        chars.append(_ALPHABET[r])
    return "".join(chars)


def generate_case(
    index: int,
    seed: int,
    *,
    shape: tuple[int, int, int] = SHAPE,
    spacing: float = SPACING_MM,
) -> dict:
    """Generate one case in memory (pure: the same arguments give the same arrays).

    Args:
        index: case number (>= 0); with ``seed`` it seeds the case's generator.
        seed: base seed (>= 0).
        shape: grid (nx, ny, nz); the anatomy is in mm, so a coarser grid at a larger
            ``spacing`` shows the same case (tests use 64x64x24 at 2.5 mm).
        spacing: isotropic voxel size in mm.

    Returns:
        ``{"image": uint8 (nx, ny, nz), "label": uint8 (nx, ny, nz) in {0, 255},
        "spacing": (s, s, s) mm, "case_id": str}``, axes (x, y, z) = (left, posterior,
        superior).
    """
    if index < 0 or seed < 0:
        raise ValueError(f"index and seed must be >= 0, got {index}, {seed}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, _STREAM_TAG]))
    image, label = render_case(rng, sample_case(rng), Grid.make(shape, spacing))
    return {
        "image": image,
        "label": label,
        "spacing": (float(spacing),) * 3,
        "case_id": case_id(index, seed),
    }


def _save_nrrd(path: Path, array: np.ndarray, spacing: tuple[float, float, float]) -> None:
    origin = [-(n - 1) / 2 * s for n, s in zip(array.shape, spacing, strict=True)]
    header = {
        "type": "uint8",
        "space": "left-posterior-superior",
        "space directions": np.diag(spacing),
        "space origin": np.asarray(origin),
        "kinds": ["domain"] * 3,
        "endian": "little",
        "encoding": "gzip",
    }
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pynrrd calls datetime.utcnow()
        nrrd.write(buf, array, header, compression_level=6)
    # pynrrd stamps the wall-clock time into a header comment; drop it so that the same case
    # gives the same bytes (DVC hashes outputs; workers=1 and workers=2 must agree).
    path.write_bytes(_STAMP.sub(b"", buf.getvalue(), count=1))


def write_case(training: Path, index: int, seed: int, shape: tuple, spacing: float) -> str:
    """Generate case ``index`` and write its folder under ``training``; returns its ID."""
    t0 = time.perf_counter()
    case = generate_case(index, seed, shape=shape, spacing=spacing)
    cdir = training / case["case_id"]
    cdir.mkdir(parents=True)
    _save_nrrd(cdir / "lgemri.nrrd", case["image"], case["spacing"])
    _save_nrrd(cdir / "laendo.nrrd", case["label"], case["spacing"])
    log.debug("case %d (%s) in %.2f s", index, case["case_id"], time.perf_counter() - t0)
    return case["case_id"]


def _write_job(job: tuple) -> str:
    return write_case(*job)


def write_la(
    root: Path,
    n_cases: int,
    seed: int,
    workers: int = 1,
    *,
    shape: tuple[int, int, int] = SHAPE,
    spacing: float = SPACING_MM,
) -> None:
    """Write ``n_cases`` synthetic cases plus ``train.list``/``test.list`` under ``root``.

    Everything is built in ``<root>.tmp-<pid>`` beside ``root`` and renamed at the end, so a
    failure leaves no half-written ``root``. Case ``i`` (1-based) uses a generator seeded from
    (seed, i); the lists split the IDs in sorted order, the first 80 % for training (UA-MT's
    lists are the sorted IDs too, nearly in that order).

    Raises:
        FileExistsError: ``root`` exists.
        ValueError: ``n_cases`` or ``workers`` < 1, or ``seed`` < 0.
    """
    root = Path(root)
    if n_cases < 1 or workers < 1 or seed < 0:
        raise ValueError(f"need n_cases >= 1, workers >= 1, seed >= 0; got {n_cases}, "
                         f"{workers}, {seed}")  # fmt: skip
    if root.exists():
        raise FileExistsError(f"{root} already exists; remove it or choose another folder")
    ids = [case_id(i, seed) for i in range(1, n_cases + 1)]
    if len(set(ids)) != len(ids):  # 2^-100-ish; fail loudly rather than overwrite a case
        raise RuntimeError(f"case ID collision for seed {seed}")
    t0 = time.perf_counter()

    def fill(tmp: Path) -> None:
        training = tmp / TRAINING_DIR
        training.mkdir()
        jobs = [(training, i, seed, tuple(shape), spacing) for i in range(1, n_cases + 1)]
        map_jobs(_write_job, jobs, workers)
        ordered = sorted(ids)
        n_train = min(max(round(TRAIN_FRACTION * n_cases), 1), max(n_cases - 1, 1))
        (tmp / "train.list").write_text("".join(f"{i}\n" for i in ordered[:n_train]))
        (tmp / "test.list").write_text("".join(f"{i}\n" for i in ordered[n_train:]))

    build_dir(root, fill)
    log.info("wrote %d synthetic LA cases to %s in %.1f s (%d worker(s))",
             n_cases, root, time.perf_counter() - t0, workers)  # fmt: skip


def montage_la(root: Path, out_png: Path, n: int = 4) -> None:
    """Picture of the first ``n`` cases under ``root`` (see ``montage``)."""
    from mixseg.data.synthetic_la.montage import montage_la as _montage

    _montage(root, out_png, n)
