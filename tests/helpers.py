"""Test helpers: tiny ACDC-format patients written with nibabel directly (not our generator)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np


def write_acdc_patient(
    root: Path,
    pid: int,
    ed: int = 1,
    es: int = 10,
    shape: tuple[int, int, int] = (40, 36, 6),
    spacing: tuple[float, float, float] = (1.5, 1.5, 10.0),
    group: str = "NOR",
) -> Path:
    """Write ``root/training/patientXXX`` with a disc-shaped LV (label 3) inside a MYO ring (2).

    Arrays are (x, y, z) as ACDC stores them; returns the patient folder.
    """
    pdir = root / "training" / f"patient{pid:03d}"
    pdir.mkdir(parents=True, exist_ok=True)
    (pdir / "Info.cfg").write_text(
        f"ED: {ed}\nES: {es}\nGroup: {group}\nHeight: 170.0\nNbFrame: 30\nWeight: 70.0\n"
    )
    affine = np.diag([*spacing, 1.0])
    x, y = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    rng = np.random.default_rng(pid)
    for frame, radius in ((ed, 9.0), (es, 6.0)):
        r = np.hypot(x - shape[0] / 2, y - shape[1] / 2)
        lab2d = np.where(r < radius, 3, np.where(r < radius + 3, 2, 0)).astype(np.uint8)
        lab2d[(x < 5) & (y < 5)] = 1
        label = np.repeat(lab2d[:, :, None], shape[2], axis=2)
        image = (label * 100 + rng.normal(0, 10, shape)).astype(np.int16)
        stem = pdir / f"patient{pid:03d}_frame{frame:02d}"
        nib.save(nib.Nifti1Image(image, affine), f"{stem}.nii.gz")
        nib.save(nib.Nifti1Image(label, affine), f"{stem}_gt.nii.gz")
    return pdir
