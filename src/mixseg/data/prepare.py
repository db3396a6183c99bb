"""The ``preprocess`` stage's library: raw data -> canonical cases + ``splits.json``.

ACDC (paper section 4): each annotated frame (ED, ES) of each of the 100 training exams is one
case; the target is the LV cavity (label 3) vs everything else; intensities are normalised per
volume; slices are brought to the preset's in-plane grid (``canonical.resample_inplane``), keeping
the voxel spacing of the new grid so metrics can be computed in mm.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mixseg import atomic
from mixseg.config import PreprocessParams, SettingsParams, SplitParams
from mixseg.data import acdc
from mixseg.data.canonical import Case, normalize_intensity, resample_inplane, save_case
from mixseg.data.splits import splits_meta
from mixseg.data.staging import build_dir, map_jobs

log = logging.getLogger(__name__)


def _acdc_patient(args: tuple[Path, Path, PreprocessParams]) -> tuple[str, str, list[str]]:
    """Preprocess one ACDC patient; returns (patient id, group, case ids)."""
    patient_dir, cases_dir, pre = args
    info, frames = acdc.read_patient(patient_dir)
    case_ids = []
    for frame in frames:
        image = normalize_intensity(frame.image, pre.percentiles)
        label = (frame.label == acdc.LV_LABEL).astype("uint8")
        image, label, spacing = resample_inplane(
            image, label, frame.spacing, pre.mode, pre.size, pre.spacing_mm
        )
        case = Case(frame.case_id, info.patient_id, image, label, spacing)
        save_case(cases_dir / f"{frame.case_id}.npz", case)
        case_ids.append(frame.case_id)
    return info.patient_id, info.group, case_ids


def prepare_acdc(
    raw_root: Path,
    out_dir: Path,
    pre: PreprocessParams,
    split: SplitParams,
    settings: SettingsParams,
    workers: int = 1,
) -> dict[str, Any]:
    """Preprocess every ACDC training patient under ``raw_root`` into ``out_dir``.

    Writes ``out_dir/cases/<case_id>.npz`` and ``out_dir/splits.json``; the whole directory is
    built under a temporary name and renamed at the end.

    Returns:
        The content of ``splits.json``.

    Raises:
        DataError: any raw file is bad (the message names it); nothing is left in ``out_dir``.
    """
    patients = acdc.find_patients(raw_root)

    def fill(tmp: Path) -> dict[str, Any]:
        (tmp / "cases").mkdir()
        jobs = [(p, tmp / "cases", pre) for p in patients]
        results = map_jobs(_acdc_patient, jobs, workers)
        records = {pid: {"group": g, "cases": c} for pid, g, c in results}
        meta = splits_meta("acdc", records, split, settings)
        atomic.write_json(tmp / "splits.json", meta)
        return meta

    meta = build_dir(out_dir, fill)
    n_cases = sum(len(p["cases"]) for p in meta["patients"].values())
    log.info("preprocessed %d patients (%d cases)", len(meta["patients"]), n_cases)
    return meta
