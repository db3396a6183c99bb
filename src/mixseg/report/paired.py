"""Paired comparison of two runs on the same test volumes, with a bootstrap interval.

"A > B" is judged on the DSC of the volumes both runs scored: the pairs are the (seed, case)
present in both, d = DSC_A − DSC_B (DSC %), the statistic the mean of d. Its 95 % interval is
the percentile interval of a cluster bootstrap over test cases: a resample draws as many cases
as there are, with replacement, each bringing its differences at every seed it is paired in.
Why cases and not (seed, case) pairs: every seed scores the same test volumes, so a volume's
differences across seeds are correlated, and resampling them as independent pairs would make
the interval too narrow. Seeds are not resampled: three of them give too coarse a bootstrap
distribution (their spread shows in the ± std of the tables). With one seed this is the plain
bootstrap of the paired differences.

Each comparison draws from its own ``np.random.default_rng(seed)`` (0 by default), so the
report is byte-reproducible and one comparison's interval does not depend on which others ran.
"""

from __future__ import annotations

import dataclasses

import numpy as np

HOLDS, FAILS, INCONCLUSIVE, NOT_RUN = "holds", "fails", "inconclusive", "not run"
RESAMPLES = 10_000

# (seed, case) -> DSC in % of one head of one run
Volumes = dict[tuple[int, str], float]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Comparison:
    """A − B on paired test volumes (DSC %): the mean difference and its 95 % interval."""

    delta: float
    low: float
    high: float
    n: int  # paired volumes
    n_seeds: int  # seeds they come from

    @property
    def status(self) -> str:
        """``holds`` if the interval lies above 0, ``fails`` if below, else ``inconclusive``."""
        if self.low > 0:
            return HOLDS
        if self.high < 0:
            return FAILS
        return INCONCLUSIVE

    def text(self) -> str:
        """``Δ = +1.23 [95 % CI −0.40, +2.80], n = 90 paired volumes over 3 seeds``."""
        return (
            f"Δ = {_signed(self.delta)} [95 % CI {_signed(self.low)}, {_signed(self.high)}], "
            f"n = {_count(self.n, 'paired volume')} over {_count(self.n_seeds, 'seed')}"
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _signed(x: float) -> str:
    return f"{x:+.2f}".replace("-", "−")


def compare(a: Volumes, b: Volumes, resamples: int = RESAMPLES, seed: int = 0) -> Comparison | None:
    """A − B over the (seed, case) pairs both have, with a case-cluster bootstrap interval.

    Args:
        a, b: DSC % of each (seed, case) of the two runs' heads.
        resamples: bootstrap resamples (B).
        seed: seed of the comparison's own ``np.random.Generator``.

    Returns:
        The comparison, or None if the two share no (seed, case).

    Raises:
        ValueError: a DSC that is not finite (the metrics' empty-mask policy gives none).
    """
    keys = sorted(a.keys() & b.keys())
    if not keys:
        return None
    d = np.array([a[k] - b[k] for k in keys])  # (n,)
    if not np.isfinite(d).all():
        raise ValueError("paired DSCs must be finite")
    cases = sorted({case for _, case in keys})
    where = {case: i for i, case in enumerate(cases)}
    cluster = np.array([where[case] for _, case in keys])  # (n,) case index of each pair
    sums = np.bincount(cluster, weights=d, minlength=len(cases))  # (C,)
    counts = np.bincount(cluster, minlength=len(cases))  # (C,)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, len(cases), size=(resamples, len(cases)))  # (B, C) case indices
    means = sums[draw].sum(axis=1) / counts[draw].sum(axis=1)  # (B,)
    low, high = np.percentile(means, [2.5, 97.5])
    return Comparison(
        delta=float(d.mean()),
        low=float(low),
        high=float(high),
        n=len(keys),
        n_seeds=len({s for s, _ in keys}),
    )


def combine(statuses: list[str]) -> str:
    """The status of claims that need every part: ``not run`` if a part did not run, else
    ``fails`` if a part fails, ``holds`` if all hold, else ``inconclusive``."""
    if NOT_RUN in statuses:
        return NOT_RUN
    if FAILS in statuses:
        return FAILS
    return HOLDS if all(s == HOLDS for s in statuses) else INCONCLUSIVE
