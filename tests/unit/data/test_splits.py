"""Patient-level splits and Set-N selections."""

from __future__ import annotations

import pytest

from mixseg.data.splits import labelling_order, make_settings, split_patients

GROUPS = {
    f"patient{i:03d}": ["DCM", "HCM", "MINF", "NOR", "RV"][(i - 1) // 20] for i in range(1, 101)
}


def test_split_sizes_disjoint_cover_and_stratified():
    s = split_patients(GROUPS, (0.8, 0.05, 0.15), seed=0)
    assert [len(s[k]) for k in ("train", "val", "test")] == [80, 5, 15]
    assert set(s["train"]) | set(s["val"]) | set(s["test"]) == set(GROUPS)
    assert not set(s["train"]) & set(s["test"]) and not set(s["val"]) & set(s["test"])
    assert not set(s["train"]) & set(s["val"])
    test_groups = [GROUPS[p] for p in s["test"]]
    assert all(test_groups.count(g) == 3 for g in set(GROUPS.values()))


def test_split_seed_stable_and_seed_dependent():
    a = split_patients(GROUPS, (0.8, 0.05, 0.15), seed=3)
    assert a == split_patients(GROUPS, (0.8, 0.05, 0.15), seed=3)
    assert a != split_patients(GROUPS, (0.8, 0.05, 0.15), seed=4)


def test_settings_nested_and_ratio():
    train = split_patients(GROUPS, (0.8, 0.05, 0.15), seed=0)["train"]
    order = labelling_order(train, GROUPS, seed=0)
    assert sorted(order) == sorted(train)
    assert len({GROUPS[p] for p in order[:5]}) == 5  # Set-5 covers every group
    st = make_settings(order, (3, 5, 10), (1, 5, 8), default_ratio=5)
    assert set(st["set3"]["full"]) <= set(st["set5"]["full"]) <= set(st["set10"]["full"])
    assert len(st["set3"]["partial"]["5"]) == 15 and len(st["set10"]["partial"]["5"]) == 50
    for name in ("set3", "set5", "set10"):
        full, part = set(st[name]["full"]), set(st[name]["partial"]["5"])
        assert not full & part
    assert "8" not in st["set10"]["partial"]  # 10 + 80 > 80: infeasible ratio skipped
    assert len(st["set3"]["partial"]["8"]) == 24
    assert set(st["all"]["full"]) == set(train)


def test_settings_default_ratio_must_fit():
    with pytest.raises(ValueError, match="Set-10 with ratio 5 needs 60"):
        make_settings([f"p{i}" for i in range(20)], (10,), (5,), default_ratio=5)


def test_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="sum to 1"):
        split_patients(GROUPS, (0.8, 0.1, 0.2), seed=0)
