"""The claims on hand-made table rows and per-volume DSCs: holds, fails, inconclusive, not run;
the chain rule; the best sweep row; the file readers."""

from __future__ import annotations

import pytest

from mixseg import paths
from mixseg.report import claims
from mixseg.report.claims import FAILS, HOLDS, INCONCLUSIVE, NOT_RUN

CASES = [f"patient{i:03d}" for i in range(30)]


def row(table, setting, run, head, mean, value=None, metric="dsc", paper=None):
    return {
        "table": table,
        "setting": setting,
        "run": run,
        "head": head,
        "metric": metric,
        "value": value,
        "ours_mean": mean,
        "ours_std": None if mean is None else 0.5,
        "paper": paper,
    }


def vols(mean: float | None, spread: float = 0.0, seeds=(0, 1, 2)) -> dict | None:
    """DSC % ``mean`` ± ``spread`` alternating over the cases, at every seed (None: not run)."""
    if mean is None:
        return None
    return {
        (s, c): mean + (spread if i % 2 else -spread) for s in seeds for i, c in enumerate(CASES)
    }


MEANS = dict(teacher=50.0, single=60.0, single_ent=55.0)
RUNS = (
    ("kl_ent", "student"),
    ("kl_ent", "teacher"),
    ("kl", "student"),
    ("decoupled", "student"),
    ("single", "teacher"),
    ("single_ent", "teacher"),
)


def t1(kl_ent, kl, dec, setting="set3", **kw):
    """Table 1 rows and volumes: each run's mean DSC, the same at every (seed, case)."""
    m = dict(MEANS, **kw)
    means = [kl_ent, m["teacher"], kl, dec, m["single"], m["single_ent"]]
    rows = [
        row("1", setting, run, head, mean, paper=86.94 if run == "kl_ent" else None)
        for (run, head), mean in zip(RUNS, means, strict=True)
    ]
    volumes = {
        (setting, run, head): vols(mean)
        for (run, head), mean in zip(RUNS, means, strict=True)
        if mean is not None
    }
    return rows, volumes


def test_student_ordering():
    c = claims.student_ordering(*t1(80.0, 75.0, 10.0), "set3")
    assert c.id == "student_ordering/set3" and c.status == HOLDS
    assert "KL+Ent 80.00 ± 0.50 (paper 86.94)" in c.evidence
    assert "KL+Ent − KL: Δ = +5.00 [95 % CI +5.00, +5.00], n = 90 paired volumes over 3 seeds" in (
        c.evidence
    )
    assert claims.student_ordering(*t1(80.0, 85.0, 10.0), "set3").status == FAILS
    assert claims.student_ordering(*t1(80.0, 80.0, 10.0), "set3").status == INCONCLUSIVE  # tie
    c = claims.student_ordering(*t1(80.0, None, 10.0), "set3")
    assert c.status == NOT_RUN and "KL not run" in c.evidence and "cases.csv missing" in c.evidence
    assert claims.student_ordering(*t1(80.0, 70.0, 10.0), "set5").status == NOT_RUN


def test_chain_needs_every_pair():
    rows, volumes = t1(80.0, 75.0, 10.0)
    noisy = vols(75.0, spread=20.0)  # KL: ±20 around 75, so KL+Ent − KL straddles 0
    c = claims.student_ordering(rows, {**volumes, ("set3", "kl", "student"): noisy}, "set3")
    assert c.status == INCONCLUSIVE and c.evidence.count("Δ =") == 2
    rows, volumes = t1(80.0, 75.0, 90.0)  # the second pair fails
    assert claims.student_ordering(rows, volumes, "set3").status == FAILS


def test_missing_cases_is_not_run_even_with_a_mean():
    rows, volumes = t1(80.0, 75.0, 10.0)
    del volumes[("set3", "decoupled", "student")]  # metrics.json but no cases.csv
    c = claims.student_ordering(rows, volumes, "set3")
    assert c.status == NOT_RUN and "Decoupled 10.00" in c.evidence


def test_student_beats_teacher_and_single_ent():
    assert claims.student_beats_teacher(*t1(80.0, 70.0, 1.0, teacher=75.0), "set3").status == HOLDS
    assert claims.student_beats_teacher(*t1(70.0, 70.0, 1.0, teacher=75.0), "set3").status == FAILS
    c = claims.entropy_hurts_single(*t1(1, 1, 1, single=60.0, single_ent=50.0))
    assert c.status == HOLDS and c.id == "entropy_hurts_single/set3"
    assert claims.entropy_hurts_single(*t1(1, 1, 1, single=50.0, single_ent=60.0)).status == FAILS
    assert claims.entropy_hurts_single(*t1(1, 1, 1, setting="set1")).status == NOT_RUN


def test_la_claims_read_table_7():
    """The Left Atrium claims: Table 7's rows (key "7"), their own ids and titles; Table 1's
    rows of the same runs are not read."""
    rows, volumes = t1(80.0, 75.0, 10.0, teacher=85.0)
    rows7 = [{**r, "table": "7"} for r in rows]
    c = claims.student_ordering(rows7, volumes, "set3", claims.LA)
    assert c.id == "la/student_ordering/set3" and c.status == HOLDS
    assert c.claim.endswith("(Table 7, Left Atrium)") and "KL+Ent 80.00" in c.evidence
    c = claims.student_beats_teacher(rows7, volumes, "set3", claims.LA)
    assert c.id == "la/student_beats_teacher/set3" and c.status == FAILS  # 80 < 85
    assert "KL+Ent not run" in claims.student_ordering(rows, volumes, "set3", claims.LA).evidence


