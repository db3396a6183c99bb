"""The paired bootstrap on hand-made volumes: constant differences give a zero-width interval,
symmetric ones contain 0, pairs are matched by (seed, case), results are reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from mixseg.report.paired import FAILS, HOLDS, INCONCLUSIVE, NOT_RUN, combine, compare


def vols(values: dict[str, float], seeds=(0, 1, 2)) -> dict:
    """The same per-case DSC % at every seed."""
    return {(s, case): v for s in seeds for case, v in values.items()}


CASES = [f"patient{i:03d}" for i in range(30)]


@pytest.mark.parametrize(
    ("diff", "status", "low", "high"),
    [(5.0, HOLDS, 5.0, 5.0), (-5.0, FAILS, -5.0, -5.0), (0.0, INCONCLUSIVE, 0.0, 0.0)],
)
def test_constant_difference(diff, status, low, high):
    b = vols({c: 80.0 for c in CASES})
    a = vols({c: 80.0 + diff for c in CASES})
    c = compare(a, b)
    assert (c.delta, c.low, c.high, c.n, c.n_seeds) == (diff, low, high, 90, 3)
    assert c.status == status


def test_symmetric_differences_are_inconclusive():
    b = vols({c: 80.0 for c in CASES})
    a = vols({c: 80.0 + (5.0 if i % 2 else -5.0) for i, c in enumerate(CASES)})
    c = compare(a, b)
    assert c.delta == 0.0 and c.low < 0 < c.high and c.status == INCONCLUSIVE
    assert -5.0 <= c.low and c.high <= 5.0


def test_interval_matches_a_direct_bootstrap_with_one_seed():
    """One seed, one pair per case: the plain bootstrap of the differences."""
    rng = np.random.default_rng(1)
    d = rng.normal(2.0, 3.0, size=20)
    a = {(0, f"c{i:02d}"): 50.0 + x for i, x in enumerate(d)}
    b = {(0, f"c{i:02d}"): 50.0 for i in range(20)}
    c = compare(a, b, resamples=2000)
    d_sorted = np.array([a[k] - b[k] for k in sorted(a)])
    draw = np.random.default_rng(0).integers(0, 20, size=(2000, 20))
    low, high = np.percentile(d_sorted[draw].mean(axis=1), [2.5, 97.5])
    assert c.low == pytest.approx(low) and c.high == pytest.approx(high)
    assert c.delta == pytest.approx(d.mean()) and (c.n, c.n_seeds) == (20, 1)


def test_only_shared_pairs_count():
    a = vols({"x": 90.0, "y": 90.0}, seeds=(0, 1))
    b = vols({"x": 80.0, "z": 0.0}, seeds=(1, 2))
    c = compare(a, b)
    assert (c.delta, c.n, c.n_seeds) == (10.0, 1, 1)
    assert compare(a, {}) is None
    assert compare(vols({"x": 1.0}, seeds=(0,)), vols({"x": 1.0}, seeds=(1,))) is None


def test_cases_are_resampled_with_all_their_seeds():
    """A case whose seeds disagree moves as one cluster: with two cases, one always +10 and
    one always -10, every resample's mean is -10, 0 or +10."""
    a = {(0, "p"): 10.0, (1, "p"): 10.0, (0, "q"): -10.0, (1, "q"): -10.0}
    c = compare(a, dict.fromkeys(a, 0.0), resamples=500)
    assert c.low == -10.0 and c.high == 10.0 and c.n == 4


def test_deterministic_and_rejects_nan():
    rng = np.random.default_rng(3)
    a = {(s, c): float(rng.uniform(60, 90)) for s in range(3) for c in CASES}
    b = {k: float(rng.uniform(60, 90)) for k in a}
    assert compare(a, b) == compare(dict(reversed(a.items())), b)
    assert compare(a, b).text() == compare(a, b).text()
    with pytest.raises(ValueError, match="finite"):
        compare({(0, "x"): float("nan")}, {(0, "x"): 1.0})


def test_text():
    a, b = vols({c: 81.25 for c in CASES}), vols({c: 80.0 for c in CASES})
    assert compare(a, b).text() == (
        "Δ = +1.25 [95 % CI +1.25, +1.25], n = 90 paired volumes over 3 seeds"
    )
    one = compare(vols({"x": 70.0}, seeds=(0,)), vols({"x": 80.0}, seeds=(0,)))
    assert one.text() == "Δ = −10.00 [95 % CI −10.00, −10.00], n = 1 paired volume over 1 seed"


@pytest.mark.parametrize(
    ("parts", "status"),
    [
        ([HOLDS, HOLDS], HOLDS),
        ([HOLDS, INCONCLUSIVE], INCONCLUSIVE),
        ([HOLDS, FAILS], FAILS),
        ([INCONCLUSIVE, FAILS], FAILS),
        ([FAILS, NOT_RUN], NOT_RUN),
        ([HOLDS, NOT_RUN], NOT_RUN),
    ],
)
def test_combine(parts, status):
    assert combine(parts) == status


def test_seeds_are_resampled():
    """Seed 0 says A is 10 points better on every case, seed 1 says 10 points worse: the mean
    difference is 0 and, since seeds are resampled, the interval spans both seeds' verdicts
    (a case-only bootstrap would give [0, 0], as every case averages to 0)."""
    a = {(s, c): 80.0 + (10.0 if s == 0 else -10.0) for s in (0, 1) for c in CASES}
    c = compare(a, dict.fromkeys(a, 80.0), resamples=2000)
    assert c.delta == 0.0 and c.status == INCONCLUSIVE
    assert (c.low, c.high) == (-10.0, 10.0)


def test_one_lucky_seed_does_not_make_a_claim_hold():
    """Two seeds tie, one is far better: every case's mean difference is positive, yet a third
    of the seed resamples draw only tying seeds, so the interval reaches 0."""
    a = {(s, c): 80.0 + (15.0 if s == 2 else 0.0) for s in (0, 1, 2) for c in CASES}
    c = compare(a, dict.fromkeys(a, 80.0), resamples=2000)
    assert c.delta == pytest.approx(5.0) and c.low == 0.0 and c.status == INCONCLUSIVE
