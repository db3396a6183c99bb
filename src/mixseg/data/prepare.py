"""The ``preprocess`` stage's library: raw data -> canonical cases + ``splits.json``.

ACDC (paper section 4): each annotated frame (ED, ES) of each of the 100 training exams is one
case; the target is the LV cavity (label 3) vs everything else; intensities are normalised per
volume; slices are brought to the preset's in-plane grid (``canonical.resample_inplane``), keeping
the voxel spacing of the new grid so metrics can be computed in mm.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from mixseg.config import PreprocessParams, SettingsParams, SplitParams
from mixseg.data import acdc
from mixseg.data.canonical import Case, normalize_intensity, resample_inplane, save_case
from mixseg.data.splits import labelling_order, make_settings, split_patients

log = logging.getLogger(__name__)


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    os.replace(tmp, path)


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
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "cases").mkdir(parents=True)
    try:
        jobs = [(p, tmp / "cases", pre) for p in patients]
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                results = list(pool.map(_acdc_patient, jobs))
        else:
            results = [_acdc_patient(j) for j in jobs]
        groups = {pid: group for pid, group, _ in results}
        split_sets = split_patients(groups, (split.train, split.val, split.test), split.seed)
        order = labelling_order(split_sets["train"], groups, split.seed)
        meta = {
            "dataset": "acdc",
            "patients": {pid: {"group": g, "cases": c} for pid, g, c in results},
            **split_sets,
            "order": order,
            "default_ratio": settings.default_ratio,
            "settings": make_settings(
                order, settings.n_full, settings.ratios, settings.default_ratio
            ),
        }
        atomic_write_json(tmp / "splits.json", meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    log.info("preprocessed %d patients (%d cases)", len(results), sum(len(r[2]) for r in results))
    return meta
