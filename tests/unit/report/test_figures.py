"""Fig. 2 curves against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixseg.report.figures import entropy_curves, fig2


def test_entropy_curves_hand_values():
    c = entropy_curves(np.array([0.5, 0.25, 1.0]))
    assert c["entropy"][0] == pytest.approx(math.log(2))
    assert c["min_entropy"][0] == pytest.approx(math.log(2))
    # p = 1/4: H = -(1/4 ln 1/4 + 3/4 ln 3/4) = 0.562335; min-entropy = -ln 3/4 = 0.287682.
    assert c["entropy"][1] == pytest.approx(0.5623351446)
    assert c["min_entropy"][1] == pytest.approx(0.2876820725)
    # dH/dz_k = -p (ln p + H) = -0.25 (-1.386294 + 0.562335) = 0.205990
    assert c["d_entropy"][1] == pytest.approx(0.2059898)
    assert c["d_min_entropy"][1] == pytest.approx(0.25)  # not the arg-max: +p
    assert c["entropy"][2] == 0 and c["d_entropy"][2] == 0 and c["d_min_entropy"][2] == 0


def test_entropy_derivative_matches_finite_differences():
    z = np.linspace(-4, 4, 9)
    p = 1 / (1 + np.exp(-z))  # softmax of logits (z, 0): probability of class k
    eps = 1e-6
    pe = 1 / (1 + np.exp(-(z + eps)))
    num = (entropy_curves(pe)["entropy"] - entropy_curves(p)["entropy"]) / eps
    assert np.allclose(entropy_curves(p)["d_entropy"], num, atol=1e-5)


def test_fig2_writes_png(tmp_path):
    fig2(tmp_path / "fig2.png")
    assert (tmp_path / "fig2.png").read_bytes()[:4] == b"\x89PNG"
