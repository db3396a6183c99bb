"""Fig. 2 curves against values computed by hand; the other figures from fixture runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixseg import paths
from mixseg.report import curves, figures, qualitative
from mixseg.report.curves import read_curve
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


# --- Figures from run logs (fake dvclive TSVs, fake summaries, tiny untrained models) ---------
PNG = b"\x89PNG"


def test_read_curve(fake):
    fake.curve("set3", "kl_ent", 0, "student", [0.5, 0.75])
    steps, dsc = read_curve(paths.run_dir("acdc", "set3", "kl_ent", 0), "student")
    assert steps.tolist() == [10.0, 20.0] and dsc.tolist() == [50.0, 75.0]
    assert read_curve(paths.run_dir("acdc", "set3", "kl", 0), "student") is None


def test_fig6_leaves_out_missing_runs(fake, project, params):
    fake.curve("set3", "kl_ent", 0, "student", [0.5, 0.7])
    fake.curve("set3", "kl_ent-alpha2", 0, "student", [0.6, 0.8])
    info = curves.fig6(project, params)
    assert info.produced and (project / info.file).read_bytes()[:4] == PNG
    assert info.missing == ["kl_ent-bhattacharyya", "kl_ent-alpha3", "kl_ent-alpha5"]


def test_fig7_default_ratio_is_the_default_run(fake, project, params):
    fake.summary("acdc", "set3", "kl_ent", 0, {"student": (0.8, 5.0)})
    fake.summary("acdc", "set3", "kl_ent-r1", 0, {"student": (0.6, 9.0)})
    info = curves.fig7(project, params)
    assert info.produced and (project / info.file).read_bytes()[:4] == PNG
    assert info.missing == [f"kl_ent-r{r}" for r in (2, 3, 4, 6, 7)]


def test_fig3_and_fig5_only_when_their_runs_exist(fake, project, params):
    assert not curves.fig3(project, params).produced
    info = curves.fig5(project, params)
    assert not info.produced and info.missing == ["kl", "proposals-kl", "selftrain-it2"]
    fake.curve("set3", "proposals-kl", 0, "teacher", [0.5, 0.6])
    for run, head in (
        ("kl", "student"),
        ("proposals-kl", "teacher"),
        ("selftrain-it2", "teacher"),
        ("selftrain-it3", "teacher"),
    ):
        fake.summary("acdc", "set3", run, 0, {head: (0.7, 9.0)})
    assert curves.fig3(project, params).produced
    info = curves.fig5(project, params)
    assert info.produced and (project / info.file).read_bytes()[:4] == PNG


def test_qualitative_figures_with_missing_models(fake, project):
    fake.cases(3)
    fake.model("set3", "lower", 0, 1)
    fake.model("set3", "kl_ent", 0, 2)
    f8, f9 = qualitative.draw(project, "acdc", "set3", 0)
    for info in (f8, f9):
        assert info.produced and (project / info.file).read_bytes()[:4] == PNG
    assert f8.missing == ["single", "single_ent", "upper", "decoupled", "kl"]
    assert f9.missing == ["kl"]


def test_predict_uses_each_models_head(fake, project):
    fake.cases(2)
    fake.model("set3", "kl_ent", 0, 2)
    slices = qualitative.pick_slices("acdc")
    assert [s[0] for s in slices] == ["patient000_frame01 z=1", "patient001_frame01 z=1"]
    probs = qualitative.predict("acdc", "set3", 0, slices)
    assert probs["kl_ent"].shape == (2, 16, 16) and probs["lower"] is None
    assert ((probs["kl_ent"] >= 0) & (probs["kl_ent"] <= 1)).all()


def test_manifest_round_trip(project):
    infos = [figures.FigureInfo("fig6", "f.png", "t", "c", True, ["kl_ent-alpha3"])]
    figures.write_manifest(infos, project / "figures.json")
    assert figures.read_manifest(project / "figures.json") == infos
    assert figures.read_manifest(project / "none.json") is None
