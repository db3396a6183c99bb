"""Metrics: hand-drawn shapes with known answers, the empty-mask policy, and a brute-force
reference implementation of medpy's HD95 on random blobs."""

import math

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist

from mixseg import metrics


def _brute_hd95(p, g, spacing):
    """medpy's definition written the slow, obvious way: all surface-voxel pairs."""
    fp = ndimage.generate_binary_structure(p.ndim, 1)
    sp = np.argwhere(p ^ ndimage.binary_erosion(p, fp)) * spacing
    sg = np.argwhere(g ^ ndimage.binary_erosion(g, fp)) * spacing
    d = cdist(sp, sg)
    pooled = np.concatenate([d.min(1), d.min(0)])
    return np.percentile(pooled, 95), (d.min(1).mean() + d.min(0).mean()) / 2


def test_dice_hand_values():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[0, :2] = True  # 2 voxels
    b[0, 1:4] = True  # 3 voxels, overlap 1
    assert metrics.dice(a, b) == pytest.approx(2 * 1 / 5)
    assert metrics.dice(a, a) == 1.0


def test_shifted_slab_with_anisotropic_spacing():
    g = np.zeros((12, 10, 10), bool)
    p = np.zeros_like(g)
    g[3] = True
    p[6] = True  # 3 slices away, every surface voxel is 3 * 5 mm from the other surface
    m = metrics.case_metrics(p, g, (5.0, 1.5, 1.5))
    assert m["hd95"] == pytest.approx(15.0)
    assert m["assd"] == pytest.approx(15.0)
    assert m["dsc"] == 0.0


def test_single_voxels_distance_in_mm():
    g = np.zeros((5, 5, 5), bool)
    p = np.zeros_like(g)
    g[1, 1, 1] = True
    p[1, 3, 2] = True
    assert metrics.hd95(p, g, (10.0, 2.0, 1.0)) == pytest.approx(math.hypot(4.0, 1.0))


