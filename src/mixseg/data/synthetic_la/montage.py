"""A montage of an LA-format folder, to look at the (synthetic) data.

One row per case. Columns: three axial slices (inferior, middle, superior third of the label's
z range) with the label contour in red; a coronal and a sagittal slice through the label's
centre; the label's surface seen from above and from the front (shaded depth maps), where the
vein stubs and the appendage stand out. Displayed in radiological convention: anterior up,
patient left on the right of the image. Works on the real challenge data too (it reads through
``mixseg.data.la``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from mixseg.data.la import find_cases, read_case  # noqa: E402

log = logging.getLogger(__name__)


def _show(ax, image, label, window, title, aspect=1.0) -> None:
    ax.imshow(image, cmap="gray", vmin=window[0], vmax=window[1], interpolation="nearest",
              aspect=aspect)  # fmt: skip
    if label is not None and label.any():
        ax.contour(label, levels=[0.5], colors="red", linewidths=0.7)
    ax.set_title(title, fontsize=7)
    ax.set_axis_off()


def _surface(label: np.ndarray, axis: int, from_high: bool, spacing) -> np.ndarray:
    """Lambert-shaded depth map of a (z, y, x) mask seen along ``axis``, cropped to the mask."""
    hit = label.any(axis=axis)
    n = label.shape[axis]
    first = np.argmax(np.flip(label, axis) if from_high else label, axis=axis)
    height = ((n - 1 - first) if from_high else -first) * spacing[axis]  # towards the viewer
    height = ndimage.gaussian_filter(np.where(hit, height, height[hit].min()), 1.0)
    rest = [s for i, s in enumerate(spacing) if i != axis]
    gr, gc = np.gradient(height, *rest)
    normal = np.stack([-gr, -gc, np.ones_like(gr)])
    shade = np.tensordot([0.4, -0.5, 0.77], normal / np.linalg.norm(normal, axis=0), axes=1)
    rows, cols = np.flatnonzero(hit.any(axis=1)), np.flatnonzero(hit.any(axis=0))
    box = (slice(max(rows[0] - 3, 0), rows[-1] + 4), slice(max(cols[0] - 3, 0), cols[-1] + 4))
    return np.ma.masked_where(~hit[box], np.clip(shade, 0.05, 1.0)[box])


def montage_la(root: Path, out_png: Path, n: int = 4) -> None:
    """Draw the first ``n`` cases found in ``root`` to ``out_png``.

    Raises:
        DataError: ``root`` holds no readable LA case.
    """
    cases = find_cases(Path(root))[:n]
    fig, axes = plt.subplots(len(cases), 7, figsize=(14, 2.2 * len(cases)), squeeze=False)
    for row, cdir in zip(axes, cases, strict=True):
        case = read_case(cdir)
        img, lab = case.image, case.label  # (z, y, x)
        sz, sy, sx = case.spacing
        zs = np.flatnonzero(lab.any(axis=(1, 2)))
        _, cy, cx = (int(round(c)) for c in np.argwhere(lab).mean(axis=0))
        window = tuple(np.percentile(img, (0.5, 99.8)))
        vol_ml = lab.sum() * sz * sy * sx / 1000
        for col, q in enumerate((0.2, 0.5, 0.8)):
            z = int(zs[0] + q * (zs[-1] - zs[0]))
            title = f"{case.case_id[:8]}… axial z={z}" if col == 0 else f"axial z={z}"
            _show(row[col], img[z], lab[z], window, title, sy / sx)
        # Superior up: flip z for the coronal (x-z) and sagittal (y-z) views.
        _show(row[3], img[::-1, cy, :], lab[::-1, cy, :], window, f"coronal y={cy}", sz / sx)
        _show(row[4], img[::-1, :, cx], lab[::-1, :, cx], window, f"sagittal x={cx}", sz / sy)
        top = _surface(lab, 0, True, case.spacing)  # from superior: (y, x)
        front = _surface(lab, 1, False, case.spacing)[::-1]  # from anterior: (z, x), sup. up
        for ax, shade, aspect, name in (
            (row[5], top, sy / sx, f"label from above ({vol_ml:.0f} mL)"),
            (row[6], front, sz / sx, "label from the front"),
        ):
            ax.imshow(shade, cmap="bone", vmin=0, vmax=1, interpolation="nearest", aspect=aspect)
            ax.set_title(name, fontsize=7)
            ax.set_axis_off()
    nz, ny, nx = img.shape
    fig.suptitle(
        f"LA GE-MRI, first {len(cases)} cases: {nx}x{ny}x{nz} at {sx:.2f} mm (axial: anterior up, "
        "patient left on the right). Red: LA label",
        fontsize=9,
    )
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=72)
    plt.close(fig)
    log.info("wrote %s (%d cases)", out_png, len(cases))
