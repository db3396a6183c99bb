"""The qualitative slices a run saves: which slices, byte-stable files (the images shared by
every run), lossless thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from mixseg import slices


def _case(seed: int = 0):
    rng = np.random.default_rng(seed)
    label = np.zeros((4, 8, 8), np.uint8)
    label[2, 2:6, 2:6] = 1  # slice 2 has the most foreground
    label[1, 3:4, 3:4] = 1
    image = np.random.default_rng(99).normal(size=label.shape).astype(np.float32)
    return image, label, rng.uniform(size=label.shape)


def test_chosen_cases_are_the_first_case_of_the_first_test_patients():
    meta = {
        "test": ["p3", "p1", "p2", "p4"],
        "patients": {f"p{i}": {"cases": [f"p{i}_ed", f"p{i}_es"]} for i in range(1, 5)},
    }
    assert slices.chosen_cases(meta) == ["p3_ed", "p1_ed", "p2_ed"]


def test_pick_keeps_the_largest_slice():
    image, label, probs = _case()
    rec = slices.pick("c", image, label, "student", probs)
    assert rec["z"] == 2 and np.array_equal(rec["label"], label[2])
    assert np.array_equal(rec["probs"], probs[2]) and rec["head"] == "student"


def _records(seed: int) -> list[dict]:
    image, label, probs = _case(seed)
    crop = (slice(None), slice(0, 6), slice(0, 5))  # LA cases differ in size
    return [
        slices.pick("a", image, label, "student", probs),
        slices.pick("b", image[crop], label[crop], "student", probs[crop]),
    ]


def test_save_is_byte_stable_and_thresholds_survive(tmp_path):
    for d in ("1", "2", "other"):
        slices.save(tmp_path / d, _records(1 if d == "other" else 0))
    for f in (slices.FILE, slices.IMAGES):
        assert (tmp_path / "1" / f).read_bytes() == (tmp_path / "2" / f).read_bytes()
    # Another run of the dataset: other probabilities, the very same images file (one git blob).
    assert (tmp_path / "1" / slices.IMAGES).read_bytes() == (
        tmp_path / "other" / slices.IMAGES
    ).read_bytes()
    got = slices.load(tmp_path / "1")
    assert got.names == ["a z=2", "b z=2"] and got.head == "student"
    assert got.image[1].shape == got.probs[1].shape == (6, 5)
    p = _case(0)[2][2]
    assert np.array_equal(got.probs[0] > 0.5, p >= 0.5)
    assert np.abs(got.probs[0] - p).max() <= 0.5 / 255 + 1e-7
    assert np.allclose(got.image[0], _case(0)[0][2], atol=1e-2)
    assert slices.load(tmp_path / "none") is None


def test_one_head_per_run(tmp_path):
    image, label, probs = _case()
    records = [
        slices.pick("a", image, label, "student", probs),
        slices.pick("b", image, label, "teacher", probs),
    ]
    with pytest.raises(ValueError, match="one head"):
        slices.save(tmp_path, records)
