"""Random parameters of one synthetic ACDC patient: heart, body, intensities, acquisition.

Everything is drawn from one ``numpy.random.Generator`` in a fixed order, so a patient is
reproducible from its generator alone (``synthetic_acdc.generate_patient`` seeds it from
(seed, index)). Ranges follow the tested prototype (embedded-data.md section 2.1): the ACDC
group criteria of Bernard et al. (TMI 2018) turned into sampling ranges.

Units: mm and radians. Canonical frame: centred on the LV long axis, x to image right (patient
left), y to image bottom (posterior), z = depth below the end-diastolic base plane (towards the
apex). Intensities are relative to LV blood = 1 (bSSFP-like). Scalars are Python floats on
purpose: a NumPy float64 scalar would silently promote the float32 images to float64.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

GROUPS = ("DCM", "HCM", "MINF", "NOR", "RV")

# R: ED endocardial radius at the base, L: base-apex length, T: wall thickness (mm); ef: LV
# ejection fraction; s: RV scale; rvef: RV ejection fraction; ls: long-axis shortening fraction.
GROUP_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "NOR": {"R": (22, 27), "L": (72, 88), "T": (7, 10), "ef": (0.55, 0.70), "s": (0.9, 1.1),
            "rvef": (0.45, 0.60), "ls": (0.08, 0.16)},
    "DCM": {"R": (29, 37), "L": (85, 100), "T": (5, 7), "ef": (0.10, 0.35), "s": (0.9, 1.2),
            "rvef": (0.25, 0.45), "ls": (0.03, 0.08)},
    "HCM": {"R": (16, 22), "L": (65, 80), "T": (12, 17), "ef": (0.65, 0.85), "s": (0.8, 1.0),
            "rvef": (0.50, 0.65), "ls": (0.08, 0.16)},
    "MINF": {"R": (25, 32), "L": (78, 95), "T": (7, 10), "ef": (0.20, 0.40), "s": (0.9, 1.1),
             "rvef": (0.35, 0.55), "ls": (0.03, 0.08)},
    "RV": {"R": (21, 26), "L": (72, 88), "T": (7, 10), "ef": (0.50, 0.65), "s": (1.25, 1.55),
           "rvef": (0.15, 0.35), "ls": (0.08, 0.16)},
}  # fmt: skip

DZ_CHOICES = (5.0, 6.5, 8.0, 10.0, 10.0, 10.0, 10.0)  # mostly 10 mm, as in ACDC
MIN_SLICES, MAX_SLICES = 6, 12

# Acquisition variability of the real archive (two scanners, six years; Bernard et al. 2018).
# In-plane pixel size: most exams 1.25-1.75 mm, a tail from 0.70 to 1.92 mm (the range of the
# real training set); the matrix follows from a field of view of 260-400 mm, in steps of 8
# pixels, clipped to [160, 384], one axis 78-100 % of the other, either axis the longer.
PX_MAIN, PX_TAIL, P_PX_TAIL = (1.25, 1.75), (0.70, 1.92), 0.25
FOV_MM, MATRIX = (260.0, 400.0), (160, 384)
# Heart placement in the field of view: in-plane rotation of the canonical frame (deg) and
# offset of the LV axis from the image centre (mm, each axis). The rotation is the calibration's
# widest lever that all 80 training patients cover and 3 do not (README, "Headroom"): ±90°
# (was ±45°) took the Lower bound (Set-3) from 80 to 67 test DSC; the Upper bound keeps 91.
ROTATION_DEG, OFFSET_MM = 90.0, 25.0
# Per-patient size of the whole heart (R, T, L scaled together): body size, on top of the group.
HEART_SCALE = (0.95, 1.20)
# Shape irregularity of the LV (std of the k = 3..5 harmonics, maximal eccentricity), papillary
# muscle radius (fraction of the ED basal cavity radius R) and a per-patient trabeculation level
# (scales the 0.3-1.2 mm amplitudes): image-only detail inside the LV label, which few labelled
# patients do not cover.
SHAPE_HARM, ECC_MAX, PM_RADIUS, TRAB_LEVEL = 0.04, 0.15, (0.12, 0.22), (0.7, 1.8)
P_3T = 0.5  # probability of the 3 T scanner; the other is 1.5 T
# Field-strength dependent ranges: SNR (blood / noise), coil bias strength beta, central B1
# brightening/darkening (3 T dielectric effect), myocardium and fat relative to blood (3 T
# bSSFP runs at lower flip angles: less blood-myocardium contrast), and the probability of
# off-resonance banding (dark bSSFP bands, 3 T).
FIELD = {
    1.5: {"snr": (8.0, 22.0), "bias": (0.15, 0.45), "b1": (0.0, 0.0), "myo": (0.18, 0.32),
          "fat": (0.6, 0.9), "p_band": 0.1},
    3.0: {"snr": (14.0, 35.0), "bias": (0.35, 0.80), "b1": (-0.35, 0.35), "myo": (0.26, 0.45),
          "fat": (0.45, 0.80), "p_band": 0.6},
}  # fmt: skip
P_BRIGHT_STOMACH = 0.5  # fluid-filled stomach: a bright (blood-like) blob in apical slices


@dataclasses.dataclass(frozen=True)
class Heart:
    """LV/RV model parameters (canonical frame, mm/rad). Group extras are 0 when unused."""

    group: str
    R: float
    L: float
    T: float
    t_apex: float
    ef: float
    ls: float
    s_rv: float
    rvef: float
    theta_rv: float  # direction of the RV from the LV centre
    w_rv: float  # RV tangential stretch
    ecc: float  # elliptical shape S(phi)
    ecc_angle: float
    harm: tuple[tuple[int, float, float], ...]  # (k, amplitude, phase), k = 3..5
    septal_h: float  # HCM: septal hypertrophy factor
    flat: float  # RV group: septal flattening
    inf_angle: float  # MINF: infarct sector centre, width, thinning
    inf_sigma: float
    inf_thin: float
    pm: tuple[tuple[float, float], ...]  # papillary muscles: (angle, radius mm)
    trab: tuple[tuple[int, float, float], ...]  # trabeculations: (k, amplitude mm, phase)
    fat_p: float
    fat_phase: float
    vessels: tuple[tuple[float, float, float], ...]  # atria/great vessels: (x, y, radius) mm
    lvot_depth: float  # basal slab (mm below the base) where the LV opens into its outflow tract
    lvot_angle: float  # direction of the outflow tract from the LV axis
    lvot_width: float  # half-width of the outflow channel at the base, mm


@dataclasses.dataclass(frozen=True)
class Body:
    """Torso and surroundings in the body frame (centred on the torso, mm)."""

    centre: tuple[float, float]  # torso centre in the canonical (heart) frame
    tilt: float  # rotation of the body frame against the canonical frame
    A: float
    B: float
    wobble: tuple[tuple[int, float, float], ...]
    fat0: float
    fat_var: tuple[float, float, float, float]
    muscle0: float
    arms: tuple[float, ...]  # sides (+1 image right, -1 image left) with an arm
    r_vb: float  # vertebral body, spinal canal, descending aorta radii
    r_canal: float
    r_aorta: float
    lung_dot_density: float  # lung vessel dots per mm^2
    lung_margin: float  # mediastinal tissue between the heart (with its fat) and the lungs, mm


@dataclasses.dataclass(frozen=True)
class Acquisition:
    """Grid and image-formation parameters."""

    shape: tuple[int, int]  # (nx, ny)
    px: float
    dz: float
    z0: float
    n_slices: int
    rotation: float
    offset: tuple[float, float]  # heart centre from the image centre, mm
    psf_sigma: float  # px
    ghost: float  # ghost amplitude (0: none)
    ghost_axis: int
    bias_beta: float
    bias_c: tuple[float, float, float, float, float]
    snr: float
    gain: float
    field_t: float = 1.5  # 1.5 or 3.0 tesla
    b1: float = 0.0  # central B1 term: exp(b1 * (1 - r^2 / (120 mm)^2)), 3 T only
    band: tuple[float, ...] = ()  # off-resonance banding (amplitude, period mm, width mm,
    #                                angle, curvature 1/mm, phase); () for none


@dataclasses.dataclass(frozen=True)
class Patient:
    """All parameters of one patient, plus the ``Info.cfg`` fields."""

    heart: Heart
    body: Body
    intensity: dict[str, float]
    acq: Acquisition
    info: dict[str, str]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def sample_heart(rng: np.random.Generator, group: str) -> Heart:
    """Draw the LV/RV geometry of one patient of ``group`` (a key of ``GROUP_RANGES``)."""
    g = {k: _u(rng, *v) for k, v in GROUP_RANGES[group].items()}
    scale = _u(rng, *HEART_SCALE)
    g["R"], g["L"], g["T"] = g["R"] * scale, g["L"] * scale, g["T"] * scale
    theta_rv = math.radians(_u(rng, 195, 235))
    septal_h = _u(rng, 0.1, 0.5) if group == "HCM" else 0.0
    flat = _u(rng, 0.10, 0.25) if group == "RV" else 0.0
    # The infarct lies anywhere but the septum (coronary territories of the free wall).
    inf_angle = theta_rv + math.radians(_u(rng, 70, 290))
    inf_sigma = math.radians(_u(rng, 35, 65))
    inf_thin = _u(rng, 0.35, 0.6) if group == "MINF" else 0.0
    harm = tuple((k, float(rng.normal(0, SHAPE_HARM)), _u(rng, 0, 2 * math.pi)) for k in (3, 4, 5))
    side = (-1.0, 1.0)
    pm = tuple(
        (theta_rv + math.pi + s * math.radians(_u(rng, 35, 60)), _u(rng, *PM_RADIUS) * g["R"])
        for s in side
    )
    trab_level = _u(rng, *TRAB_LEVEL)
    trab = tuple(
        (int(rng.integers(9, 21)), trab_level * _u(rng, 0.3, 1.2), _u(rng, 0, 2 * math.pi))
        for _ in range(3)
    )
    # Unlabelled atria and great vessels above the base, placed around the LV axis in units of
    # the outer LV radius and turned with the RV: aortic root, LA, RA, RV outflow/pulmonary trunk.
    rn = g["R"] + g["T"]
    turn = theta_rv - math.radians(215)
    vessels = []
    for (vx, vy), (r_lo, r_hi) in (
        ((-0.1, -0.05), (11, 15)),
        ((0.35, 0.75), (15, 22)),
        ((-0.85, 0.4), (14, 20)),
        ((-0.45, -0.85), (11, 15)),
    ):
        vx, vy = vx + float(rng.normal(0, 0.1)), vy + float(rng.normal(0, 0.1))
        c, s = math.cos(turn), math.sin(turn)
        vessels.append((rn * (c * vx - s * vy), rn * (s * vx + c * vy), _u(rng, r_lo, r_hi)))
    # Left ventricular outflow tract: in the basal slices the LV cavity opens anteriorly, between
    # the septum (towards the RV) and the front, into the aortic root; the label stays the cavity.
    lvot = (_u(rng, 6, 22), theta_rv + math.radians(_u(rng, 25, 65)), _u(rng, 8, 12) * scale)
    return Heart(
        group=group, R=g["R"], L=g["L"], T=g["T"], t_apex=_u(rng, 0.6, 1.0) * g["T"],
        ef=g["ef"], ls=g["ls"], s_rv=g["s"], rvef=g["rvef"], theta_rv=theta_rv,
        w_rv=_u(rng, 0.95, 1.15), ecc=_u(rng, 0, ECC_MAX), ecc_angle=_u(rng, 0, math.pi),
        harm=harm, septal_h=septal_h, flat=flat, inf_angle=inf_angle, inf_sigma=inf_sigma,
        inf_thin=inf_thin, pm=pm, trab=trab, fat_p=_u(rng, 1, 6),
        fat_phase=_u(rng, 0, 2 * math.pi), vessels=tuple(vessels), lvot_depth=lvot[0],
        lvot_angle=lvot[1], lvot_width=lvot[2],
    )  # fmt: skip


def sample_body(rng: np.random.Generator, weight: float) -> Body:
    """Draw torso, spine, aorta and arms; heavier patients get a larger torso and more fat."""
    t = min(max((weight - 50) / 60 + float(rng.normal(0, 0.15)), 0.0), 1.0)
    A, B = 140 + 35 * t, 100 + 35 * (0.5 * t + 0.5 * float(rng.uniform()))
    fat0 = 4 + 10 * min(max(t + float(rng.normal(0, 0.2)), 0.0), 1.0)
    muscle0 = _u(rng, 5, 12)
    a_c, b_c = A - fat0 - muscle0, B - fat0 - 1.7 * muscle0  # thoracic cavity semi-axes
    # The heart sits left-anterior in the chest: right of and above the torso centre.
    hx, hy = _u(rng, 0.2, 0.38) * a_c, -_u(rng, 0.05, 0.25) * b_c
    tilt = math.radians(_u(rng, -20, 20))
    c, s = math.cos(tilt), math.sin(tilt)
    wobble = tuple((k, float(rng.normal(0, 0.02)), _u(rng, 0, 2 * math.pi)) for k in (2, 3, 4, 5))
    return Body(
        centre=(-(c * hx - s * hy), -(s * hx + c * hy)),
        tilt=tilt, A=A, B=B,
        wobble=wobble,
        fat0=fat0,
        fat_var=(_u(rng, 0.1, 0.4), _u(rng, 0, 2 * math.pi), _u(rng, 0, 0.25), _u(rng, 0, 6.3)),
        muscle0=muscle0,
        arms=tuple(side for side in (-1.0, 1.0) if rng.uniform() < 0.35),
        r_vb=_u(rng, 13, 17), r_canal=_u(rng, 6, 8), r_aorta=_u(rng, 9, 13),
        lung_dot_density=_u(rng, 1 / 250, 1 / 80), lung_margin=_u(rng, 2, 8),
    )  # fmt: skip


def sample_intensity(rng: np.random.Generator, field_t: float = 1.5) -> dict[str, float]:
    """Tissue intensities relative to LV blood = 1, at field strength ``field_t`` (``FIELD``).

    The stomach/spleen blob is fluid-filled (bright, 0.7-1.05) with probability
    ``P_BRIGHT_STOMACH``, otherwise soft tissue (0.40-0.60).
    """
    f = FIELD[field_t]
    ranges = {
        "lv": (1.0, 1.0), "rv": (0.85, 1.0), "myo": f["myo"], "fat": f["fat"],
        "muscle": (0.20, 0.30), "med": (0.30, 0.42), "lung": (0.02, 0.07),
        "liver": (0.30, 0.42), "bone": (0.35, 0.5), "csf": (0.7, 0.95), "aorta": (0.75, 1.0),
        "spleen": (0.40, 0.60), "cortex": (0.05, 0.12), "dots": (0.15, 0.35),
        "flow": (0.0, 0.25),  # std of the blood-pool inhomogeneity (render.render_patient)
    }  # fmt: skip
    iv = {k: _u(rng, lo, hi) for k, (lo, hi) in ranges.items()}
    if rng.uniform() < P_BRIGHT_STOMACH:
        iv["spleen"] = _u(rng, 0.70, 1.05)
    # Keep the epicardial border visible: mediastinal tissue a little brighter than myocardium.
    iv["med"] = max(iv["med"], iv["myo"] + 0.08)
    return iv


def sample_shape_and_px(rng: np.random.Generator) -> tuple[tuple[int, int], float]:
    """In-plane matrix (nx, ny) and pixel size (mm): see ``PX_MAIN``, ``FOV_MM``, ``MATRIX``."""
    px = _u(rng, *(PX_TAIL if rng.uniform() < P_PX_TAIL else PX_MAIN))
    n_long = int(min(max(8 * round(_u(rng, *FOV_MM) / px / 8), MATRIX[0]), MATRIX[1]))
    n_short = int(max(8 * round(n_long * _u(rng, 0.78, 1.0) / 8), MATRIX[0]))
    shape = (n_long, n_short) if rng.uniform() < 0.5 else (n_short, n_long)
    return shape, round(px, 4)


def sample_acquisition(rng: np.random.Generator, heart: Heart, field_t: float) -> Acquisition:
    """Draw grid, slice stack and image formation at field strength ``field_t`` (``FIELD``).

    The stack covers the base (0-1 slices above it: unlabelled atria) to beyond the apex. Its
    slice count is kept in [6, 12]: when the sampled spacing would need more slices, the spacing
    is widened (at most to 10 mm) and only then is the stack cut at 12 slices. Rotation and
    offset of the heart: ``ROTATION_DEG``, ``OFFSET_MM``. Banding (3 T mostly): dark bands
    ``amplitude`` 0.4-0.85 deep, ``period`` 60-140 mm apart, 2-5 mm wide, slightly curved.
    """
    f = FIELD[field_t]
    shape, px = sample_shape_and_px(rng)
    dz = DZ_CHOICES[int(rng.integers(len(DZ_CHOICES)))]
    z0 = _u(rng, -12, 4)
    cover = heart.L + heart.t_apex + _u(rng, 0, 12) - z0
    if math.ceil(cover / dz) > MAX_SLICES:
        dz = min(10.0, math.ceil(2 * cover / MAX_SLICES) / 2)
    n = min(max(math.ceil(cover / dz), MIN_SLICES), MAX_SLICES)
    band: tuple[float, ...] = ()
    if rng.uniform() < f["p_band"]:
        band = (_u(rng, 0.4, 0.85), _u(rng, 60, 140), _u(rng, 2, 5), _u(rng, 0, math.pi),
                _u(rng, -0.004, 0.004), _u(rng, 0, 1))  # fmt: skip
    return Acquisition(
        shape=shape, px=px, dz=dz, z0=z0, n_slices=n,
        rotation=math.radians(_u(rng, -ROTATION_DEG, ROTATION_DEG)),
        offset=(_u(rng, -OFFSET_MM, OFFSET_MM), _u(rng, -OFFSET_MM, OFFSET_MM)),
        psf_sigma=_u(rng, 0.6, 1.1),
        ghost=_u(rng, 0, 0.06) if rng.uniform() < 0.5 else 0.0,
        ghost_axis=int(rng.integers(2)), bias_beta=_u(rng, *f["bias"]),
        bias_c=tuple(float(c) for c in rng.normal(0, 1, 5)),
        snr=_u(rng, *f["snr"]), gain=_u(rng, 200, 1500), field_t=field_t,
        b1=_u(rng, *f["b1"]), band=band,
    )  # fmt: skip


def sample_patient(rng: np.random.Generator, group: str) -> Patient:
    """Draw every parameter of one patient of ``group``.

    Raises:
        ValueError: ``group`` is not one of ``GROUPS``.
    """
    if group not in GROUP_RANGES:
        raise ValueError(f"unknown group {group!r}; expected one of {GROUPS}")
    height = round(_u(rng, 150, 195), 1)
    weight = round(_u(rng, 50, 110), 1)
    field_t = 3.0 if rng.uniform() < P_3T else 1.5
    heart = sample_heart(rng, group)
    body = sample_body(rng, weight)
    intensity = sample_intensity(rng, field_t)
    acq = sample_acquisition(rng, heart, field_t)
    info = {
        "ED": "1",
        "ES": str(int(rng.integers(9, 16))),
        "Group": group,
        "Height": f"{height:.1f}",
        "NbFrame": str(int(rng.integers(20, 36))),
        "Weight": f"{weight:.1f}",
    }
    return Patient(heart, body, intensity, acq, info)
