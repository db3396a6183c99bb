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


def test_slices_are_eroded_independently():
    vol = np.stack([square(7), np.zeros((15, 15), bool), square(2)]).astype(np.uint8)
    weak = weak_label_slices(vol, iterations=10, connectivity=2, per_object=True)
    assert weak.dtype == np.uint8
    assert [int(s.sum()) for s in weak] == [1, 0, 4]


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="connectivity"):
        erode_to_core(square(3), 1, connectivity=3)
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
