"""Fig. 2 curves against values computed by hand; the other figures from fixture runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixseg import paths, slices
from mixseg.report import curves, figures, qualitative
from mixseg.report.figures import entropy_curves, fig2
from mixseg.report.io import read_curve


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
    steps, dsc = read_curve(paths.live_plots_dir("acdc", "set3", "kl_ent", 0), "student")
    assert steps.tolist() == [10.0, 20.0] and dsc.tolist() == [50.0, 75.0]
    assert read_curve(paths.live_plots_dir("acdc", "set3", "kl", 0), "student") is None


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


def test_fig3_reads_first_compare_seed_and_each_runs_head(fake, project, params):
    params["runs"]["compare_seeds"] = [2, 0]
    assert not curves.fig3(project, params).produced  # no pseudo-label run yet
    fake.curve("set3", "proposals-kl", 2, "teacher", [0.5, 0.6])
    fake.curve("set3", "proposals-kl", 2, "student", [0.1, 0.1])  # not its head
    fake.curve("set3", "kl_ent", 2, "student", [0.4, 0.7])
    fake.curve("set3", "kl_ent", 0, "student", [0.9, 0.9])  # not the first compare seed
    setting, seed, got = curves.fig3_curves(params)
    assert (setting, seed) == ("set3", 2)
    by_run = {run: c for run, _, _, c in got}
    assert by_run["proposals-lower"] is None
    assert by_run["proposals-kl"][1].tolist() == [50.0, 60.0]
    assert by_run["kl_ent"][1].tolist() == [40.0, 70.0]
    info = curves.fig3(project, params)
    assert info.produced and (project / info.file).read_bytes()[:4] == PNG
    assert info.missing == ["proposals-lower"] and "seed 2" in info.caption


def test_fig5_iterations_settings_and_seed_means(fake, project, params):
    params["runs"]["compare_seeds"] = [0, 1]
    params["runs"]["selftrain"] = {"iterations": 3, "settings": ["set3", "set5"]}
    info = curves.fig5(project, params)
    assert not info.produced and "no numbers" in info.caption
    fake.summary("acdc", "set3", "proposals-kl", 0, {"teacher": (0.6, 10.0)})
    fake.summary("acdc", "set3", "proposals-kl", 1, {"teacher": (0.8, 20.0)})
    fake.summary("acdc", "set3", "proposals-kl", 2, {"teacher": (0.1, 90.0)})  # not a seed
    fake.summary("acdc", "set3", "selftrain-it3", 1, {"teacher": (0.7, 12.0)})
    fake.summary("acdc", "set3", "selftrain-it4", 0, {"teacher": (0.7, 12.0)})  # beyond K
    settings, its, points = curves.fig5_points(params)
    assert settings == ["set3", "set5"]
    assert its == ["proposals-kl", "selftrain-it2", "selftrain-it3"]
    assert points["set3"][0]["dsc"] == pytest.approx((70.0, 10.0, 2))
    assert points["set3"][0]["hd95"] == pytest.approx((15.0, 5.0, 2))
    assert points["set3"][1] is None and points["set3"][2]["dsc"] == pytest.approx((70.0, 0, 1))
    assert points["set5"] == [None, None, None]
    info = curves.fig5(project, params)
    assert info.produced and (project / info.file).read_bytes()[:4] == PNG
    assert info.missing == ["set3/selftrain-it2"] + [f"set5/{r}" for r in its]
    assert "The paper gives no numbers for Fig. 5" in info.caption


def test_qualitative_figures_with_missing_models(fake, project):
    fake.slices("set3", "lower", 0, "teacher")
    fake.slices("set3", "kl_ent", 0, "student")
    f8, f9 = qualitative.draw(project, "acdc", "set3", 0)
    for info in (f8, f9):
        assert info.produced and (project / info.file).read_bytes()[:4] == PNG
    assert f8.missing == ["single", "single_ent", "upper", "decoupled", "kl"]
    assert f9.missing == ["kl"]


def test_qualitative_figures_without_any_run(project):
    f8, f9 = qualitative.draw(project, "acdc", "set3", 0)
    assert (project / f8.file).read_bytes()[:4] == PNG and "kl_ent" in f9.missing


def test_load_uses_each_models_head(fake, project):
    fake.slices("set3", "kl_ent", 0, "student", n=2)
    shown, probs = qualitative.load("acdc", "set3", 0)
    assert [s[0] for s in shown] == ["patient000_frame01 z=1", "patient001_frame01 z=1"]
    assert shown[0][1].shape == (16, 16) and shown[0][2].dtype == np.uint8
    saved = slices.load(paths.eval_dir("acdc", "set3", "kl_ent", 0))
    assert saved.head == "student" and np.array_equal(probs["kl_ent"], saved.probs)
    assert np.shape(probs["kl_ent"]) == (2, 16, 16) and probs["lower"] is None
    assert all(((p >= 0) & (p <= 1)).all() for p in probs["kl_ent"])


def test_manifest_round_trip(project):
    infos = [figures.FigureInfo("fig6", "f.png", "t", "c", True, ["kl_ent-alpha3"])]
    figures.write_manifest(infos, project / "figures.json")
    assert figures.read_manifest(project / "figures.json") == infos
    assert figures.read_manifest(project / "none.json") is None


def test_a_run_that_saved_another_head_is_an_error(fake, project):
    fake.slices("set3", "kl", 0, "teacher")  # Fig. 8 shows the KL student
    with pytest.raises(ValueError, match="kl saved the slices of its teacher head"):
        qualitative.load("acdc", "set3", 0)
