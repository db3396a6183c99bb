"""Rendering of a synthetic ACDC patient: heart model, slice painting, MR image formation.

Heart (embedded-data.md section 2.1). LV endo- and epicardium are truncated half-ellipsoids
sharing the apex, r(d, phi) = r_eq(phi) * sqrt(1 - (d / L_c)^2) for the depth d >= 0 below the
phase's base plane. At ES the base descends by ls * L, the cavity radius scales by
sqrt((1 - EF) / (1 - ls)) (so V_ES / V_ED = 1 - EF) and the epicardium follows from myocardial
volume conservation. The RV is an ellipse crescent around the LV. Papillary muscles and
trabeculations are drawn in the image only, inside the LV label, as in ACDC. Labels are hard
thresholds (f < 0) of the same signed distances that the image paints with partial volume.

Arrays are (nx, ny[, nz]) float32 on the image grid, i.e. the NIfTI (x, y, z) axis order.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import ndimage

from mixseg.data.synthetic_acdc.anatomy import Heart, Patient
from mixseg.data.synthetic_acdc.body import (
    BodyMaps,
    disc_sdf,
    ellipse_sdf,
    organ_fractions,
    paint,
    paint_body,
    pv,
)

F32 = np.float32


@dataclasses.dataclass(frozen=True)
class Grid:
    """Pixel coordinates (mm) in the canonical heart frame (u, v) and in the body frame."""

    u: np.ndarray
    v: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    roi: tuple[slice, slice]  # bounding box of everything the heart model can draw


def make_grid(p: Patient) -> Grid:
    """Image grid -> canonical and body coordinates; the heart ROI in pixels."""
    acq, body, h = p.acq, p.body, p.heart
    nx, ny = acq.shape
    x = (np.arange(nx, dtype=F32) - (nx - 1) / 2) * acq.px - acq.offset[0]
    y = (np.arange(ny, dtype=F32) - (ny - 1) / 2) * acq.px - acq.offset[1]
    x, y = np.meshgrid(x, y, indexing="ij")
    c, s = math.cos(acq.rotation), math.sin(acq.rotation)
    u, v = c * x + s * y, -s * x + c * y
    c, s = math.cos(body.tilt), math.sin(body.tilt)
    du, dv = u - body.centre[0], v - body.centre[1]
    bx, by = c * du + s * dv, -s * du + c * dv
    # Reach of the heart model: RV crescent, epicardial fat, lung margin, vessels above the base.
    rn = (h.R + h.T) * 1.2
    reach = max(rn * (1.0 + 0.7 * h.s_rv + 0.5), *(math.hypot(a, b) + r for a, b, r in h.vessels))
    half = int(math.ceil((reach + 25.0) / acq.px))
    ic, jc = nx / 2 + acq.offset[0] / acq.px, ny / 2 + acq.offset[1] / acq.px
    roi = (
        slice(max(0, int(ic) - half), min(nx, int(ic) + half + 1)),
        slice(max(0, int(jc) - half), min(ny, int(jc) + half + 1)),
    )
    return Grid(u, v, bx, by, roi)


@dataclasses.dataclass(frozen=True)
class Phase:
    """Heart at one phase on the ROI: radii at the base (ROI arrays, mm) and scalars."""

    endo: np.ndarray
    epi: np.ndarray
    trab: np.ndarray
    fat: np.ndarray
    pm_endo: np.ndarray  # base endocardial radius at the papillary muscle angles
    L_c: float  # base-apex length of the cavity
    base: float  # depth of the base plane below the ED base
    s_rv: float
    pm_scale: float


def _profiles(h: Heart, phi: np.ndarray, es: bool) -> tuple[np.ndarray, np.ndarray]:
    """Endo- and epicardial radii at the base, (same shape as phi) mm."""
    toward_rv = np.maximum(np.cos(phi - h.theta_rv), 0.0)
    R = h.R * (1.0 - h.flat * toward_rv**4)
    T = h.T * (1.0 + h.septal_h * toward_rv**2)
    dphi = np.angle(np.exp(1j * (phi - h.inf_angle))).astype(F32)
    w = np.exp(-0.5 * (dphi / h.inf_sigma) ** 2) if h.inf_thin > 0 else np.zeros_like(phi)
    T = T * (1.0 - h.inf_thin * w)
    shape = 1.0 + h.ecc * np.cos(2 * (phi - h.ecc_angle))
    shape = shape * (1.0 + sum(a * np.cos(k * phi + ps) for k, a, ps in h.harm))
    if not es:
        return R * shape, (R + T) * shape
    ef = h.ef * (1.0 - 0.85 * w)  # MINF: akinetic infarct sector
    r_es2 = R**2 * (1.0 - ef) / (1.0 - h.ls)
    epi = np.sqrt(r_es2 + ((R + T) ** 2 - R**2) / (1.0 - h.ls))
    return np.sqrt(r_es2) * shape, epi * shape


def make_phase(h: Heart, phi: np.ndarray, es: bool) -> Phase:
    """Precompute the angular profiles of one phase on the ROI angles ``phi``."""
    endo, epi = _profiles(h, phi, es)
    pm_endo, _ = _profiles(h, np.array([a for a, _ in h.pm], dtype=F32), es)
    trab = np.abs(sum(b * np.cos(k * phi + c) for k, b, c in h.trab))
    fat = h.fat_p * (
        np.maximum(np.cos(phi - h.theta_rv), 0.0) ** 2
        + 0.6 * np.maximum(np.cos(3 * (phi - h.fat_phase)), 0.0) ** 4
    )
    ls = h.ls if es else 0.0
    return Phase(
        endo=endo, epi=epi, trab=trab, fat=fat, pm_endo=pm_endo, L_c=(1.0 - ls) * h.L,
        base=ls * h.L, s_rv=h.s_rv * (1.0 - h.rvef) if es else h.s_rv, pm_scale=1.1 if es else 1.0,
    )  # fmt: skip


def _cap(d: float, length: float) -> float:
    """sqrt(1 - (d / length)^2) on [0, length], else 0: the half-ellipsoid profile."""
    return math.sqrt(1.0 - (d / length) ** 2) if 0.0 <= d < length else 0.0


@dataclasses.dataclass(frozen=True)
class SliceSdf:
    """Signed distances (mm, ROI arrays) of one slice's heart; None where absent."""

    keepout: np.ndarray  # heart with its fat (or the vessels with theirs): no lung in there
    r: np.ndarray | None = None
    f_epi: np.ndarray | None = None
    f_rv: np.ndarray | None = None
    k_endo: float = 0.0
    vessels: tuple[np.ndarray, ...] = ()
    f_lvot: np.ndarray | None = None  # basal slices: the outflow channel out of the LV


