"""Report tables from fake evaluation summaries: values, "not run" cells, the paper's values
only in parentheses, and the run names the not-yet-existing rows read."""

from __future__ import annotations

import pytest
import yaml

from mixseg import experiments
from mixseg.report import catalog, comparisons, outputs
from mixseg.report import paper_values as pv
from mixseg.report.paper_values import TABLE7
from mixseg.report.tables import EMPTY_NOTE, aggregate, ended_empty, table1


def test_aggregate_is_mean_and_population_std_in_percent():
    sums = [
        {"heads": {"student": {"dsc": 0.8, "hd95": 4.0}}},
        {"heads": {"student": {"dsc": 0.6, "hd95": 2.0}}},
    ]
    assert aggregate(sums, "student", "dsc") == pytest.approx((70.0, 10.0, 2))
    assert aggregate(sums, "student", "hd95") == pytest.approx((3.0, 1.0, 2))
    assert aggregate(sums, "teacher", "dsc") is None


def test_table1_cells_and_not_run(fake, project):
    fake.summary(
        "acdc",
        "set3",
        "kl_ent",
        0,
        {"teacher": (0.7, 9.0), "student": (0.8, 5.0), "ensemble": (0.75, 6.0)},
    )
    fake.summary(
        "acdc",
        "set3",
        "kl_ent",
        1,
        {"teacher": (0.7, 9.0), "student": (0.9, 7.0), "ensemble": (0.75, 6.0)},
    )
    md, rows = table1("acdc", ["set3"], [0, 1, 2])
    line = next(x for x in md.splitlines() if "Ours (KL+Ent)" in x)
    assert "85.00 ± 5.00 (86.94)" in line and "6.00 ± 1.00 (8.84)" in line
    lower = next(x for x in md.splitlines() if "Lower bound" in x)
    assert "not run (54.66)" in lower and lower.count("–") == 4
    student = [r for r in rows if r["run"] == "kl_ent" and r["head"] == "student"]
    assert [r["n_seeds"] for r in student] == [2, 2]


def test_a_head_that_ended_empty_is_marked_with_its_seed_count(fake, project):
    heads = {"teacher": (0.7, 9.0), "student": (0.5, 5.0), "ensemble": (0.75, 6.0)}
    for seed in (0, 1):
        fake.summary("acdc", "set3", "kl", seed, heads)
    # seed 0's student emptied at the end (0.04 < 5 %), seed 1's only in between; the
    # teacher's last checks are fine; a seed without a curve is not counted
    fake.curve("set3", "kl", 0, "student", [0.6, 0.0, 0.04])
    fake.curve("set3", "kl", 1, "student", [0.6, 0.0, 0.5])
    fake.curve("set3", "kl", 0, "teacher", [0.6, 0.02, 0.7])
    assert ended_empty("acdc", "set3", "kl", "student", [0, 1, 2]) == 1
    assert ended_empty("acdc", "set3", "kl", "teacher", [0, 1, 2]) == 0
    md, rows = table1("acdc", ["set3"], [0, 1])
    line = next(x for x in md.splitlines() if "Ours (KL) |" in x)
    assert "50.00 ± 0.00 †1 (71.49)" in line and "70.00 ± 0.00 (68.25)" in line
    assert md.rstrip().endswith(EMPTY_NOTE)
    kl = {(r["head"], r["metric"]): r["ended_empty"] for r in rows if r["run"] == "kl"}
    assert kl[("student", "dsc")] == kl[("student", "hd95")] == 1 and kl[("teacher", "dsc")] == 0
    fake.curve("set3", "kl", 0, "student", [0.6, 0.0, 0.5])
    md, _ = table1("acdc", ["set3"], [0, 1])
    assert "†" not in md and EMPTY_NOTE not in md


def test_table2_and_3_read_their_named_runs(fake, project):
    fake.summary("acdc", "set3", "proposals-kl", 0, {"teacher": (0.5, 20.0)})
    fake.summary("acdc", "set3", "kl_ent", 0, {"student": (0.9, 1.0)})
    md, rows = comparisons.table2("acdc", ["set3"], [0])
    assert "not run (63.11)" in md  # proposals-lower has no run
    assert "50.00 (1 seed) (74.27)" in md and "90.00 (1 seed) (86.94)" in md
    md, rows = comparisons.table3("acdc", ["set3", "set5"], [0])
    for run in ("uamt", "glmi", "ssco"):
        assert f"(`{run}`) | not run (" in md
        assert all(r["ours_mean"] is None for r in rows if r["run"] == run)
    # The paper's values never appear without "not run" or our value before them.
    assert "| 70.62" not in md and "not run (70.62)" in md


