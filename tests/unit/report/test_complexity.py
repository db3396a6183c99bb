"""Table 8: parameter counts at the paper's width (computed, equal to the paper's) and the
table built from measured counts and times."""

from __future__ import annotations

import torch

from mixseg.report import complexity


def test_paper_width_counts_and_time():
    # One timed pass on the smallest input of the valid-padded UNet (188) keeps this fast.
    params, ms, protocol = complexity.measure(64, "valid", (188, 188), torch.device("cpu"), (0, 1))
    assert params == {1: 31_042_434, 2: 41_137_220}
    assert set(ms) == {1, 2} and all(v > 0 for v in ms.values())
    assert "median of 1 passes after 0 warm-up pass(es)" in protocol and "threads" in protocol


def test_table8_counts_baselines_as_the_paper():
    md, rows = complexity.table8({1: 10, 2: 15}, {1: 1.0, 2: 2.0}, "p")
    got = {r["model"]: (r["params_ours"], r["ms_ours"]) for r in rows}
    assert got == {
        "single": (10, 1.0),
        "glmi": (10, None),
        "dual": (15, 2.0),
        "uamt": (20, None),
        "ssco": (80, None),
    }
    assert "| SSCO (Wang et al., 2021) | 80 | 248,339,472 |" in md
    assert md.count("not measured") == 3