def heart_sdf(u: np.ndarray, v: np.ndarray, h: Heart, ph: Phase, d: float) -> SliceSdf | None:
    """Signed distances of the heart at depth ``d`` (mm) below this phase's base.

    Args:
        u, v: canonical coordinates of the ROI, mm.

    Returns:
        None below the apex; above the base (d < 0) only the atria and great vessels.
    """
    if d < 0:
        sdfs = tuple(disc_sdf(u, v, cx, cy, r) for cx, cy, r in h.vessels)
        return SliceSdf(keepout=np.minimum.reduce(sdfs) - 7.0, vessels=sdfs)
    k_epi = _cap(d, ph.L_c + h.t_apex)
    if k_epi == 0.0:
        return None
    r = np.hypot(u, v)
    f_epi = r - ph.epi * k_epi
    outer, f_rv = f_epi, None
    r_ref = (h.R + h.T) * _cap(d, 0.85 * ph.L_c)  # the RV ends before the LV apex
    if r_ref > 1.0:
        # RV: an ellipse beside the LV; the LV is painted over it, leaving a crescent.
        c, s = math.cos(h.theta_rv), math.sin(h.theta_rv)
        du, dv = u - 0.6 * r_ref * c, v - 0.6 * r_ref * s
        a_rad = r_ref * (0.4 + 0.7 * ph.s_rv)
        a_tan = r_ref * (0.7 + 0.45 * ph.s_rv) * h.w_rv
        f_rv = ellipse_sdf(du * c + dv * s, -du * s + dv * c, a_rad, a_tan)
        outer = np.minimum(f_epi, f_rv - 3.0)
    f_lvot = None
    if d < h.lvot_depth:
        f_lvot = lvot_sdf(u, v, h, ph.epi.mean() * k_epi, d)
        outer = np.minimum(outer, f_lvot - 2.0)
    return SliceSdf(outer - ph.fat, r, f_epi, f_rv, _cap(d, ph.L_c), f_lvot=f_lvot)


