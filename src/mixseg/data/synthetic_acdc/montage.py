"""A montage of an ACDC-format folder: one row per group, to look at the (synthetic) data.

Columns: ED mid-ventricular slice over the full field of view; a 100 mm crop around the LV of
the same slice, without and with the label contours (RV cyan, MYO yellow, LV red); the ES slice
at the same level; the most apical ED slice with LV; the first (most basal) slice. Works on the
real archive too, since it reads through ``mixseg.data.acdc``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mixseg.data.acdc import find_patients, read_info, read_patient  # noqa: E402

log = logging.getLogger(__name__)
CONTOURS = ((1, "cyan"), (2, "yellow"), (3, "red"))
CROP_MM = 50.0


def _first_per_group(root: Path, n: int) -> list[Path]:
    seen: dict[str, Path] = {}
    for pdir in find_patients(root):
        seen.setdefault(read_info(pdir).group, pdir)
        if len(seen) == n:
            break
    return list(seen.values())


def _show(ax, image, label, window, box=None, title="", contours=False) -> None:
    """Draw a (y, x) slice, optionally cropped to ``box`` = (y0, y1, x0, x1), with contours."""
    if box is not None:
        y0, y1, x0, x1 = box
        image, label = image[y0:y1, x0:x1], label[y0:y1, x0:x1]
    ax.imshow(image, cmap="gray", vmin=window[0], vmax=window[1], interpolation="nearest")
    if contours:
        for value, colour in CONTOURS:
            if (label == value).any():
                ax.contour(label == value, levels=[0.5], colors=colour, linewidths=0.8)
    ax.set_title(title, fontsize=7)
    ax.set_axis_off()


def montage_acdc(root: Path, out_png: Path, n: int = 5) -> None:
    """Draw the first patient of each of up to ``n`` groups found in ``root`` to ``out_png``.

    Raises:
        DataError: ``root`` holds no readable ACDC patients.
    """
    patients = _first_per_group(Path(root), n)
    fig, axes = plt.subplots(len(patients), 6, figsize=(12, 2.1 * len(patients)), squeeze=False)
    for row, pdir in zip(axes, patients, strict=True):
        info, frames = read_patient(pdir)
        ed = next(f for f in frames if f.case_id.endswith(f"frame{info.ed:02d}"))
        es = next(f for f in frames if f.case_id.endswith(f"frame{info.es:02d}"))
        lv_slices = np.flatnonzero((ed.label == 3).any(axis=(1, 2)))
        mid, apex = int(lv_slices[len(lv_slices) // 2]), int(lv_slices[-1])
        window = tuple(np.percentile(ed.image, (1, 99.5)))
        ys, xs = np.nonzero(ed.label[mid] == 3)
        half_y, half_x = int(CROP_MM / ed.spacing[1]), int(CROP_MM / ed.spacing[2])
        cy, cx = int(ys.mean()), int(xs.mean())
        box = (max(cy - half_y, 0), cy + half_y, max(cx - half_x, 0), cx + half_x)
        nz, ny, nx = ed.image.shape
        spacing = "x".join(f"{s:.2f}" for s in ed.spacing[::-1])
        _show(
            row[0],
            ed.image[mid],
            ed.label[mid],
            window,
            title=f"{info.patient_id} {info.group} ED\n{nx}x{ny}x{nz}, {spacing} mm",
        )
        _show(row[1], ed.image[mid], ed.label[mid], window, box, f"ED mid (z={mid})")
        _show(row[2], ed.image[mid], ed.label[mid], window, box, "ED mid + labels", True)
        _show(row[3], es.image[mid], es.label[mid], window, box, f"ES (frame {info.es}) mid", True)
        _show(row[4], ed.image[apex], ed.label[apex], window, box, f"ED apical (z={apex})", True)
        _show(row[5], ed.image[0], ed.label[0], window, box, "ED first slice (z=0)", True)
    fig.suptitle("Synthetic ACDC-like cine SAX. Contours: cyan RV (1), yellow MYO (2), red LV (3)",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=80)
    plt.close(fig)
    log.info("wrote %s (%d patients)", out_png, len(patients))
