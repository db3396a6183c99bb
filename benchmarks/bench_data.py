"""Data stages: partial-label erosion per volume and preprocessing per patient.

- Erosion: ``mixseg.data.weak_labels.weak_label_slices`` (what ``erode-labels@acdc`` runs per
  case) with each preset's ``weak`` parameters, on canonical ACDC-like volumes of that preset
  (``benchmarks.volumes``: cpu 10 x 64 x 64, paper 10 x 256 x 256).
- Preprocessing: ``mixseg.data.prepare._acdc_patient`` (what ``preprocess@acdc`` runs per
  patient: read both frames' NIfTI files, normalise, resample, write the two canonical ``.npz``)
  on synthetic patients written by ``mixseg.data.synthetic_acdc.write_acdc`` into a temporary
  folder; ``read_patient`` alone is reported too (the NIfTI decoding part).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import load_params, record, timed
from benchmarks.volumes import canonical_volumes

NAME = "data"


def run(quick: bool, **_: Any) -> dict[str, Any]:
    from mixseg import config
    from mixseg.data import acdc
    from mixseg.data.prepare import _acdc_patient
    from mixseg.data.synthetic_acdc import write_acdc
    from mixseg.data.weak_labels import weak_label_slices

    params = load_params()
    results = []
    n_vol = 3 if quick else 10
    repeats = 3 if quick else 10
    for preset in ("cpu", "paper"):
        weak = config.load_section(params, f"presets.{preset}.acdc.weak", config.WeakParams)
        pre = config.load_section(
            params, f"presets.{preset}.acdc.preprocess", config.PreprocessParams
        )
        vols = canonical_volumes(n_vol, pre.mode, tuple(pre.size), pre.spacing_mm)

        def erode_all(vols=vols, weak=weak):
            for v in vols:
                weak_label_slices(v.label, weak.iterations, weak.connectivity, weak.per_object)

        secs = timed(erode_all, repeats=repeats, warmup=1)
        results.append(
            record(
                f"{preset}/erosion",
                "ms/volume",
                [1e3 * s / len(vols) for s in secs],
                params={
                    "volumes": len(vols),
                    "shape_of_first": list(vols[0].label.shape),
                    **config.as_dict(weak),
                },
                note="weak_label_slices on one label volume",
            )
        )

    n_pat = 2 if quick else 5
    with tempfile.TemporaryDirectory(prefix="mixseg-bench-") as tmp:
        raw = Path(tmp) / "raw"
        write_acdc(raw, n_pat, seed=0, workers=1)
        patients = acdc.find_patients(raw)

        def read_all():
            for p in patients:
                acdc.read_patient(p)

        secs = timed(read_all, repeats=repeats, warmup=1)
        results.append(
            record(
                "read_patient",
                "ms/patient",
                [1e3 * s / len(patients) for s in secs],
                params={"patients": len(patients)},
                note="acdc.read_patient: Info.cfg + 4 NIfTI files (ED, ES images and labels)",
            )
        )
        for preset in ("cpu", "paper"):
            pre = config.load_section(
                params, f"presets.{preset}.acdc.preprocess", config.PreprocessParams
            )
            cases = Path(tmp) / f"cases-{preset}"
            cases.mkdir()

            def prep_all(pre=pre, cases=cases):
                for p in patients:
                    _acdc_patient((p, cases, pre))

            secs = timed(prep_all, repeats=repeats, warmup=1)
            results.append(
                record(
                    f"{preset}/preprocess",
                    "ms/patient",
                    [1e3 * s / len(patients) for s in secs],
                    params={"patients": len(patients), **config.as_dict(pre)},
                    note="prepare._acdc_patient: read, normalise, resample, save 2 cases",
                )
            )
    return {"results": results}