def lvot_sdf(u: np.ndarray, v: np.ndarray, h: Heart, r_epi: float, d: float) -> np.ndarray:
    """Signed distance (mm) of the LV outflow channel at depth ``d`` < ``h.lvot_depth``.

    A capsule from the LV axis along ``h.lvot_angle``, reaching 0.5 ``r_epi`` beyond the
    epicardium, half-width ``h.lvot_width`` at the base narrowing as sqrt(1 - d / lvot_depth).
    """
    w = h.lvot_width * math.sqrt(max(1.0 - d / h.lvot_depth, 0.0))
    c, s = math.cos(h.lvot_angle), math.sin(h.lvot_angle)
    t = np.clip(u * c + v * s, 0.0, 1.5 * r_epi)
    return np.hypot(u - t * c, v - t * s) - w


def paint_heart(
    img: np.ndarray, lab: np.ndarray, u: np.ndarray, v: np.ndarray, sdf: SliceSdf, p: Patient,
    ph: Phase, d: float, flow: np.ndarray | float = 1.0,
) -> None:  # fmt: skip
    """Paint one slice's heart into the ROI views ``img`` (nx', ny') and ``lab`` (in place).

    ``flow`` multiplies every blood pool (ROI array or 1): flow-related inhomogeneity.
    """
    h, px = p.heart, p.acq.px
    iv = dict(p.intensity)
    for blood in ("lv", "rv", "aorta"):
        iv[blood] = iv[blood] * flow
    if sdf.vessels:
        paint(img, pv(sdf.keepout, px), iv["fat"])  # 5 mm fat margin around a 2 mm wall
        for f, blood in zip(sdf.vessels, ("aorta", "lv", "rv", "rv"), strict=True):
            paint(img, pv(f - 2.0, px), iv["myo"])
            paint(img, pv(f, px), iv[blood])
        return
    r, f_epi, f_rv = sdf.r, sdf.f_epi, sdf.f_rv
    paint(img, pv(sdf.keepout, px), iv["fat"])
    if f_rv is not None:
        paint(img, pv(f_rv - 3.0, px), iv["myo"])  # RV free wall, unlabelled as in ACDC
        paint(img, pv(f_rv, px), iv["rv"])
    if sdf.f_lvot is not None:
        paint(img, pv(sdf.f_lvot - 2.0, px), iv["myo"])  # wall of the outflow tract
    paint(img, pv(f_epi, px), iv["myo"])
    if sdf.k_endo > 0.0:
        endo = ph.endo * sdf.k_endo
        # Trabeculations push the image's endocardial edge inwards (less so in small cavities:
        # near the apex and at ES in HCM).
        trab = ph.trab * np.minimum(endo / 15.0, 1.0)
        paint(img, pv(r - np.maximum(endo - trab, 0.0), px), iv["lv"])
        if 0.2 * ph.L_c < d < 0.75 * ph.L_c:
            for (ang, rad), r_wall in zip(h.pm, ph.pm_endo, strict=True):
                # At most 0.35 of the local cavity radius: no cavity filled by muscle (HCM at ES).
                rad = min(rad * ph.pm_scale, 0.35 * float(r_wall) * sdf.k_endo)
                dist = float(r_wall) * sdf.k_endo - 0.9 * rad  # touching the wall
                f_pm = disc_sdf(u, v, dist * math.cos(ang), dist * math.sin(ang), rad)
                paint(img, pv(f_pm, px), iv["myo"])
    lvot = None
    if sdf.f_lvot is not None:
        # Blood continues from the cavity through the opened wall; the RV stays on top.
        lvot = pv(sdf.f_lvot, px)
        if f_rv is not None:
            lvot *= 1.0 - pv(f_rv - 3.0, px)
        paint(img, lvot, iv["lv"])
    if f_rv is not None:
        lab[f_rv < 0] = 1
    lab[f_epi < 0] = 2
    if lvot is not None:
        lab[(lvot >= 0.5) & (f_epi < 0)] = 0  # the opened wall is no myocardium
    if sdf.k_endo > 0.0:
        lab[r < ph.endo * sdf.k_endo] = 3


