"""Patient-level splits and the Set-N selections (paper section 4, "Benchmark dataset").

- ``split_patients``: train/val/test by *patient* (ED and ES of one patient never straddle two
  sets), stratified by pathology group when groups are known, so that 15 test patients of ACDC
  cover its five groups evenly. Deterministic from the seed.
- ``labelling_order``: the order in which training patients receive labels. Set-N takes the first
  N as fully labelled and the next ``ratio * N`` as partially labelled, so Set-3 ⊂ Set-5 ⊂ Set-10
  and the Fig. 7 ratios are nested too. The order interleaves groups (round robin over groups in
  a seeded order, a seeded order inside each group): the paper does not say how its N patients were
  chosen, and with N = 3 a purely random draw can pick one pathology only, which the embedded-data
  study showed makes the lower bound depend on luck more than on the method.
"""

from __future__ import annotations

import math

import numpy as np


def _counts(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    """Integer (train, val, test) sizes summing to n; val and test get ≥ 1 when n ≥ 3."""
    if not math.isclose(sum(fractions), 1.0, abs_tol=1e-6) or min(fractions) < 0:
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {fractions}")
    n_val = round(n * fractions[1])
    n_test = round(n * fractions[2])
    if n >= 3:
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(f"{n} patients are too few for the split {fractions}")
    return n_train, n_val, n_test


def split_patients(
    groups: dict[str, str], fractions: tuple[float, float, float], seed: int
) -> dict[str, list[str]]:
    """Split patients into train/val/test, stratified by group.

    Args:
        groups: patient id -> pathology group (any constant string if unknown).
        fractions: (train, val, test), summing to 1.
        seed: seed of the shuffle.

    Returns:
        ``{"train": [...], "val": [...], "test": [...]}``, each sorted, disjoint, covering all.
    """
    rng = np.random.default_rng(seed)
    n_train, n_val, n_test = _counts(len(groups), fractions)
    # Deal patients group by group into one interleaved sequence, then cut it: each set receives
    # groups in proportion to their size (stratification without per-group rounding problems).
    by_group: dict[str, list[str]] = {}
    for pid in sorted(groups):
        by_group.setdefault(groups[pid], []).append(pid)
    sequence = _interleave(by_group, rng)
    test = sequence[:n_test]
    val = sequence[n_test : n_test + n_val]
    train = sequence[n_test + n_val :]
    assert len(train) == n_train
    return {"train": sorted(train), "val": sorted(val), "test": sorted(test)}


def _interleave(by_group: dict[str, list[str]], rng: np.random.Generator) -> list[str]:
    """Round robin over groups (seeded group order), members shuffled inside each group."""
    names = sorted(by_group)
    order = [names[i] for i in rng.permutation(len(names))]
    queues = {g: [by_group[g][i] for i in rng.permutation(len(by_group[g]))] for g in order}
    out: list[str] = []
    while any(queues.values()):
        for g in order:
            if queues[g]:
                out.append(queues[g].pop(0))
    return out


def labelling_order(train: list[str], groups: dict[str, str], seed: int) -> list[str]:
    """Order in which training patients are labelled (see module docstring)."""
    by_group: dict[str, list[str]] = {}
    for pid in sorted(train):
        by_group.setdefault(groups[pid], []).append(pid)
    return _interleave(by_group, np.random.default_rng(seed))


def make_settings(
    order: list[str], n_full: tuple[int, ...], ratios: tuple[int, ...], default_ratio: int
) -> dict[str, dict]:
    """Set-N selections: ``{"set3": {"full": [...], "partial": {"5": [...], ...}}, "all": ...}``.

    A ratio that needs more patients than exist is left out for that N (Fig. 7 sweeps ratios on
    Set-3 only), except ``default_ratio``, which every setting must have.

    Raises:
        ValueError: a setting with the default ratio needs more patients than exist.
    """
    settings: dict[str, dict] = {}
    for n in n_full:
        partial = {}
        for r in sorted(set(ratios) | {default_ratio}):
            if n + r * n > len(order):
                if r == default_ratio:
                    raise ValueError(
                        f"Set-{n} with ratio {r} needs {n + r * n} training patients, "
                        f"only {len(order)} exist"
                    )
                continue
            partial[str(r)] = sorted(order[n : n + r * n])
        settings[f"set{n}"] = {"full": sorted(order[:n]), "partial": partial}
    settings["all"] = {"full": sorted(order), "partial": {}}
    return settings


def splits_meta(dataset: str, patients: dict[str, dict], split, settings) -> dict:
    """The content of ``splits.json``: ``patients`` ({id: {"group", "cases"}}), the seeded
    train/val/test split (``SplitParams``), the labelling order and the Set-N selections
    (``SettingsParams``)."""
    groups = {pid: p["group"] for pid, p in patients.items()}
    split_sets = split_patients(groups, (split.train, split.val, split.test), split.seed)
    order = labelling_order(split_sets["train"], groups, split.seed)
    return {
        "dataset": dataset,
        "patients": patients,
        **split_sets,
        "order": order,
        "default_ratio": settings.default_ratio,
        "settings": make_settings(order, settings.n_full, settings.ratios, settings.default_ratio),
    }
