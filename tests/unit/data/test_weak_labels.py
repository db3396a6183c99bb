"""Partial labels by iterative erosion: hand-made masks with known results, and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mixseg.data.weak_labels import erode_to_core, weak_label_slices


def square(n: int, size: int = 15, at: tuple[int, int] = (4, 4)) -> np.ndarray:
    m = np.zeros((size, size), bool)
    m[at[0] : at[0] + n, at[1] : at[1] + n] = True
    return m


def test_square_erodes_to_its_centre():
    # 7x7 -> 5x5 -> 3x3 -> 1x1 -> empty: the last non-empty result is the centre pixel.
    core = erode_to_core(square(7), iterations=10)
    assert core.sum() == 1 and core[7, 7]


def test_iterations_cap_the_erosion():
    core = erode_to_core(square(7), iterations=1)
    assert np.array_equal(core, square(5, at=(5, 5)))


def test_mask_too_thin_for_one_erosion_is_kept_whole():
    # The reference code falls back to the original mask when even one erosion empties it.
    m = square(2)
    assert np.array_equal(erode_to_core(m, iterations=10), m)


def test_cross_structure():
    # Erosion by a cross keeps a pixel iff its 4-neighbours are inside: on a square that is
    # the same as the full structure, 5x5 -> 3x3 -> 1x1 -> empty.
    core = erode_to_core(square(5), iterations=10, connectivity=1)
    assert core.sum() == 1 and core[6, 6]


def test_per_object_keeps_a_core_in_every_object():
    m = square(7) | square(3, at=(0, 12))
    per = erode_to_core(m, iterations=10, per_object=True)
    whole = erode_to_core(m, iterations=10, per_object=False)
    assert per.sum() == 2 and per[7, 7] and per[1, 13]
    assert whole.sum() == 1 and whole[7, 7]  # the small object vanished


def test_3d_cube():
    m = np.zeros((9, 9, 9), bool)
    m[2:7, 2:7, 2:7] = True
    core = erode_to_core(m, iterations=10)
    assert core.sum() == 1 and core[4, 4, 4]


def ball(radius: float, size: int = 11) -> np.ndarray:
    """Voxels of a ``size``^3 grid within ``radius`` of the centre voxel."""
    z, y, x = np.indices((size,) * 3) - size // 2
    return z**2 + y**2 + x**2 <= radius**2


# Two erosions of the ball r <= 4.5 (|p|^2 <= 20.25), by hand. A voxel p survives k erosions by a
# structure S iff p + d is in the ball for every d in the k-fold sum S + S (the eroding element).
# Only the largest |p + d|^2 matters; by symmetry take p >= 0 and d pushing p outwards:
#  - cube (26): S + S = every d with |d_i| <= 2, worst d = (2, 2, 2): (|x|+2)^2+(|y|+2)^2+(|z|+2)^2
#    <= 20.25 holds for (0,0,0) (12) and the 6 permutations of (1,0,0) (17), not for (1,1,0)
#    (22) or (2,0,0) (24): 7 voxels.
#  - 18-neighbourhood (no corners): S + S lacks the d with two |d_i| = 2 and a third != 0, so
#    the worst d of (x, y, z) >= 0 with x >= y >= z is (2, 2, 0) or (2, 1, 1):
#    (0,0,0): max(8, 6) = 8; (1,0,0): (3,2,0) 13; (1,1,0): (3,3,0) 18; (1,1,1): (3,3,1) 19;
#    (2,0,0): (4,2,0) 20; (2,1,0): (4,3,0) 25 > 20.25. Survivors: 1 + 6 + 12 + 8 + 6 = 33.
#  - cross (6): S + S = every d with |d|_1 <= 2, worst (2, 0, 0) along the largest coordinate
#    or (1, 1, 0) / (0, 1, 1) ...: (2,0,0): (4,0,0) 16 ok; (2,1,0): (4,1,0) 17 ok; (2,1,1): 18;
#    (2,2,0): (4,2,0) 20 ok; (2,2,1): 21 no; (3,0,0): 25 no; (1,1,1): (3,1,1) 11 ok.
#    Survivors: 1 + 6 (1,0,0) + 12 (1,1,0) + 8 (1,1,1) + 6 (2,0,0) + 24 (2,1,0) + 24 (2,1,1)
#    + 12 (2,2,0) = 93.
@pytest.mark.parametrize("connectivity, expected", [(3, 7), (2, 33), (1, 93)])
def test_3d_structure_on_a_ball_hand_computed(connectivity, expected):
    m = ball(4.5)
    assert m.sum() == 389  # the ball itself (fixture check: counted, not part of the claim)
    core = erode_to_core(m, iterations=2, connectivity=connectivity)
    assert int(core.sum()) == expected


def test_3d_default_is_the_full_cube():
    # The reference code's full square (connectivity = ndim) carried to 3D.
    m = ball(4.5)
    assert np.array_equal(erode_to_core(m, 2), erode_to_core(m, 2, connectivity=3))


def test_slices_are_eroded_independently():
    vol = np.stack([square(7), np.zeros((15, 15), bool), square(2)]).astype(np.uint8)
    weak = weak_label_slices(vol, iterations=10, connectivity=2, per_object=True)
    assert weak.dtype == np.uint8
    assert [int(s.sum()) for s in weak] == [1, 0, 4]


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="connectivity"):
        erode_to_core(square(3), 1, connectivity=3)  # no 3rd dimension to connect along
    with pytest.raises(ValueError, match="connectivity"):
        erode_to_core(ball(2), 1, connectivity=0)
    with pytest.raises(ValueError, match="2D or 3D"):
        erode_to_core(np.ones(4), 1)
    with pytest.raises(ValueError, match="iterations"):
        erode_to_core(square(3), -1)


@settings(max_examples=60, deadline=None)
@given(
    arrays(bool, st.tuples(st.integers(1, 12), st.integers(1, 12))),
    st.integers(0, 6),
    st.sampled_from([1, 2]),
    st.booleans(),
)
def test_weak_label_inside_ground_truth_and_never_empty(mask, iterations, conn, per_object):
    core = erode_to_core(mask, iterations, conn, per_object)
    assert not (core & ~mask).any()  # never outside the ground truth
    assert core.any() == mask.any()  # never empty where the ground truth is not