def test_shifted_bar_against_brute_force():
    g = np.zeros((6, 30, 30), bool)
    g[1:5, 5:20, 10:14] = True
    p = np.roll(g, 3, axis=2)
    hd, asd = _brute_hd95(p, g, np.array([8.0, 1.25, 1.25]))
    m = metrics.case_metrics(p, g, (8.0, 1.25, 1.25))
    assert m["hd95"] == pytest.approx(hd, abs=1e-9)
    assert m["assd"] == pytest.approx(asd, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_random_blobs_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    shape = (8, 24, 20)
    g = ndimage.gaussian_filter(rng.random(shape), 2) > 0.5
    p = ndimage.gaussian_filter(rng.random(shape), 2) > 0.5
    if not g.any() or not p.any():
        pytest.skip("empty blob")
    spacing = np.array([7.0, 1.3, 0.9])
    hd, asd = _brute_hd95(p, g, spacing)
    assert metrics.hd95(p, g, spacing) == pytest.approx(hd, abs=1e-6)
    assert metrics.assd(p, g, spacing) == pytest.approx(asd, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_mostly_shared_surfaces_against_brute_force(seed):
    """A good prediction shares most of its surface with the ground truth; those voxels are not
    queried (distance 0), the values must still be medpy's."""
    rng = np.random.default_rng(seed)
    g = ndimage.gaussian_filter(rng.random((8, 24, 20)), 2) > 0.5
    band = ndimage.binary_dilation(g) & ~ndimage.binary_erosion(g)
    p = g ^ (band & (rng.random(g.shape) < 0.15))  # boundary errors
    p[0, 0, 0] = True  # and a far false positive
    sp = p ^ ndimage.binary_erosion(p, ndimage.generate_binary_structure(3, 1))
    sg = g ^ ndimage.binary_erosion(g, ndimage.generate_binary_structure(3, 1))
    assert (sp & sg).sum() > 0.3 * sp.sum()  # the case this test is about
    spacing = np.array([7.0, 1.3, 0.9])
    hd, asd = _brute_hd95(p, g, spacing)
    m = metrics.case_metrics(p, g, spacing)
    assert m["hd95"] == pytest.approx(hd, abs=1e-9)
    assert m["assd"] == pytest.approx(asd, abs=1e-9)
    assert metrics.case_metrics(g, g, spacing)["hd95"] == 0.0  # every voxel shared


def test_masks_touching_the_border():
    g = np.zeros((4, 10, 10), bool)
    g[:, :5, :] = True
    p = np.zeros_like(g)
    p[:, :7, :] = True
    hd, _ = _brute_hd95(p, g, np.ones(3))
    assert metrics.hd95(p, g) == pytest.approx(hd)


def test_empty_policy():
    e = np.zeros((4, 6, 8), bool)
    f = e.copy()
    f[1, 2, 3] = True
    both = metrics.case_metrics(e, e, (10, 1, 1))
    assert (both["dsc"], both["hd95"], both["assd"]) == (1.0, 0.0, 0.0)
    miss = metrics.case_metrics(e, f, (10, 1, 1))
    diag = math.sqrt(40**2 + 6**2 + 8**2)
    assert miss["dsc"] == 0.0 and miss["hd95"] == pytest.approx(diag) and miss["pred_empty"]
    assert not miss["gt_empty"]


def test_shape_mismatch_and_bad_spacing():
    with pytest.raises(ValueError, match="shape"):
        metrics.dice(np.zeros((2, 2)), np.zeros((2, 3)))
    a = np.ones((2, 2, 2), bool)
    with pytest.raises(ValueError, match="spacing"):
        metrics.hd95(a, a, (1.0, 0.0, 1.0))


def test_summarize():
    s = metrics.summarize([1.0, 3.0, float("nan")])
    assert s == {"mean": 2.0, "std": 1.0, "n": 2}


@pytest.mark.parametrize("seed", range(4))
def test_2d_masks_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    g = ndimage.gaussian_filter(rng.random((40, 36)), 3) > 0.5
    p = ndimage.gaussian_filter(rng.random((40, 36)), 3) > 0.5
    if not g.any() or not p.any():
        pytest.skip("empty blob")
    spacing = np.array([1.1, 0.7])
    hd, asd = _brute_hd95(p, g, spacing)
    m = metrics.case_metrics(p, g, spacing)
    assert m["hd95"] == pytest.approx(hd, abs=1e-9)
    assert m["assd"] == pytest.approx(asd, abs=1e-9)


@pytest.mark.parametrize(
    "spacing", [(10.0, 2.0, 2.0), (0.625, 0.625, 0.625), (3.0, 0.7, 1.9), (1.0, 9.0, 1.0)]
)
def test_offset_search_equals_exhaustive_search(spacing):
    """Every path of the search (each round of offsets, the exhaustive leftovers by brute
    force and by k-d tree) gives the exact nearest-surface distance: the offset rounds against
    no rounds at all, on scattered masks whose distances span all of them."""
    rng = np.random.default_rng(7)
    shape = (9, 30, 26)
    p = ndimage.gaussian_filter(rng.random(shape), 1.5) > 0.55
    g = ndimage.gaussian_filter(rng.random(shape), 1.5) > 0.55
    g[0, 0, 0] = p[-1, -1, -1] = True  # far leftovers in both directions
    s = tuple(float(v) for v in spacing)
    tiers, radius = metrics._offsets(s)
    sp, sg = metrics._surfaces([p, g], tuple(max(r, 1) for r in radius))
    strides = np.asarray(metrics._flat_strides(sp.shape), dtype=np.intp)
    rounds = [(o @ strides, length) for o, length in tiers]
    query = np.flatnonzero(sp.ravel() > sg.ravel())
    target = sg.ravel()
    found = metrics._directed(query, target, rounds, sp.shape, s)
    by_tree = metrics._exhaustive(query, np.flatnonzero(target), sp.shape, s)
    coords = np.stack(np.unravel_index(query, sp.shape), 1) * s
    brute = cdist(coords, np.argwhere(sg) * s).min(1)
    np.testing.assert_allclose(found, brute, rtol=0, atol=1e-9)
    np.testing.assert_allclose(by_tree, brute, rtol=0, atol=1e-9)
    assert len(query) * target.sum() > metrics._BRUTE_PAIRS  # the k-d tree path above
    assert (brute > 5 * min(s)).any()  # some found only by the exhaustive search


@pytest.mark.parametrize("spacing", [(10.0, 2.0, 2.0), (0.625,) * 3, (3.0, 0.7, 1.9), (1.3, 0.9)])
def test_offset_rounds_hold_every_offset_within_reach_once_nearest_first(spacing):
    s = tuple(spacing)
    tiers, radius = metrics._offsets(s)
    offsets = np.concatenate([o for o, _ in tiers])
    lengths = np.concatenate([length for _, length in tiers])
    assert np.all(np.diff(lengths) >= 0)  # nearest first, across rounds too
    np.testing.assert_allclose(lengths, np.sqrt(((offsets * s) ** 2).sum(1)))
    assert np.all(np.abs(offsets) <= radius)  # inside the frame
    assert len({tuple(o) for o in offsets}) == len(offsets)
    # every non-zero offset shorter than the last round's reach is there (checked in a box
    # twice as large)
    reach = metrics._REACH_VOXELS[-1] * min(s)
    axes = np.meshgrid(*[np.arange(-2 * r - 2, 2 * r + 3) for r in radius], indexing="ij")
    grid = np.stack(axes, -1).reshape(-1, len(s))
    length = np.sqrt(((grid * s) ** 2).sum(1))
    assert ((length > 0) & (length < reach)).sum() == len(offsets)
    assert lengths.max() < reach


def test_percentile_is_numpys():
    rng = np.random.default_rng(3)
    for n in [*range(1, 40), 977, 4096]:
        x = rng.random(n) * 50
        x[rng.random(n) < 0.6] = 0.0
        assert metrics._percentile95(x) == float(np.percentile(x, 95))


@pytest.mark.parametrize("spacing", [(10.0, 2.0, 2.0), (1.25, 1.25, 1.25)])
def test_far_false_positive_blob_against_brute_force(spacing):
    """The leftovers of the offset search are typically one compact blob far from the
    structure: its candidates are cut by the triangle inequality, the values must not move."""
    rng = np.random.default_rng(11)
    g = np.zeros((12, 60, 60), bool)
    g[2:10] = ndimage.gaussian_filter(rng.random((8, 60, 60)), 3) > 0.5
    g[:, :20, :20] = False
    p = g.copy()
    p[5, 2:5, 3:6] = True  # a 3 x 3 false positive in a corner, away from everything
    p[6, 40:43, 40:43] ^= True  # and a small boundary error
    hd, asd = _brute_hd95(p, g, np.array(spacing))
    m = metrics.case_metrics(p, g, spacing)
    assert m["hd95"] == pytest.approx(hd, abs=1e-9)
    assert m["assd"] == pytest.approx(asd, abs=1e-9)
    s = tuple(spacing)
    blob = np.zeros_like(p)
    blob[5, 2:5, 3:6] = True
    shape = p.shape
    query, points = np.flatnonzero(blob), np.flatnonzero(metrics._surface(g))
    far = metrics._exhaustive(query, points, shape, s)
    brute = cdist(np.argwhere(blob) * s, np.argwhere(metrics._surface(g)) * s).min(1)
    np.testing.assert_allclose(far, brute, rtol=0, atol=1e-9)