def t4(values: dict, setting="set3") -> tuple[list[dict], dict]:
    """Table 4 rows (one seed) and volumes: value -> mean DSC, or (mean, spread)."""
    rows, volumes = [], {}
    for v, m in values.items():
        mean, spread = m if isinstance(m, tuple) else (m, 0.0)
        rows.append(row("table4", setting, f"r{v}", "student", mean, value=v))
        if mean is not None:
            volumes[(setting, f"r{v}", "student")] = vols(mean, spread, seeds=(0,))
    return rows, volumes


def best(values: dict) -> claims.Claim:
    return claims.best_sweep_value(*t4(values), "table4", "set3", 50, "λkd", "T4")


def test_best_lambda_kd():
    c = best({10: 80.0, 50: 85.0, 100: None})
    assert c.status == HOLDS and c.id == "best_row/table4/set3" and "not run: 100" in c.evidence
    assert "λkd=50 − λkd=10: Δ = +5.00" in c.evidence and "over 1 seed" in c.evidence
    c = best({10: 86.0, 50: 85.0})
    assert c.status == FAILS and "λkd=10 86.00" in c.evidence
    assert best({10: 85.0, 50: 85.0}).status == INCONCLUSIVE  # a tie
    assert best({10: 80.0, 50: 85.0, 100: (85.0, 20.0)}).status == INCONCLUSIVE
    assert best({10: 90.0, 50: 85.0, 100: (85.0, 20.0)}).status == FAILS  # one row beats it
    c = best({10: 80.0, 50: None})
    assert c.status == NOT_RUN and "not run: 50" in c.evidence
    assert best({50: 85.0}).status == NOT_RUN


def test_parameter_counts_and_all_claims():
    rows8 = [{"model": "single", "params_ours": "31042434", "params_paper": "31042434"}]
    assert claims.parameter_counts(rows8).status == HOLDS
    assert claims.parameter_counts([{**rows8[0], "params_ours": "1"}]).status == FAILS
    assert claims.parameter_counts([]).status == NOT_RUN
    rows1, v1 = t1(80.0, 70.0, 10.0)
    rows4, v4 = t4({50: 85.0, 1: 1.0})
    out = claims.evaluate_claims(rows1, rows4, {**v1, **v4}, ["set3"], ["set3"], rows8)
    assert [c.status for c in out] == [HOLDS] * 5
    assert [c.id for c in out] == [
        "student_ordering/set3",
        "student_beats_teacher/set3",
        "entropy_hurts_single/set3",
        "best_row/table4/set3",
        "parameter_counts",
    ]
    again = claims.evaluate_claims(rows1, rows4, {**v1, **v4}, ["set3"], ["set3"], rows8)
    assert again == out  # the same inputs, the same text
    rows7 = [{**r, "table": "7"} for r in t1(70.0, 60.0, 10.0, setting="set5")[0]]
    v7 = t1(70.0, 60.0, 10.0, setting="set5")[1]
    out = claims.evaluate_claims(rows1, rows4, {**v1, **v4}, ["set3"], ["set3"], rows8, rows7, v7)
    assert [c.id for c in out][3:] == [
        "best_row/table4/set3",
        "la/student_ordering/set5",
        "la/student_beats_teacher/set5",
        "parameter_counts",
    ]
    assert [c.status for c in out] == [HOLDS] * 7


def test_read_volumes(project):
    d = paths.eval_dir("acdc", "set3", "kl", 1)
    d.mkdir(parents=True)
    (d / "cases.csv").write_text(
        "case,head,dsc,hd95,assd,pred_empty,gt_empty\n"
        "p1,teacher,0.5,1,1,False,False\np1,student,0.875,1,1,False,False\n"
    )
    out = claims.read_volumes("acdc", [("set3", "kl", (0, 1)), ("set3", "kl_ent", (0,))])
    assert out == {
        ("set3", "kl", "teacher"): {(1, "p1"): 50.0},
        ("set3", "kl", "student"): {(1, "p1"): 87.5},
    }


def test_claim_runs(params):
    runs = claims.claim_runs(params)
    seeds = tuple(params["runs"]["seeds"])
    for run in ("kl_ent", "kl", "decoupled", "single", "single_ent"):
        assert ("set3", run, seeds) in runs
    sweep = [r for r in runs if r[1].startswith("kl_ent-")]
    assert sweep and all(r[2] == tuple(params["runs"]["sweep_seeds"]) for r in sweep)
    assert len(runs) == len(set(runs))


def test_la_claim_runs(params):
    runs = claims.la_claim_runs(params)
    seeds = tuple(params["runs"]["la_seeds"])
    for s in params["runs"]["settings"]:
        for run in ("kl_ent", "kl", "decoupled"):
            assert (s, run, seeds) in runs
    assert len(runs) == len(set(runs))


def test_read_diagnoses(tmp_path):
    f = tmp_path / "d.yaml"
    f.write_text("# comment\n{}\n")
    assert claims.read_diagnoses(f) == {}
    f.write_text("student_ordering/set3: The KL student wins on 2 of 3 seeds.\n")
    assert claims.read_diagnoses(f) == {
        "student_ordering/set3": "The KL student wins on 2 of 3 seeds."
    }
    for bad in ("- a list\n", "x: 3\n", "x: ''\n"):
        f.write_text(bad)
        with pytest.raises(ValueError, match="mapping of claim ids"):
            claims.read_diagnoses(f)
