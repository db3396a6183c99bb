"""Offline synthetic ACDC-like cine MRI (short axis, ED + ES), written in the real ACDC format.

What ``write_acdc`` writes (the layout of the official archive, read by ``mixseg.data.acdc``)::

    <root>/training/patient001/Info.cfg                      ED, ES, Group, Height, NbFrame, Weight
    <root>/training/patient001/patient001_frame01.nii.gz     ED image, int16, axes (x, y, z)
    <root>/training/patient001/patient001_frame01_gt.nii.gz  labels uint8: 0 bg, 1 RV, 2 MYO, 3 LV
    <root>/training/patient001/patient001_frameYY[_gt].nii.gz  ES, YY = ES from Info.cfg

No ``patientXXX_4d.nii.gz`` is written. The affine is diag(px, px, dz, 1) with px in
[0.70, 1.92] mm (mostly 1.25-1.75), a 160-384 pixel matrix covering a 260-400 mm field of view,
and dz in [5, 10] mm (mostly 10); 6-12 slices per volume. Groups come in
proportional blocks in id order (for 100 patients: 001-020 DCM, 021-040 HCM, 041-060 MINF,
061-080 NOR, 081-100 RV, as in the real training set), so any n >= 5 holds all five groups.

The model (heart, body, MR image formation) and its tested parameter ranges are described in
embedded-data.md section 2.1; see ``anatomy`` (sampling), ``body`` and ``render`` (painting). On
top of that prototype (issue 14, calibrated on the Lower and Upper bound rows only; README
"Embedded (synthetic) data"), the variability of the real archive: two field strengths
(``anatomy.FIELD``: contrast, SNR, coil bias, 3 T B1 shading and bSSFP banding), pixel sizes and
matrices, heart pose and size, basal slices opening into the LV outflow tract, a fluid-filled
(bright) stomach, blood-pool flow inhomogeneity, and more irregular cavities with larger papillary
muscles and trabeculations inside the LV label. Each patient has its own ``numpy.random.Generator``
seeded from (seed, index), so patients can be generated in parallel or alone, always the same.
NumPy does not promise identical streams across versions: test statistics, not hashes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import nibabel as nib
import numpy as np

from mixseg.data.staging import build_dir, map_jobs
from mixseg.data.synthetic_acdc.anatomy import GROUPS, sample_patient
from mixseg.data.synthetic_acdc.render import render_patient

log = logging.getLogger(__name__)

__all__ = ["GROUPS", "generate_patient", "group_of", "montage_acdc", "write_acdc"]


def group_of(index: int, n_patients: int = 100) -> str:
    """Pathology group of patient ``index`` (1-based) among ``n_patients``: proportional blocks.

    Raises:
        ValueError: ``index`` is not in [1, n_patients].
    """
    if not 1 <= index <= n_patients:
        raise ValueError(f"patient index {index} outside [1, {n_patients}]")
    return GROUPS[((index - 1) * len(GROUPS)) // n_patients]


def generate_patient(index: int, seed: int, group: str | None = None) -> dict:
    """Generate one patient, in memory (pure: the same arguments give the same arrays).

    Args:
        index: patient number, 1-based (``patient001`` is 1); with ``seed`` it seeds the
            patient's generator.
        seed: base seed (non-negative).
        group: one of ``GROUPS``; default: the group of ``index`` in the 100-patient block
            order (001-020 DCM, ..., 081-100 RV; indices above 100 cycle).

    Returns:
        ``{"group": str, "info": {Info.cfg key: str value}, "spacing": (px, px, dz) mm,
        "frames": {ed: (image, label), es: (image, label)}}`` with frame numbers as ints,
        images int16 and labels uint8 of shape (nx, ny, nz), axes (x, y, z).
    """
    if group is None:
        group = group_of((index - 1) % 100 + 1)
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    patient = sample_patient(rng, group)
    volumes = render_patient(rng, patient)
    ed, es = int(patient.info["ED"]), int(patient.info["ES"])
    acq = patient.acq
    return {
        "group": group,
        "info": dict(patient.info),
        "frames": {ed: volumes[False], es: volumes[True]},
        "spacing": (acq.px, acq.px, acq.dz),
    }


def _save_nifti(array: np.ndarray, spacing: tuple[float, float, float], path: Path) -> None:
    affine = np.diag([*spacing, 1.0])
    img = nib.Nifti1Image(array, affine)
    img.header.set_zooms(spacing)
    img.header.set_xyzt_units("mm")
    # Both qform and sform carry the affine, so every reader finds the same spacing.
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, path)


def write_patient(training: Path, index: int, seed: int, group: str) -> float:
    """Generate patient ``index`` and write its folder under ``training``; returns seconds."""
    t0 = time.perf_counter()
    pat = generate_patient(index, seed, group)
    name = f"patient{index:03d}"
    pdir = training / name
    pdir.mkdir(parents=True)
    keys = ("ED", "ES", "Group", "Height", "NbFrame", "Weight")
    (pdir / "Info.cfg").write_text("".join(f"{k}: {pat['info'][k]}\n" for k in keys))
    for frame, (image, label) in pat["frames"].items():
        stem = pdir / f"{name}_frame{frame:02d}"
        _save_nifti(image, pat["spacing"], stem.with_name(stem.name + ".nii.gz"))
        _save_nifti(label, pat["spacing"], stem.with_name(stem.name + "_gt.nii.gz"))
    return time.perf_counter() - t0


def _write_job(job: tuple[Path, int, int, str]) -> float:
    return write_patient(*job)


def write_acdc(root: Path, n_patients: int, seed: int, workers: int = 1) -> None:
    """Write ``n_patients`` synthetic patients to ``<root>/training`` atomically.

    Everything is built in ``<root>.tmp-<pid>`` beside ``root`` and renamed to ``root`` at the
    end, so a failure leaves no half-written ``root``.

    Args:
        root: output folder; must not exist.
        n_patients: number of patients (>= 5 to have every group).
        seed: base seed; patient ``i`` uses a generator seeded from (seed, i).
        workers: processes; > 1 uses a process pool (the output does not depend on it).

    Raises:
        FileExistsError: ``root`` exists.
        ValueError: ``n_patients`` or ``workers`` < 1, or ``seed`` < 0.
    """
    root = Path(root)
    if n_patients < 1 or workers < 1 or seed < 0:
        raise ValueError(f"need n_patients >= 1, workers >= 1, seed >= 0; got {n_patients}, "
                         f"{workers}, {seed}")  # fmt: skip
    if root.exists():
        raise FileExistsError(f"{root} already exists; remove it or choose another folder")
    t0 = time.perf_counter()

    def fill(tmp: Path) -> None:
        training = tmp / "training"
        training.mkdir()
        jobs = [(training, i, seed, group_of(i, n_patients)) for i in range(1, n_patients + 1)]
        map_jobs(_write_job, jobs, workers)

    build_dir(root, fill)
    log.info("wrote %d synthetic ACDC patients to %s in %.1f s (%d worker(s))",
             n_patients, root, time.perf_counter() - t0, workers)  # fmt: skip


def montage_acdc(root: Path, out_png: Path, n: int = 5) -> None:
    """Picture of the first patient of each group in ``root`` (see ``montage``)."""
    from mixseg.data.synthetic_acdc.montage import montage_acdc as _montage

    _montage(root, out_png, n)