def test_appendix_b_tables_name_runs_and_default(fake, project, params):
    fake.summary("acdc", "set3", "uamt", 0, {"teacher": (0.6, 30.0)})
    fake.summary("acdc", "set3", "glmi-lgmi2-llmi1", 0, {"teacher": (0.7, 10.0)})
    md, _ = comparisons.table_b4("acdc", "set3", [0], [0], params)
    assert "**λc = 0.1** (default) (`uamt`) | 60.00 (1 seed) (70.62)" in md
    assert "(`uamt-lc0.01`) | not run (67.90)" in md
    md, rows = comparisons.table_b5("acdc", "set3", [0], [0], params)
    assert "70.00 (1 seed) (74.70) (`glmi-lgmi2-llmi1`)" in md and "(`glmi`)" in md
    assert {r["metric"] for r in rows} == {"dsc"}
    md, _ = comparisons.table_b6("acdc", "set5", [0], [0], params)  # the paper's: Set-3 only
    assert "(`ssco-lsp0.1-lsc1`)" in md and "75.08" not in md


def test_appendix_b_default_row_follows_params(fake, project, params):
    """The default run is trained at params.yaml's value: a changed default moves its label."""
    params["lambda_c"] = 1
    md, _ = comparisons.table_b4("acdc", "set3", [0], [0], params)
    assert "**λc = 1** (default) (`uamt`)" in md and "λc = 0.1 (`uamt-lc0.1`)" in md
    params["lambda_gmi"], params["lambda_lmi"] = 2, 1
    md, _ = comparisons.table_b5("acdc", "set3", [0], [0], params)
    assert "(`glmi-lgmi1-llmi0.1`)" in md and "(`glmi`)" in md and "glmi-lgmi2-llmi1" not in md


def test_table7_reads_la(fake, project):
    fake.summary(
        "la",
        "set3",
        "kl",
        0,
        {"teacher": (0.6, 30.0), "student": (0.65, 31.0), "ensemble": (0.6, 30.0)},
    )
    md, rows = table1("la", ["set3"], [0], TABLE7, table="7")
    assert "65.00 (1 seed) (66.75)" in md and "not run (72.09)" in md
    assert {r["dataset"] for r in rows} == {"la"} and {r["table"] for r in rows} == {"7"}


def test_build_tables_in_report_order(fake, project, params):
    fake.summary(
        "acdc",
        "set3",
        "kl_ent",
        0,
        {"teacher": (0.7, 9.0), "student": (0.8, 5.0), "ensemble": (0.75, 6.0)},
    )
    built = catalog.build_tables(params)
    assert [t.name for t in built] == outputs.TABLE_NAMES
    for t in built:
        assert t.text().startswith(f"# {t.title}\n\nPreset `{params['preset']}`")
        assert t.rows, t.name
    assert "80.00 (1 seed) (86.94)" in built[0].markdown


def test_paper_values_agree_across_tables():
    """Cross-checks of the transcription: the paper repeats some numbers in several tables."""
    for s in ("set3", "set5", "set10"):
        ours = pv.TABLE1[(s, "kl_ent")]["student"]
        assert pv.TABLE2[s]["kl_ent"] == ours == pv.TABLE3[s]["kl_ent"]
        assert pv.TABLE3[s]["lower"] == pv.TABLE1[(s, "lower")]["teacher"]
    assert pv.TABLE_B4[0.1][0] == pv.TABLE3["set3"]["uamt"][0]
    assert pv.TABLE_B5[(1, 0.1)] == pv.TABLE3["set3"]["glmi"][0]
    assert pv.TABLE_B6[(0.5, 4)] == pv.TABLE3["set3"]["ssco"][0]
    single = pv.TABLE8["single"][0]
    assert pv.TABLE8["uamt"][0] == 2 * single and pv.TABLE8["ssco"][0] == 8 * single


def test_cell_spread_only_with_several_seeds():
    from mixseg.report.tables import _cell

    assert _cell((50.0, 2.5, 3), 60.0, True) == "50.00 ± 2.50 (60.00)"
    assert _cell((50.0, 0.0, 1), None, True) == "50.00 (1 seed)"
    assert _cell(None, 60.0, True) == "not run (60.00)"
    assert _cell((50.0, 2.5, 3), 60.0, False) == "–"


