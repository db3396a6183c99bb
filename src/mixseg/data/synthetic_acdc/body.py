"""Torso and surroundings of a synthetic ACDC slice: fat, muscle, lungs, liver, spine, aorta.

The parts that do not depend on the slice (torso layers, spine, aorta, sternum, arms and the
lung region before the heart is cut out) are painted once per patient as a 2D image; only the
liver and the stomach/spleen blob, which grow into the apical slices, are redrawn per slice.
Shapes are signed distances f (mm, negative inside) turned into partial-volume fractions.
Arrays are (nx, ny) float32 on the image grid; coordinates are in the body frame (mm, x to image
right, y to image bottom, centred on the torso).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from mixseg.data.synthetic_acdc.anatomy import Body


def pv(f: np.ndarray, px: float) -> np.ndarray:
    """Partial-volume fraction of a signed distance ``f`` (mm) on a grid of ``px`` mm."""
    return np.clip(0.5 - f / px, 0.0, 1.0)


def paint(img: np.ndarray, frac: np.ndarray, value: float | np.ndarray) -> None:
    """In place: ``img <- img + frac * (value - img)`` (painting back to front)."""
    img += frac * (value - img)


def ellipse_sdf(
    x: np.ndarray, y: np.ndarray, a: float | np.ndarray, b: float | np.ndarray
) -> np.ndarray:
    """First-order signed distance (mm) to the ellipse x^2/a^2 + y^2/b^2 = 1.

    (rho - 1) / |grad rho| with rho the normalised radius; exact on the boundary, and the
    small constants keep it finite (about -min(a, b)) at the centre.
    """
    q2 = (x / a) ** 2 + (y / b) ** 2
    g2 = (x / a**2) ** 2 + (y / b**2) ** 2
    # A Python float stays "weak" in NumPy 2 promotion; a np.float64 scalar would make it float64.
    amin = np.minimum(a, b) if np.ndim(a) or np.ndim(b) else float(min(a, b))
    return (np.sqrt(q2) - 1.0) * np.sqrt((q2 + 1e-6) / (g2 + 1e-6 / amin**2))


def disc_sdf(x: np.ndarray, y: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    """Signed distance (mm) to a disc of radius ``r`` centred at (cx, cy)."""
    return np.hypot(x - cx, y - cy) - r


@dataclasses.dataclass(frozen=True)
class BodyMaps:
    """Per-patient 2D maps (nx, ny) float32: image, cavity, static lung, mediastinum fractions."""

    image: np.ndarray
    cavity: np.ndarray
    lung: np.ndarray
    post_med: np.ndarray
    cavity_axes: tuple[float, float]


def paint_body(
    bx: np.ndarray, by: np.ndarray, b: Body, iv: dict[str, float], px: float
) -> BodyMaps:
    """Paint the slice-independent body once.

    Args:
        bx, by: body-frame coordinates of every pixel, (nx, ny) float32, mm.
        b: body parameters. iv: intensities. px: pixel size, mm.
    """
    psi = np.arctan2(by, bx)
    wob = 1.0 + sum(a * np.cos(k * psi + ph) for k, a, ph in b.wobble)
    f_torso = ellipse_sdf(bx, by, b.A * wob, b.B * wob)
    a1, p1, a2, p2 = b.fat_var
    fat = b.fat0 * (1.0 + a1 * np.cos(2 * psi + p1) + a2 * np.cos(3 * psi + p2))
    # Pectoral and paraspinal muscles: thicker anteriorly and posteriorly.
    muscle = b.muscle0 * (1.0 + 0.7 * np.abs(np.sin(psi)))
    img = np.zeros_like(bx)
    for side in b.arms:
        _paint_arm(img, bx, by, b, side, iv, px)
    paint(img, pv(f_torso, px), iv["fat"])
    paint(img, pv(f_torso + fat, px), iv["muscle"])
    cavity = pv(f_torso + fat + muscle, px)
    paint(img, cavity, iv["med"])

    a_c, b_c = b.A - b.fat0 - b.muscle0, b.B - b.fat0 - 1.7 * b.muscle0
    # Spine: vertebral body at the back of the cavity, canal (bright CSF) behind it.
    yv = b_c - 0.35 * b.r_vb
    yc = yv + b.r_vb + b.r_canal + 3.0
    paint(img, pv(disc_sdf(bx, by, 0.0, yc, b.r_canal + 4.0), px), iv["bone"] * 0.6)
    paint(img, pv(disc_sdf(bx, by, 0.0, yc, b.r_canal), px), iv["csf"])
    paint(img, pv(disc_sdf(bx, by, 0.0, yv, b.r_vb), px), iv["cortex"])
    paint(img, pv(disc_sdf(bx, by, 0.0, yv, b.r_vb - 2.0), px), iv["bone"])
    # Descending aorta: left-anterior of the spine, in a thin fat margin.
    xa, ya = b.r_vb + 0.9 * b.r_aorta + 2.0, yv - 0.6 * b.r_vb
    f_ao = disc_sdf(bx, by, xa, ya, b.r_aorta)
    paint(img, pv(f_ao - 3.5, px), iv["fat"])
    paint(img, pv(f_ao - 1.5, px), iv["myo"])
    paint(img, pv(f_ao, px), iv["aorta"])
    # Sternum at the front of the cavity.
    f_st = ellipse_sdf(bx, by + b_c - 5.0, 13.0, 5.5)
    paint(img, pv(f_st, px), iv["cortex"])
    paint(img, pv(f_st + 1.5, px), iv["bone"])

    # Lungs: two lateral lobes of the cavity, minus the anterior mediastinum behind the sternum
    # and the posterior mediastinum around spine and aorta (the heart is cut out per slice).
    post_med = pv(ellipse_sdf(bx - 0.5 * xa, by - yv, b.r_vb + 2 * b.r_aorta + 10, b.r_vb + 14), px)
    ant_med = pv(ellipse_sdf(bx, by + b_c - 20.0, 20.0, 32.0), px)
    lobes = np.maximum(
        pv(ellipse_sdf(bx - 0.45 * a_c, by, 0.62 * a_c, 1.1 * b_c), px),
        pv(ellipse_sdf(bx + 0.45 * a_c, by, 0.62 * a_c, 1.1 * b_c), px),
    )
    lung = cavity * lobes * (1.0 - ant_med) * (1.0 - post_med)
    return BodyMaps(img, cavity, lung, post_med, (a_c, b_c))


def _paint_arm(
    img: np.ndarray, bx: np.ndarray, by: np.ndarray, b: Body, side: float, iv: dict, px: float
) -> None:
    ra, rb = 0.25 * b.A, 0.4 * b.B
    x = bx - side * (b.A + 8.0 + ra)
    f = ellipse_sdf(x, by, ra, rb)
    paint(img, pv(f, px), iv["fat"])
    paint(img, pv(f + 5.0, px), iv["muscle"])
    f_bone = disc_sdf(x, by, 0.0, 0.0, 11.0)
    paint(img, pv(f_bone, px), iv["cortex"])
    paint(img, pv(f_bone + 2.5, px), iv["fat"])


def organ_fractions(
    bx: np.ndarray, by: np.ndarray, maps: BodyMaps, z: float, L: float, px: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Liver and stomach/spleen fractions (nx, ny) at depth ``z`` (mm below the ED base).

    Both grow into the slices below 0.55 L (the diaphragm dome cut obliquely by the short axis),
    stay inside the cavity and leave the posterior mediastinum free. None above that.
    """
    g = (z - 0.55 * L) / (0.45 * L)
    if g <= 0:
        return None
    g = math.sqrt(min(g, 1.0))
    a_c, b_c = maps.cavity_axes
    inside = maps.cavity * (1.0 - maps.post_med)
    liver = pv(ellipse_sdf(bx + 0.4 * a_c, by - 0.2 * b_c, 0.65 * a_c * g, 0.7 * b_c * g), px)
    spleen = pv(ellipse_sdf(bx - 0.55 * a_c, by - 0.45 * b_c, 0.3 * a_c * g, 0.3 * b_c * g), px)
    return liver * inside, spleen * inside