def paint_volume(
    p: Patient, grid: Grid, body: BodyMaps, dots: np.ndarray, es: bool,
    flow: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Noise-free image and labels of one phase, (nx, ny, nz) float32 and uint8.

    ``flow``: (nx, ny, nz) multiplicative blood-pool field, or None for uniform blood.
    """
    acq, h, iv = p.acq, p.heart, p.intensity
    nx, ny = acq.shape
    u, v = grid.u[grid.roi], grid.v[grid.roi]
    ph = make_phase(h, np.arctan2(v, u), es)
    image = np.empty((nx, ny, acq.n_slices), F32)
    labels = np.zeros((nx, ny, acq.n_slices), np.uint8)
    for k in range(acq.n_slices):
        z = acq.z0 + k * acq.dz
        img = body.image.copy()
        sdf = heart_sdf(u, v, h, ph, z - ph.base)
        lung = body.lung.copy()
        if sdf is not None:
            lung[grid.roi] *= 1.0 - pv(sdf.keepout - p.body.lung_margin, acq.px)
        organs = organ_fractions(grid.bx, grid.by, body, z, h.L, acq.px)
        if organs is not None:
            lung *= 1.0 - np.maximum(*organs)
        paint(img, lung, iv["lung"] + dots[:, :, k])
        if organs is not None:
            paint(img, organs[0], iv["liver"])
            paint(img, organs[1], iv["spleen"])
        if sdf is not None:
            f_k = 1.0 if flow is None else flow[grid.roi + (k,)]
            paint_heart(img[grid.roi], labels[grid.roi + (k,)], u, v, sdf, p, ph, z - ph.base, f_k)
        image[:, :, k] = img
    return image, labels


def acquire(
    rng: np.random.Generator, clean: np.ndarray, p: Patient, grid: Grid, tex: np.ndarray
) -> np.ndarray:
    """MR image formation: texture, ghost, PSF, bias, correlated Rician noise, gain -> int16.

    Args:
        clean: (nx, ny, nz) float32, LV blood = 1. tex: (nx, ny, nz) multiplicative texture.
    """
    acq = p.acq
    s = (acq.psf_sigma, acq.psf_sigma, 0.0)
    img = clean * tex
    if acq.ghost > 0:
        # Phase-encode ghost of the (moving) heart, shifted half a field of view.
        win = pv(np.hypot(grid.u, grid.v) - (p.heart.R + p.heart.T) * 1.8, 10.0)
        n = acq.shape[acq.ghost_axis]
        img += acq.ghost * np.roll(img * win[:, :, None], n // 2, axis=acq.ghost_axis)
    img = ndimage.gaussian_filter(img, s)
    nx, ny = acq.shape
    x = ((np.arange(nx, dtype=F32) - nx / 2) * acq.px / 150.0)[:, None]
    y = ((np.arange(ny, dtype=F32) - ny / 2) * acq.px / 150.0)[None, :]
    c = acq.bias_c
    # Smooth coil bias: exp(beta * quadratic) with x, y in units of 150 mm.
    bias = np.exp(acq.bias_beta * (c[0] * x + c[1] * y + c[2] * x * y + c[3] * x**2 + c[4] * y**2))
    if acq.b1:
        # 3 T dielectric effect: central brightening (b1 > 0) or shading (b1 < 0), r0 = 120 mm.
        bias = bias * np.exp(acq.b1 * (1.0 - (x**2 + y**2) * (150.0 / 120.0) ** 2))
    if acq.band:
        bias = bias * banding(x * 150.0, y * 150.0, acq.band)
    img *= bias[:, :, None]
    # Noise through the same PSF, rescaled to unit std (2D Gaussian: sqrt(4 pi) sigma).
    scale = math.sqrt(4 * math.pi) * acq.psf_sigma / acq.snr
    n1 = ndimage.gaussian_filter(rng.standard_normal(img.shape, dtype=F32), s)
    n2 = ndimage.gaussian_filter(rng.standard_normal(img.shape, dtype=F32), s)
    img = np.hypot(img + scale * n1, scale * n2)
    return np.clip(np.rint(img * acq.gain), 0, 32767).astype(np.int16)


def banding(x: np.ndarray, y: np.ndarray, band: tuple[float, ...]) -> np.ndarray:
    """bSSFP off-resonance bands: 1 - amplitude * exp(-delta^2 / (2 width^2)), delta the
    distance (mm) to the nearest of a family of curved parallel lines ``period`` mm apart.

    Args:
        x, y: mm from the image centre (broadcastable). band: (amplitude, period, width,
            angle, curvature, phase) as drawn by ``anatomy.sample_acquisition``.
    """
    amp, period, width, angle, curv, phase = band
    c, s = math.cos(angle), math.sin(angle)
    t, n = x * c + y * s, -x * s + y * c
    psi = (t + curv * n**2) / period + phase
    delta = (psi - np.round(psi)) * period
    return (1.0 - amp * np.exp(-0.5 * (delta / width) ** 2)).astype(F32)


def render_patient(
    rng: np.random.Generator, p: Patient
) -> dict[bool, tuple[np.ndarray, np.ndarray]]:
    """ED and ES volumes of one patient: {es: (image int16, labels uint8)}, axes (x, y, z)."""
    acq = p.acq
    grid = make_grid(p)
    body = paint_body(grid.bx, grid.by, p.body, p.intensity, acq.px)
    shape = (*acq.shape, acq.n_slices)
    # Tissue texture and lung vessels are anatomy: the same field at ED and ES.
    tex = 1.0 + 0.25 * ndimage.gaussian_filter(rng.standard_normal(shape, dtype=F32), (1.5, 1.5, 0))
    tex += 0.6 * ndimage.gaussian_filter(rng.standard_normal(shape, dtype=F32), (5, 5, 0))
    dots = (rng.random(shape, dtype=F32) < p.body.lung_dot_density * acq.px**2).astype(F32)
    dots = ndimage.gaussian_filter(dots, (0.8, 0.8, 0)) * (p.intensity["dots"] * 2 * math.pi * 0.64)
    out = {}
    for es in (False, True):
        # Blood-pool inhomogeneity (inflow, slow flow, turbulence): 1 + q * a smooth unit field
        # of 6 mm correlation, a new one per phase; q = intensity["flow"] (0: uniform blood).
        g = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=F32), (6 / acq.px,) * 2 + (0,))
        flow = 1.0 + p.intensity["flow"] * g / max(float(g.std()), 1e-6)
        clean, labels = paint_volume(p, grid, body, dots, es, flow)
        out[es] = (acquire(rng, clean, p, grid, tex), labels)
    return out
