"""The report stages: their outs in dvc.yaml equal mixseg.report.outputs, their scripts are
deps, and the tables stage writes every table and a README whose claims come from the numbers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import yaml

from mixseg.report import figures, outputs, readme
from mixseg.report.claims import Claim

ROOT = Path(__file__).resolve().parents[3]


def _stages() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _outs(stage: dict) -> list[str]:
    return [next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"]]


def test_report_stage_outs_match_outputs():
    s = _stages()
    assert _outs(s["tables"]) == [str(f) for f in outputs.table_files()] + [str(outputs.README)]
    assert [next(iter(m)) for m in s["tables"]["metrics"]] == [str(outputs.METRICS)]
    assert _outs(s["complexity"]) == [str(f) for f in outputs.complexity_files()]
    assert _outs(s["figures"]) == [str(outputs.FIGURES_DIR)]
    for name in ("tables", "complexity", "figures"):
        assert s[name]["cmd"].split()[1] in s[name]["deps"], name
    # tables is the last report stage: it reads what the two others write.
    assert {str(f) for f in outputs.complexity_files()} <= set(s["tables"]["deps"])
    assert str(outputs.FIGURES_DIR) in s["tables"]["deps"]
    # ... and the hand-written diagnoses of failing claims, which the repository holds.
    assert str(outputs.DIAGNOSES) in s["tables"]["deps"] and (ROOT / outputs.DIAGNOSES).is_file()


def test_report_stage_data_deps_are_what_they_read():
    """Tables read the ACDC and LA evaluations (Table 7, the convergence table: LA); figures
    read ACDC runs and, for the convergence figure, LA's validation curves."""
    s = _stages()
    # Only git-tracked results: `make report` works in a clone without the DVC cache.
    data = {
        n: [d for d in s[n]["deps"] if d.startswith(("data/", "results/"))]
        for n in ("tables", "figures")
    }
    assert data["tables"] == ["results/acdc", "results/la"]
    assert data["figures"] == ["results/acdc", "results/la"]
    assert "runs" in s["tables"]["params"] and "runs" in s["figures"]["params"]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "pipeline" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tables_stage_writes_every_table_and_the_readme(fake, project, params):
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    heads = {
        "kl_ent": {"teacher": (0.7, 9.0), "student": (0.8, 5.0), "ensemble": (0.75, 6.0)},
        "kl": {"teacher": (0.6, 9.0), "student": (0.7, 5.0), "ensemble": (0.65, 6.0)},
        "decoupled": {"teacher": (0.6, 9.0), "student": (0.1, 50.0), "ensemble": (0.4, 6.0)},
    }
    for seed in (0, 1, 2):
        for run, h in heads.items():
            fake.summary("acdc", "set3", run, seed, h)
            fake.cases("acdc", "set3", run, seed, h)
    figures.write_manifest(
        [figures.FigureInfo("fig2", "fig2_entropy.png", "Fig. 2: t", "c", True, [])]
        + figures.NOT_PRODUCED,
        outputs.FIGURES_MANIFEST,
    )
    outputs.DIAGNOSES.write_text("student_beats_teacher/set3: The teacher sees more labels.\n")
    _script("tables").main(["--params", "params.yaml"])
    for f in outputs.table_files() + [outputs.README, outputs.METRICS]:
        assert f.exists(), f
    text = outputs.README.read_text()
    assert "| Set-3: KL+Ent student > KL student > Decoupled student (Table 1) | holds |" in text
    assert "KL+Ent − KL: Δ = +10.00 [95 % CI +10.00, +10.00], n = 30 paired volumes over 3" in text
    # the student (80) beats the teacher (70) here: the diagnosis is not shown
    assert "| Set-3: KL+Ent student > KL+Ent teacher (Table 1) | holds |" in text
    assert "The teacher sees more labels" not in text
    assert "| Set-5: KL+Ent student > KL student > Decoupled student (Table 1) | not run |" in text
    assert "| Parameter counts equal Table 8 | not run |" in text
    assert "![fig2](figures/fig2_entropy.png)" in text
    assert "Fig. 10: qualitative results on LA: not produced yet (the LA runs exist" in text
    assert "### Table B.6" in text and "The complexity stage has not run" in text
    metrics = json.loads(outputs.METRICS.read_text())
    assert metrics["acdc"]["set3"]["kl_ent_student_dsc"] == 80.0


def test_readme_render_without_figures():
    c = Claim(id="x/set3", claim="x > y", status="fails", evidence="x 1; y 2")
    text = readme.render("cpu", {"acdc": "synthetic"}, [c], ["# Table 1: t\n\n| a |\n"], None)
    pending = "diagnosis pending: add it to reports/diagnoses.yaml (id `x/set3`)"
    assert f"| x > y<br>*{pending}* | **fails** | x 1; y 2 |" in text
    assert "### Table 1: t" in text and "The figures stage has not run." in text
    assert "`inconclusive`: the interval contains 0" in text


def test_readme_renders_diagnoses_under_failing_claims_only():
    fails = Claim(id="a", claim="a > b", status="fails", evidence="e")
    holds = Claim(id="c", claim="c > d", status="holds", evidence="e")
    diagnoses = {"a": "B trains longer | here.", "c": "Unused.", "gone/set1": "Old."}
    text = readme.render("cpu", {}, [fails, holds], [], None, diagnoses)
    assert "| a > b<br>*Diagnosis: B trains longer &#124; here.* | **fails** | e |" in text
    assert "| c > d | holds | e |" in text and "Unused." not in text
    assert "Entries of `reports/diagnoses.yaml` for no claim: gone/set1." in text


def test_readme_says_which_weights_the_cells_report():
    """Issue 14: the report names the checkpoint rule of each dataset, from its preset."""
    best = {"select": "best", "select_head": "evaluated", "select_ties": "last"}
    selection = {
        "acdc": best,
        "la": {"select": "last", "select_head": "evaluated", "select_ties": "last"},
    }
    text = readme.render("cpu", {}, [], [], None, None, selection)
    assert (
        "- Weights (acdc, `train`: `select: best`, `select_head: evaluated`, `select_ties: "
        "last`): the weights of the validation check with the highest Dice of the run's "
        "evaluated head (a dual-branch run's student, co-trained networks' ensemble), for every "
        "head, of equal scores the last." in text
    )
    last = "`select: last`, `select_head: evaluated`, `select_ties: last`): the weights after the"
    assert f"{last} last step." in text
    each = readme.render("cpu", {}, [], [], None, None, {"acdc": best | {"select_head": "each"}})
    assert "each head with the weights of its own best validation check, of equal" in each
