"""The qualitative slices a run saves: which slices, byte-stable files, lossless thresholds."""

from __future__ import annotations

import numpy as np

from mixseg import slices


def _case(seed: int = 0):
    rng = np.random.default_rng(seed)
    label = np.zeros((4, 8, 8), np.uint8)
    label[2, 2:6, 2:6] = 1  # slice 2 has the most foreground
    label[1, 3:4, 3:4] = 1
    image = rng.normal(size=label.shape).astype(np.float32)
    probs = {"teacher": rng.uniform(size=label.shape), "student": rng.uniform(size=label.shape)}
    return image, label, probs


def test_chosen_cases_are_the_first_case_of_the_first_test_patients():
    meta = {
        "test": ["p3", "p1", "p2", "p4"],
        "patients": {f"p{i}": {"cases": [f"p{i}_ed", f"p{i}_es"]} for i in range(1, 5)},
    }
    assert slices.chosen_cases(meta) == ["p3_ed", "p1_ed", "p2_ed"]


def test_pick_keeps_the_largest_slice_of_every_head():
    image, label, probs = _case()
    rec = slices.pick("c", image, label, probs)
    assert rec["z"] == 2 and np.array_equal(rec["label"], label[2])
    assert np.array_equal(rec["probs_student"], probs["student"][2])


def test_save_is_byte_stable_and_thresholds_survive(tmp_path):
    image, label, probs = _case()
    small = {h: p[:, :6, :5] for h, p in probs.items()}  # LA cases differ in size
    records = [
        slices.pick("a", image, label, probs),
        slices.pick("b", image[:, :6, :5], label[:, :6, :5], small),
    ]
    slices.save(tmp_path / "1.npz", records)
    slices.save(tmp_path / "2.npz", records)
    assert (tmp_path / "1.npz").read_bytes() == (tmp_path / "2.npz").read_bytes()
    got = slices.load(tmp_path / "1.npz")
    assert got.names == ["a z=2", "b z=2"] and set(got.probs) == {"teacher", "student"}
    assert got.image[1].shape == got.probs["student"][1].shape == (6, 5)
    p = probs["teacher"][2]
    assert np.array_equal(got.probs["teacher"][0] > 0.5, p >= 0.5)
    assert np.abs(got.probs["teacher"][0] - p).max() <= 0.5 / 255 + 1e-7
    assert np.allclose(got.image[0], image[2], atol=1e-2)
    assert slices.load(tmp_path / "none.npz") is None
