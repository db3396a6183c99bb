"""Painting and MR image formation of a synthetic LA case (embedded-data.md section 2.2).

Painting goes back to front on partial-volume fractions of signed distances: mediastinal tissue
with patchy fat, lungs (with bright vessel dots) lateral to the mediastinum, spine, great vessels,
right atrium, LV (fat, nulled myocardium), the atrial wall with enhanced scar, and last the blood
of the LA, veins, appendage, mitral orifice and LV cavity. Blood is continuous across the mitral
plane; only the label stops there. The label is a hard threshold of its own signed distance:
LA body, the first segment of each vein up to its label length, the appendage and the orifice,
all on the LA side of the mitral plane.

Arrays are (nx, ny, nz) float32, axes (x, y, z) as stored in the NRRD file.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from mixseg.data.synthetic_la.anatomy import F32, Grid, LAModel, boxed

WALL_MM = 2.5  # atrial wall
MYO_MM = 9.0  # LV myocardium
FAT_MM = 3.0  # epicardial fat around the LV


def pv(f: np.ndarray, width: float) -> np.ndarray:
    """Partial-volume fraction of a signed distance ``f`` (mm) over ``width`` mm."""
    return np.clip(0.5 - f / width, 0.0, 1.0)


def paint(img: np.ndarray, frac: np.ndarray, value: float | np.ndarray) -> None:
    """In place: ``img <- img + frac * (value - img)``."""
    img += frac * (value - img)


def smooth_field(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Gaussian random field with std 1 and correlation ``sigma`` voxels (float32).

    Large sigmas are filtered on a coarser grid and upsampled linearly (same look, 10x cheaper).
    """
    f = max(1, int(sigma // 2))
    low = tuple(n // f + 3 for n in shape)
    w = ndimage.gaussian_filter(rng.standard_normal(low, dtype=F32), sigma / f, mode="wrap")
    if f > 1:
        w = ndimage.zoom(w, f, order=1)
    w = w[tuple(slice(0, n) for n in shape)]
    return (w - w.mean()) / (w.std() + 1e-6)


def _noise_gain(sigma: float) -> float:
    """1 / std of white noise after ``ndimage.gaussian_filter(sigma)`` in 3D."""
    r = int(4.0 * sigma + 0.5)
    w = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    w /= w.sum()
    return float((w**2).sum() ** -1.5)


def case_sdfs(p: LAModel, g: Grid) -> dict[str, np.ndarray]:
    """Signed distances (mm) of every structure on the full grid (BIG outside their boxes)."""
    s = g.spacing
    d = {"body": boxed(g, p.la.bounds(12.0), lambda sub: p.la.sdf(sub, p.bumps))}
    stubs, veins = [], []
    for v in p.veins:
        veins += [boxed(g, v.seg1.bounds(s), v.seg1.sdf), boxed(g, v.seg2.bounds(s), v.seg2.sdf)]
        stubs.append(
            boxed(g, v.seg1.bounds(s), lambda sub, t=v.seg1, n=v.label_len: np.maximum(
                t.sdf(sub), t.axial(sub) - n))
        )  # fmt: skip
    d["veins"] = np.minimum.reduce(veins)
    d["stubs"] = np.minimum.reduce(stubs)
    d["laa"] = np.minimum(*(boxed(g, t.bounds(s), t.sdf) for t in p.laa))
    d["funnel"] = boxed(g, p.funnel.bounds(s), p.funnel.sdf)
    d["la_blood"] = np.minimum.reduce([d["body"], d["veins"], d["laa"], d["funnel"]])
    c, n = p.la.c, p.normal
    axes = zip((g.x, g.y, g.z), c, n, strict=True)
    d["plane"] = sum((ax - float(ci)) * float(ni) for ax, ci, ni in axes) - p.plane
    union = np.minimum.reduce([d["body"], d["stubs"], d["laa"], d["funnel"]])
    d["label"] = np.maximum(union, d["plane"])

    def lv(sub: Grid) -> np.ndarray:
        # Cavity and epicardium stacked on a new first axis; both truncated at the base.
        u0 = p.lv.local(sub)[0]
        cav = np.maximum(p.lv.sdf(sub), -u0 - p.lv_base)
        epi_shape = type(p.lv)(p.lv.c, p.lv.rot, p.lv.semi + MYO_MM)
        epi = np.maximum(epi_shape.sdf(sub), -u0 - (p.lv_base + 3.0))
        return np.stack([cav, epi])

    lv_lo, lv_hi = p.lv.bounds(MYO_MM + FAT_MM + 2 * s)
    both = np.full((2, *g.shape), 1e3, F32)
    hit = g.box(lv_lo, lv_hi)
    if hit is not None:
        both[(slice(None), *hit[0])] = lv(hit[1])
    d["lv_cavity"], d["lv_epi"] = both[0], both[1]
    d["ra"] = boxed(g, p.ra.bounds(4.0), p.ra.sdf)
    d["rv"] = boxed(g, p.rv.bounds(5.0), p.rv.sdf)
    d["vessels"] = [(key, boxed(g, t.bounds(2.0 + s), t.sdf)) for key, t in p.vessels]
    d["spine"] = [boxed(g, t.bounds(s), t.sdf) for t in p.spine]
    return d


def paint_clean(rng: np.random.Generator, p: LAModel, g: Grid, d: dict) -> np.ndarray:
    """Noise-free image (nx, ny, nz) float32, LA blood = 1."""
    s, iv = g.spacing, p.iv
    img = np.full(g.shape, iv["tissue"], F32)
    fat = np.clip(smooth_field(rng, g.shape, 5.0 / s) - 0.3, 0.0, 1.0)
    paint(img, fat, iv["fat"])
    # Lungs: lateral to a mediastinal slab that narrows posteriorly, kept off the organs.
    xm, half, slope = p.slab
    edge = half - slope * (g.y - float(p.la.c[1]))
    for amp, wavelength, phase, axis in p.wobble:
        edge = edge + amp * np.sin((g.y if axis == 1 else g.z) * (2 * np.pi / wavelength) + phase)
    inside = edge - np.abs(g.x - xm)
    organs = np.minimum.reduce(
        [d["la_blood"] - WALL_MM, d["ra"] - 2.0, d["rv"] - 3.0, d["lv_epi"] - FAT_MM, *d["spine"]]
        + [v - 1.5 for _, v in d["vessels"]]
    )
    lung = pv(inside, 3 * s) * (1.0 - pv(organs - p.lung_margin, 2 * s))
    dots = rng.random(g.shape, dtype=F32) < p.acq["dot_density"]
    dots = ndimage.gaussian_filter(dots.astype(F32), 0.7) * (iv["dots"] * 8.0)
    paint(img, lung, iv["lung"] + dots)
    paint(img, pv(d["spine"][0], s), iv["cortex"])
    paint(img, pv(d["spine"][0] + 2.0, s), iv["bone"])
    paint(img, pv(d["spine"][1], s), iv["canal"])
    paint(img, pv(d["ra"] - 2.0, s), iv["wall"])
    paint(img, pv(d["ra"], s), iv["ra"])
    paint(img, pv(d["rv"] - 3.0, s), iv["myo"])
    paint(img, pv(d["rv"], s), iv["rv"])
    for key, v in d["vessels"]:
        if key != "oesophagus":
            paint(img, pv(v - 1.5, s), iv["vessel_wall"])
        paint(img, pv(v, s), iv[key])
    paint(img, pv(d["lv_epi"] - FAT_MM, s), iv["fat"])
    paint(img, pv(d["lv_epi"], s), iv["myo"])
    # Atrial wall with enhanced scar patches, more likely around the vein ostia (ablation).
    near = sum(
        np.exp(-((g.x - float(v.seg1.a[0])) ** 2 + (g.y - float(v.seg1.a[1])) ** 2
                 + (g.z - float(v.seg1.a[2])) ** 2) / (2 * 14.0**2))
        for v in p.veins
    )  # fmt: skip
    scar = np.clip((smooth_field(rng, g.shape, 3.0 / s) + near - p.acq["scar_threshold"]) / 0.4,
                   0.0, 1.0)  # fmt: skip
    paint(img, pv(d["la_blood"] - WALL_MM, s), iv["wall"] + scar * (iv["scar"] - iv["wall"]))
    paint(img, pv(d["la_blood"], s), 1.0)
    paint(img, pv(d["laa"], s), iv["laa"])
    paint(img, pv(d["lv_cavity"], s), iv["lv"])
    return img


def acquire(rng: np.random.Generator, clean: np.ndarray, p: LAModel, g: Grid) -> np.ndarray:
    """Texture, PSF, bias, slice jitter, correlated Rician noise, rescale -> uint8 (x, y, z)."""
    acq = p.acq
    img = clean * (1.0 + 0.08 * smooth_field(rng, g.shape, 1.0)
                   + 0.15 * smooth_field(rng, g.shape, 4.0))  # fmt: skip
    img = ndimage.gaussian_filter(img, acq["psf"])
    x, y, z = (a / 150.0 for a in (g.x, g.y, g.z))  # units of 150 mm, as the ACDC generator
    c = acq["bias"]
    quad = (c[0] * x + c[1] * y + c[2] * z + c[3] * x * x + c[4] * y * y + c[5] * z * z
            + c[6] * x * y + c[7] * x * z + c[8] * y * z)  # fmt: skip
    img *= np.exp(acq["beta"] * quad).astype(F32)
    img *= (1.0 + rng.normal(0.0, 0.04, g.shape[2])).astype(F32)[None, None, :]
    # Noise through the same PSF, rescaled to the target std (correlated, like real k-space
    # apodisation), then the magnitude of a complex signal: Rician.
    sigma = _noise_gain(acq["psf"]) / acq["snr"]
    n1 = ndimage.gaussian_filter(rng.standard_normal(g.shape, dtype=F32), acq["psf"])
    n2 = ndimage.gaussian_filter(rng.standard_normal(g.shape, dtype=F32), acq["psf"])
    img = np.hypot(img + sigma * n1, sigma * n2)
    img *= acq["top"] / float(np.percentile(img, 99.8))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def render_case(rng: np.random.Generator, p: LAModel, g: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8, label uint8 0/255), both (nx, ny, nz)."""
    d = case_sdfs(p, g)
    clean = paint_clean(rng, p, g, d)
    # Keep the largest piece: a vein or appendage tip thinner than a voxel can leave a stray one.
    pieces, n = ndimage.label(d["label"] < 0)
    if n > 1:
        pieces = pieces == 1 + int(np.argmax(np.bincount(pieces.ravel())[1:]))
    label = np.where(pieces > 0, 255, 0).astype(np.uint8)
    return acquire(rng, clean, p, g), label
