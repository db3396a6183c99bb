"""The claims evaluator on hand-made table rows: holds, does not hold, not run."""

from __future__ import annotations

from mixseg.report import claims
from mixseg.report.claims import FAILS, HOLDS, NOT_RUN


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


def t1(kl_ent, kl, dec, teacher=50.0, single=60.0, single_ent=55.0, setting="set3"):
    return [
        row("1", setting, "kl_ent", "student", kl_ent, paper=86.94),
        row("1", setting, "kl_ent", "teacher", teacher),
        row("1", setting, "kl", "student", kl),
        row("1", setting, "decoupled", "student", dec),
        row("1", setting, "single", "teacher", single),
        row("1", setting, "single_ent", "teacher", single_ent),
    ]


def test_student_ordering():
    c = claims.student_ordering(t1(80.0, 70.0, 10.0), "set3")
    assert c.status == HOLDS and "KL+Ent 80.00 ± 0.50 (paper 86.94)" in c.evidence
    assert claims.student_ordering(t1(80.0, 85.0, 10.0), "set3").status == FAILS
    assert claims.student_ordering(t1(80.0, 80.0, 10.0), "set3").status == FAILS  # strict
    c = claims.student_ordering(t1(80.0, None, 10.0), "set3")
    assert c.status == NOT_RUN and "KL not run" in c.evidence
    assert claims.student_ordering(t1(80.0, 70.0, 10.0), "set5").status == NOT_RUN


def test_student_beats_teacher_and_single_ent():
    assert claims.student_beats_teacher(t1(80.0, 70.0, 10.0, teacher=75.0), "set3").status == HOLDS
    assert claims.student_beats_teacher(t1(70.0, 70.0, 10.0, teacher=75.0), "set3").status == FAILS
    assert claims.entropy_hurts_single(t1(1, 1, 1, single=60.0, single_ent=50.0)).status == HOLDS
    assert claims.entropy_hurts_single(t1(1, 1, 1, single=50.0, single_ent=60.0)).status == FAILS
    assert claims.entropy_hurts_single(t1(1, 1, 1, setting="set1")).status == NOT_RUN


def t4(values: dict) -> list[dict]:
    return [row("table4", "set3", f"r{v}", "student", m, value=v) for v, m in values.items()]


def test_best_lambda_kd():
    best = claims.best_sweep_value
    assert (
        best(t4({10: 80.0, 50: 85.0, 100: None}), "table4", "set3", 50, "λkd", "T4").status == HOLDS
    )
    c = best(t4({10: 86.0, 50: 85.0}), "table4", "set3", 50, "λkd", "T4")
    assert c.status == FAILS and "λkd=10 86.00" in c.evidence
    assert best(t4({10: 85.0, 50: 85.0}), "table4", "set3", 50, "λkd", "T4").status == FAILS
    c = best(t4({10: 80.0, 50: None}), "table4", "set3", 50, "λkd", "T4")
    assert c.status == NOT_RUN and "not run: 50" in c.evidence
    assert best(t4({50: 85.0}), "table4", "set3", 50, "λkd", "T4").status == NOT_RUN


def test_parameter_counts_and_all_claims():
    rows8 = [{"model": "single", "params_ours": "31042434", "params_paper": "31042434"}]
    assert claims.parameter_counts(rows8).status == HOLDS
    assert claims.parameter_counts([{**rows8[0], "params_ours": "1"}]).status == FAILS
    assert claims.parameter_counts([]).status == NOT_RUN
    out = claims.evaluate_claims(
        t1(80.0, 70.0, 10.0), t4({50: 85.0, 1: 1.0}), ["set3"], ["set3"], rows8
    )
    assert [c.status for c in out] == [HOLDS, HOLDS, HOLDS, HOLDS, HOLDS]
