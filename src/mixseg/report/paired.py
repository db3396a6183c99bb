"""Paired comparison of two runs on the same test volumes, with a bootstrap interval.

"A > B" is judged on the DSC of the volumes both runs scored: the pairs are the (seed, case)
present in both, d = DSC_A − DSC_B (DSC %), the statistic the mean of d. Its 95 % interval is
the percentile interval of a two-level bootstrap: a resample draws as many test cases as there
are and as many seeds as there are, each with replacement, and averages d over the drawn
(seed, case) pairs (each pair weighted by how often its seed and its case were drawn). Cases,
not pairs, are the test-side unit: every seed scores the same volumes, so a volume's differences
across seeds are correlated, and resampling pairs as independent would make the interval too
narrow. Seeds are resampled too, so that the interval carries the training randomness (the
seed-to-seed spread of a run, several DSC points here) and not only the choice of test volumes:
a claim that one lucky seed carries stays inconclusive. With three seeds this resampling is
coarse (the interval is wide rather than exact); with one seed it is the plain bootstrap of the
paired differences over cases.

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
    """A − B over the (seed, case) pairs both have, with a seed-and-case bootstrap interval.

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
    seeds = sorted({sd for sd, _ in keys})
    col = {case: i for i, case in enumerate(cases)}
    row = {seed: i for i, seed in enumerate(seeds)}
    diff = np.zeros((len(seeds), len(cases)))  # (S, C) d of each (seed, case), 0 if unpaired
    paired = np.zeros((len(seeds), len(cases)))  # (S, C) 1 where the pair exists
    for (s, case), x in zip(keys, d, strict=True):
        diff[row[s], col[case]], paired[row[s], col[case]] = x, 1.0
    rng = np.random.default_rng(seed)
    n_b = resamples
    case_draw = rng.integers(0, len(cases), size=(n_b, len(cases)))  # (B, C)
    seed_draw = rng.integers(0, len(seeds), size=(n_b, len(seeds)))  # (B, S)
    w_case = np.zeros((n_b, len(cases)))  # (B, C) times each case is drawn
    np.add.at(w_case, (np.arange(n_b)[:, None], case_draw), 1.0)
    w_seed = np.zeros((n_b, len(seeds)))  # (B, S) times each seed is drawn
    np.add.at(w_seed, (np.arange(n_b)[:, None], seed_draw), 1.0)
    total = np.einsum("bs,sc,bc->b", w_seed, diff, w_case)  # (B,)
    weight = np.einsum("bs,sc,bc->b", w_seed, paired, w_case)  # (B,)
    # A resample whose drawn seeds and cases share no pair has no mean: left out.
    means = total[weight > 0] / weight[weight > 0]
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
