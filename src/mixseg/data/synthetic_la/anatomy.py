"""Anatomy of a synthetic LA case: random parameters and signed-distance primitives.

Geometry follows embedded-data.md section 2.2. World coordinates are mm from the centre of the
volume with axes (x, y, z) = (patient left, posterior, superior), the NRRD space
``left-posterior-superior`` (the prototype's z pointed inferior; superior matches the header).
Shapes are signed distances f (mm, negative inside), evaluated on a ``Grid`` whose coordinates
are three broadcastable 1D axes (nx,1,1), (1,ny,1), (1,1,nz), so a primitive costs only the
voxels of its bounding box (``Grid.box``).

``sample_case`` draws every random number of the anatomy and of the acquisition, in a fixed
order, from the case's generator: noise fields are drawn afterwards by the renderer.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

F32 = np.float32
BIG = 1e3  # "far outside", mm


@dataclasses.dataclass(frozen=True)
class Grid:
    """Voxel-centre coordinates (mm) as broadcastable axes; ``spacing`` is isotropic."""

    x: np.ndarray  # (nx, 1, 1)
    y: np.ndarray  # (1, ny, 1)
    z: np.ndarray  # (1, 1, nz)
    spacing: float

    @classmethod
    def make(cls, shape: tuple[int, int, int], spacing: float) -> Grid:
        axes = [(np.arange(n, dtype=F32) - (n - 1) / 2) * spacing for n in shape]
        return cls(axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :], spacing)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.x.shape[0], self.y.shape[1], self.z.shape[2])

    def box(self, lo: np.ndarray, hi: np.ndarray) -> tuple[tuple[slice, ...], Grid] | None:
        """Voxels whose centres lie in [lo, hi] (mm): (slices, sub-grid), or None if empty."""
        sl = []
        for ax, a, b in zip((self.x.ravel(), self.y.ravel(), self.z.ravel()), lo, hi, strict=True):
            i0, i1 = np.searchsorted(ax, a), np.searchsorted(ax, b, side="right")
            if i1 <= i0:
                return None
            sl.append(slice(int(i0), int(i1)))
        sub = Grid(self.x[sl[0]], self.y[:, sl[1]], self.z[:, :, sl[2]], self.spacing)
        return tuple(sl), sub


# --------------------------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Tube:
    """Tapered capsule from ``a`` (radius ``ra``) to ``b`` (radius ``rb``), mm."""

    a: np.ndarray
    b: np.ndarray
    ra: float
    rb: float

    def bounds(self, margin: float) -> tuple[np.ndarray, np.ndarray]:
        r = max(self.ra, self.rb) + margin
        return np.minimum(self.a, self.b) - r, np.maximum(self.a, self.b) + r

    def sdf(self, g: Grid) -> np.ndarray:
        ab = self.b - self.a
        length = float(np.linalg.norm(ab))
        u = ab / length
        dx, dy, dz = g.x - float(self.a[0]), g.y - float(self.a[1]), g.z - float(self.a[2])
        t = np.clip(dx * float(u[0]) + dy * float(u[1]) + dz * float(u[2]), 0.0, length)
        d2 = (dx - t * float(u[0])) ** 2 + (dy - t * float(u[1])) ** 2 + (dz - t * float(u[2])) ** 2
        return np.sqrt(d2) - (self.ra + (self.rb - self.ra) / length * t)

    def axial(self, g: Grid) -> np.ndarray:
        """Signed position (mm) along the axis from ``a``: <p - a, u>."""
        u = (self.b - self.a) / np.linalg.norm(self.b - self.a)
        axes = zip((g.x, g.y, g.z), self.a, u, strict=True)
        return sum((c - float(a)) * float(v) for c, a, v in axes)


@dataclasses.dataclass(frozen=True)
class Ellipsoid:
    """Ellipsoid with centre ``c``, orthonormal axes as columns of ``rot`` and ``semi`` axes."""

    c: np.ndarray
    rot: np.ndarray
    semi: np.ndarray

    def bounds(self, margin: float) -> tuple[np.ndarray, np.ndarray]:
        r = float(self.semi.max()) + margin
        return self.c - r, self.c + r

    def local(self, g: Grid) -> list[np.ndarray]:
        d = (g.x - float(self.c[0]), g.y - float(self.c[1]), g.z - float(self.c[2]))
        return [sum(di * float(self.rot[i, k]) for i, di in enumerate(d)) for k in range(3)]

    def sdf(self, g: Grid, bumps: tuple = ()) -> np.ndarray:
        """Radial distance |p|(1 - 1/q) to the surface, q the normalised radius (exact on it).

        ``bumps`` (amplitude, frequency 3-vector, phase) perturb the surface by
        -r_mean * sum a_j cos(pi f_j . w + psi_j), w the unit direction from the centre.
        """
        u = self.local(g)
        r = np.sqrt(u[0] ** 2 + u[1] ** 2 + u[2] ** 2) + 1e-3
        q = np.sqrt(sum((ui / float(s)) ** 2 for ui, s in zip(u, self.semi, strict=True))) + 1e-6
        f = r * (1.0 - 1.0 / q)
        if bumps:
            r_mean = float(self.semi.mean())
            for amp, freq, phase in bumps:
                arg = (u[0] * float(freq[0]) + u[1] * float(freq[1]) + u[2] * float(freq[2])) / r
                f -= (r_mean * amp) * np.cos(math.pi * arg + phase)
        return f

    def radius_along(self, w: np.ndarray) -> float:
        """Distance from the centre to the (unperturbed) surface along unit vector ``w``."""
        return float(1.0 / np.linalg.norm((self.rot.T @ w) / self.semi))


def boxed(grid: Grid, bounds: tuple[np.ndarray, np.ndarray], fn) -> np.ndarray:
    """``fn(sub_grid)`` on the bounding box, embedded in a full array that is BIG elsewhere."""
    out = np.full(grid.shape, BIG, F32)
    hit = grid.box(*bounds)
    if hit is not None:
        sl, sub = hit
        out[sl] = fn(sub)
    return out


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def rotation(ax: float, ay: float, az: float) -> np.ndarray:
    """Rz @ Ry @ Rx for angles in radians."""
    cx, sx, cy, sy, cz, sz = (math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay),
                              math.cos(az), math.sin(az))  # fmt: skip
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


# --------------------------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Vein:
    """A pulmonary vein: two capsules; the label keeps ``seg1`` up to ``label_len`` mm."""

    seg1: Tube
    seg2: Tube
    label_len: float


@dataclasses.dataclass(frozen=True)
class LAModel:
    """Every random quantity of one case (mm, world frame; intensities relative to LA blood)."""

    la: Ellipsoid
    bumps: tuple
    veins: tuple[Vein, ...]
    laa: tuple[Tube, Tube]
    normal: np.ndarray  # mitral plane normal, LA centre -> LV
    plane: float  # distance of the mitral plane from the LA centre along ``normal``
    funnel: Tube  # mitral orifice: LA blood continuous into the LV
    lv: Ellipsoid  # LV cavity; axis 0 of ``rot`` is base -> apex
    lv_base: float  # the LV is truncated at local u0 >= -lv_base
    ra: Ellipsoid
    rv: Ellipsoid
    vessels: tuple[tuple[str, Tube], ...]  # (intensity key, tube), painted in order
    spine: tuple[Tube, Tube]  # vertebral body, spinal canal
    slab: tuple[float, float, float]  # mediastinum: centre x, half-width at y=0, slope
    wobble: tuple[tuple[float, float, float, int], ...]  # slab edge: (amp, wavelength, phase, axis)
    lung_margin: float
    iv: dict[str, float]
    acq: dict[str, float | np.ndarray]


def _jitter(rng: np.random.Generator, v, deg: float) -> np.ndarray:
    a = np.radians(rng.uniform(-deg, deg, 3))
    return rotation(*a) @ unit(v)


def _vein(rng, la: Ellipsoid, c: np.ndarray, heart: np.ndarray, sx: float, sz: float) -> Vein:
    """One PV at ostium direction (sx, +y, sz); it runs laterally and bends further out."""
    w = heart @ _jitter(rng, (0.75 * sx, 0.45, 0.5 * sz), 10)
    a = c + w * la.radius_along(w) * 0.8
    u1 = heart @ _jitter(rng, (0.8 * sx, 0.45, 0.3 * sz), 12)
    u2 = heart @ _jitter(rng, (0.95 * sx, 0.05, 0.3 * sz), 15)
    r0, r1, r2 = rng.uniform(5.5, 8.5), rng.uniform(4.5, 5.5), rng.uniform(3.5, 5.0)
    l1, l2 = rng.uniform(15, 25), rng.uniform(15, 25)
    b = a + u1 * l1
    return Vein(Tube(a, b, r0, r1), Tube(b, b + u2 * l2, r1, r2), l1 * rng.uniform(0.6, 1.0))


def sample_case(rng: np.random.Generator) -> LAModel:
    """Draw one case (embedded-data.md 2.2; the RA, RV, SVC and PA branches are additions)."""
    u = rng.uniform
    c = np.array([u(-8, 8), u(-8, 8), u(-2, 2)])
    semi = np.array([u(24, 33), u(17, 24), u(16, 22)])
    la = Ellipsoid(c, rotation(*np.radians(u(-20, 20, 3))), semi)
    bumps = []
    for _ in range(6):
        freq = unit(rng.standard_normal(3)) * u(0.6, 1.6)
        bumps.append((float(rng.normal(0, 0.05)), freq, u(0, 2 * math.pi)))
    heart = rotation(*np.radians(u(-8, 8, 3)))  # small common tilt of the attached anatomy
    veins = tuple(_vein(rng, la, c, heart, sx, sz) for sx in (1, -1) for sz in (1, -1))
    # Appendage: anterior-left-superior finger, curling down over the LV base.
    w = heart @ _jitter(rng, (0.6, -0.7, 0.35), 10)
    a = c + w * la.radius_along(w) * 0.8
    b = a + heart @ _jitter(rng, (0.5, -0.8, 0.2), 12) * u(12, 18)
    r_mid = u(5.0, 6.5)
    laa = (Tube(a, b, u(7, 9), r_mid),
           Tube(b, b + heart @ _jitter(rng, (0.7, -0.4, -0.6), 15) * u(10, 15), r_mid,
                u(3.5, 5.0)))  # fmt: skip
    # Mitral plane at 42-50 % of the LA-LV centre distance; the LV is a truncated ellipsoid
    # whose base sits just past the plane, joined to the LA by the orifice "funnel".
    normal = heart @ _jitter(rng, (0.45, -0.8, -0.45), 10)
    lv_len, lv_r, base_frac = u(36, 44), u(20, 26), 0.55
    frac = u(0.42, 0.50)
    plane = frac * (3.0 + base_frac * lv_len) / (1.0 - frac)
    axis = _jitter(rng, normal, 6)
    lv_c = c + normal * (plane + 3.0) + axis * (base_frac * lv_len)
    lv_rot = np.linalg.qr(np.column_stack([axis, rng.standard_normal((3, 2))]))[0]
    lv_rot[:, 0] = axis  # QR may flip the sign of the first column
    lv = Ellipsoid(lv_c, lv_rot, np.array([lv_len, lv_r, lv_r * u(0.9, 1.05)]))
    funnel = Tube(c, c + normal * (plane + 8.0), u(11, 14), u(11, 14))
    ra = Ellipsoid(c + heart @ np.array([u(-44, -38), u(-20, -12), u(-6, 0)]),
                   rotation(*np.radians(u(-15, 15, 3))),
                   np.array([u(18, 24), u(17, 22), u(22, 28)]))  # fmt: skip
    # RV: anterior and to the right of the LV, below the LA level mostly.
    rv = Ellipsoid(lv_c + heart @ np.array([u(-30, -22), u(-16, -8), u(-4, 4)]),
                   rotation(*np.radians(u(-15, 15, 3))),
                   np.array([u(22, 30), u(14, 19), u(24, 32)]))  # fmt: skip

    def vertical(x, y, r, tilt=5.0) -> Tube:
        d = _jitter(rng, (0, 0, 1), tilt)
        p = np.array([x, y, 0.0]) + np.array([c[0], c[1], 0.0])
        return Tube(p - 60 * d, p + 60 * d, r, r)

    pa_split = c + np.array([u(5, 12), u(-30, -24), u(24, 30)])
    vessels = (
        ("aorta", vertical(u(-16, -6), u(-38, -30), u(12, 15.5))),
        ("aorta", vertical(u(18, 26), u(38, 46), u(9.5, 12))),
        ("pa", Tube(c + np.array([u(14, 22), u(-54, -46), -25.0]), pa_split, 12.5, u(11, 13))),
        ("pa", Tube(pa_split, c + np.array([u(-65, -55), u(-14, -6), u(26, 32)]), 10, u(7, 9))),
        ("pa", Tube(pa_split, c + np.array([u(45, 55), u(10, 20), u(28, 34)]), 10, u(7, 9))),
        ("svc", vertical(u(-44, -36), u(-14, -6), u(8, 10))),
        ("oesophagus", vertical(u(0, 8), u(29, 35), u(7, 9), tilt=3.0)),
    )
    sx, vy, vr = u(-4, 4), u(60, 66), u(16, 19)
    spine = (vertical(sx, vy, vr, tilt=3.0), vertical(sx, vy + vr + u(6, 9), u(7, 8.5), tilt=0.0))
    iv = {
        "tissue": u(0.35, 0.5), "fat": u(0.55, 0.8), "lung": u(0.02, 0.07),
        "dots": u(0.25, 0.45), "wall": u(0.35, 0.5), "scar": u(1.1, 1.4), "myo": u(0.08, 0.15),
        "lv": u(0.88, 1.0), "laa": u(0.88, 1.0), "ra": u(0.85, 1.0), "aorta": u(0.85, 1.05),
        "pa": u(0.85, 1.0), "svc": u(0.8, 1.0), "oesophagus": u(0.25, 0.35),
        "rv": u(0.85, 1.0), "bone": u(0.45, 0.65), "cortex": u(0.08, 0.15), "canal": u(0.15, 0.3),
        "vessel_wall": u(0.25, 0.35),
    }  # fmt: skip
    acq = {
        "psf": u(0.6, 1.1), "beta": u(0.2, 0.5), "bias": rng.standard_normal(9),
        "snr": u(6, 14), "top": u(200, 250),
        "scar_threshold": u(0.8, 1.6), "dot_density": u(0.002, 0.006),
    }  # fmt: skip
    slab = (c[0] + u(-6, 6), u(30, 40), u(0.25, 0.45))
    wobble = tuple((u(2, 5), u(30, 80), u(0, 2 * math.pi), axis) for axis in (1, 1, 2))
    return LAModel(la, tuple(bumps), veins, laa, normal, plane, funnel, lv, base_frac * lv_len,
                  ra, rv, vessels, spine, slab, wobble, u(2, 6), iv, acq)  # fmt: skip
