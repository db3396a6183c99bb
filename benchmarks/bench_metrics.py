"""Evaluation time per patient: ``mixseg.metrics.case_metrics`` (DSC, HD95 and ASSD from one
pass over the surface distances) against medpy's ``dc`` + ``hd95`` (what the paper's code calls)
on the same volumes, with equal values checked to 1e-6 mm.

Volumes: canonical ACDC-like ED volumes (``benchmarks.volumes``) at the cpu preset (about
10 x 64 x 64, (10, 2, 2) mm) and at the paper's 256 x 256 (in-plane ~0.9 mm, 10 mm slices), and
LA-like volumes as the cpu preset crops them (about 44 x 70 x 70 at 1.25 mm isotropic);
predictions = perturbed ground truth. One repeat = every volume of the set once; the time
ratio medpy/ours is paired per repeat.

medpy is a benchmark-only dependency (``requirements-bench.txt``). Without it, the comparison
falls back to ``medpy_like``: a plain scipy re-implementation of medpy's algorithm (surface =
mask XOR erosion by the 3D cross; ``distance_transform_edt`` with the spacing on the full
volume, once per direction; pooled 95th percentile), and every record says so.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy import ndimage

from benchmarks.common import record, timed_interleaved
from benchmarks.volumes import canonical_volumes, la_volumes, perturbed_prediction

NAME = "metrics"
TOL_MM = 1e-6


def _medpy_like_sds(result, reference, spacing):
    fp = ndimage.generate_binary_structure(result.ndim, 1)
    rb = result ^ ndimage.binary_erosion(result, structure=fp, iterations=1)
    gb = reference ^ ndimage.binary_erosion(reference, structure=fp, iterations=1)
    return ndimage.distance_transform_edt(~gb, sampling=spacing)[rb]


def medpy_like_hd95(result, reference, spacing):
    r, g = np.asarray(result, bool), np.asarray(reference, bool)
    d = np.hstack((_medpy_like_sds(r, g, spacing), _medpy_like_sds(g, r, spacing)))
    return float(np.percentile(d, 95))


def medpy_like_dc(result, reference):
    r, g = np.asarray(result, bool), np.asarray(reference, bool)
    return 2.0 * np.count_nonzero(r & g) / float(np.count_nonzero(r) + np.count_nonzero(g))


def _reference_impl():
    """(label, dc, hd95(result, reference, spacing)) of the comparison implementation."""
    try:
        import medpy
        from medpy.metric.binary import dc, hd95

        version = getattr(medpy, "__version__", None)
        if version is None:
            from importlib.metadata import version as _v

            version = _v("medpy")
        return f"medpy {version}", dc, lambda r, g, s: hd95(r, g, voxelspacing=s)
    except ImportError:
        return (
            "medpy_like (scipy re-implementation of medpy's algorithm; medpy not installed)",
            medpy_like_dc,
            medpy_like_hd95,
        )


def run(quick: bool, **_: Any) -> dict[str, Any]:
    from mixseg.metrics import case_metrics

    label, ref_dc, ref_hd95 = _reference_impl()
    n = 3 if quick else 10
    volumes = {
        "cpu64": canonical_volumes(n, "crop", (64, 64), 2.0),
        "paper256": canonical_volumes(n, "resize", (256, 256), None),
        "la_cpu": la_volumes(2 if quick else 6),
    }
    results = []
    for (vol_name, vols), fp in itertools.product(volumes.items(), (True, False)):
        set_name = vol_name + ("" if fp else "_boundary_only")
        cases = [
            (v.label.astype(bool), perturbed_prediction(v.label, i, fp).astype(bool), v.spacing)
            for i, v in enumerate(vols)
        ]
        ours_vals = [case_metrics(p, g, s) for g, p, s in cases]
        ref_vals = [(ref_dc(p, g), ref_hd95(p, g, s)) for g, p, s in cases]
        d_hd = max(abs(o["hd95"] - r[1]) for o, r in zip(ours_vals, ref_vals, strict=True))
        d_dc = max(abs(o["dsc"] - r[0]) for o, r in zip(ours_vals, ref_vals, strict=True))

        def ours(cases=cases):
            for g, p, s in cases:
                case_metrics(p, g, s)

        def reference(cases=cases):
            for g, p, s in cases:
                ref_dc(p, g)
                ref_hd95(p, g, s)

        secs = timed_interleaved(
            {"ours": ours, "reference": reference},
            repeats=3 if quick else 15,
            warmup=1,
        )
        per = len(cases)
        p = {
            "volumes": per,
            "prediction": "boundary errors + one far false-positive blob"
            if fp
            else "boundary errors only",
            "shape_of_first": list(vols[0].label.shape),
            "spacing_of_first_mm": [round(x, 4) for x in vols[0].spacing],
            "hd95_mm": [round(o["hd95"], 3) for o in ours_vals],
            "dsc": [round(o["dsc"], 4) for o in ours_vals],
            "reference": label,
        }
        results.append(
            record(
                f"{set_name}/ours_case_metrics",
                "ms/patient",
                [1e3 * t / per for t in secs["ours"]],
                params=p,
                note="mixseg.metrics.case_metrics: DSC + HD95 (+ ASSD) of one patient volume",
            )
        )
        results.append(
            record(
                f"{set_name}/reference_dc_hd95",
                "ms/patient",
                [1e3 * t / per for t in secs["reference"]],
                params=p,
                note=f"{label}: dc + hd95",
            )
        )
        results.append(
            record(
                f"{set_name}/speedup_reference_over_ours",
                "x",
                [r / o for o, r in zip(secs["ours"], secs["reference"], strict=True)],
                params=p,
                target=">= 10",
                note=f"time {label} / time ours, paired per repeat",
            )
        )
        results.append(
            record(
                f"{set_name}/hd95_max_abs_diff",
                "mm",
                [d_hd],
                params=p,
                target=f"<= {TOL_MM}",
                note=f"largest /ours - {label}/ HD95 over the volumes",
            )
        )
        results.append(
            record(
                f"{set_name}/dsc_max_abs_diff",
                "dsc",
                [d_dc],
                params=p,
                target=f"<= {TOL_MM}",
            )
        )
    return {"results": results, "reference_implementation": label}