def _yaml_rendered(text: str) -> list[str]:
    """How DVC spells ``${item.x}`` for the values of a YAML list: str of the loaded number."""
    return [str(v) for v in yaml.safe_load(text)]


def test_sweep_run_names_are_spelled_as_dvc_renders_the_yaml_values(params):
    def run(table: str, *values) -> str:
        sw = experiments.sweep(table)
        return experiments.sweep_run(sw, params, dict(zip(sw.keys, values, strict=True)))

    uamt = [run("tableB4", v) for v in pv.TABLE_B4]
    assert uamt == ["uamt-lc0.01", "uamt", "uamt-lc1", "uamt-lc5", "uamt-lc10"]
    assert uamt[2:] == [f"uamt-lc{v}" for v in _yaml_rendered("[1, 5, 10]")]
    glmi = [run("tableB5", *k) for k in pv.TABLE_B5]
    assert glmi == [
        "glmi" if (g, m) == ("1", "0.1") else f"glmi-lgmi{g}-llmi{m}"
        for g in _yaml_rendered("[0.1, 1, 2]")
        for m in _yaml_rendered("[0.05, 0.1, 1]")
    ]
    assert glmi[:4] == [
        "glmi-lgmi0.1-llmi0.05",
        "glmi-lgmi0.1-llmi0.1",
        "glmi-lgmi0.1-llmi1",
        "glmi-lgmi1-llmi0.05",
    ]
    ssco = [run("tableB6", *k) for k in pv.TABLE_B6]
    assert ssco == [
        "ssco" if (a, b) == ("0.5", "4") else f"ssco-lsp{a}-lsc{b}"
        for a in _yaml_rendered("[0.1, 0.5, 1]")
        for b in _yaml_rendered("[1, 4, 8]")
    ]
    assert ssco[3:6] == ["ssco-lsp0.5-lsc1", "ssco", "ssco-lsp0.5-lsc8"]


def test_ssco_reads_its_ensemble_head(fake, project, params):
    fake.summary(
        "acdc",
        "set3",
        "ssco",
        0,
        {"teacher": (0.5, 9.0), "student": (0.6, 9.0), "ensemble": (0.8, 4.0)},
    )
    md, rows = comparisons.table3("acdc", ["set3"], [0])
    assert "(`ssco`) | 80.00 (1 seed) (77.16) | 4.00 (1 seed) (" in md
    assert {r["head"] for r in rows if r["run"] == "ssco"} == {"ensemble"}
    md, rows = comparisons.table_b6("acdc", "set3", [0], [0], params)
    assert "80.00 (1 seed) (77.16) (`ssco`)" in md
    assert {r["head"] for r in rows} == {"ensemble"}


def test_build_tables_reads_compare_and_la_seeds(fake, project, params):
    r = params["runs"]
    r["seeds"], r["compare_seeds"], r["sweep_seeds"], r["la_seeds"] = [0], [1], [3], [2]
    for seed, dsc in ((0, 0.1), (1, 0.5)):
        fake.summary("acdc", "set3", "proposals-kl", seed, {"teacher": (dsc, 9.0)})
        fake.summary("acdc", "set3", "uamt", seed, {"teacher": (dsc, 9.0)})
    fake.summary("acdc", "set3", "uamt-lc1", 3, {"teacher": (0.4, 9.0)})
    fake.summary("la", "set3", "lower", 0, {"teacher": (0.1, 9.0)})
    fake.summary("la", "set3", "lower", 2, {"teacher": (0.3, 9.0)})
    by_name = {t.name: t for t in catalog.build_tables(params)}
    assert "50.00 (1 seed) (74.27)" in by_name["table2"].markdown
    assert "(`uamt`) | 50.00 (1 seed) (70.62)" in by_name["table3"].markdown
    b4 = by_name["tableB4"].markdown
    assert "(`uamt`) | 50.00 (1 seed)" in b4 and "(`uamt-lc1`) | 40.00 (1 seed)" in b4
    t7 = by_name["table7"]
    assert "30.00 (1 seed)" in t7.markdown and "seeds [2]" in t7.note
    assert "seeds [1]" in by_name["table2"].note and "head ensemble" in by_name["tableB6"].note
