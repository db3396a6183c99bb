"""The experiment catalog (mixseg.experiments) is consistent, and it alone shapes the stages,
the plan and the report: a new swept value is a params.yaml edit, nothing else."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from mixseg import experiments
from mixseg.config import lookup
from mixseg.methods import METHODS

ROOT = Path(__file__).resolve().parents[2]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def gen():
    return _load("gen", ROOT / "pipeline" / "make_dvc_yaml.py")


@pytest.fixture(scope="module")
def repro():
    return _load("repro", ROOT / "pipeline" / "repro.py")


def test_groups_are_unique_and_name_registered_methods_and_params_keys():
    groups = experiments.groups(PARAMS)
    assert len({(g.dataset, g.name) for g in groups}) == len(groups)
    assert {g.method for g in groups} == set(METHODS)
    assert {g.file for g in groups} == set(experiments.FILES)
    for g in groups:
        keys = [g.seeds, *g.sweep.values()] + ([g.settings] if isinstance(g.settings, str) else [])
        for key in keys:
            assert isinstance(lookup(PARAMS, key), list), (g.name, key)


def test_rows_and_sweeps_read_groups_of_the_catalog():
    tables = [experiments.TABLE1, experiments.TABLE7, experiments.TABLE2, experiments.TABLE3]
    tables += [experiments.HEADLINE, experiments.FIG3, experiments.FIG8, experiments.FIG9]
    for t in tables:
        for row in t.rows:
            experiments.group(row.group, t.dataset)  # raises if absent
    for sw in experiments.SWEEPS:
        groups = [experiments.group(n) for n in sw.groups]
        assert {g.method for g in groups} == {sw.method}, sw.table
        assert all(set(g.sweep) <= set(sw.keys) for g in groups), sw.table
        assert not experiments.group(sw.default).sweep, sw.table


def test_the_tables_stage_declares_the_defaults_its_sweeps_read():
    """A sweep's default row reads the default run: changing the default re-labels the rows,
    so the tables stage must re-run when it changes."""
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["tables"]
    for sw in experiments.SWEEPS:
        if sw.table.startswith("table"):
            for key in sw.keys:
                assert sw.defaults.get(key, key) in stage["params"], (sw.table, key)


def test_a_new_swept_value_is_a_params_edit_only(gen):
    """The generated files name the params.yaml lists, not their values: DVC expands them."""
    more = copy.deepcopy(PARAMS)
    more["runs"]["sweeps"]["t4_lambda_kd"].append(20)
    more["runs"]["sweeps"]["b5_lambda_gmi"].append(5)
    for file in experiments.FILES:
        assert gen.render(file, more) == gen.render(file, PARAMS)


def test_selftrain_iterations_shape_the_stages_the_plan_and_fig5(gen, repro):
    more = copy.deepcopy(PARAMS)
    more["runs"]["selftrain"]["iterations"] = 7
    text = gen.render("train-compare", more)
    assert "train-selftrain-it7:" in text and "--pseudo-from selftrain-it6" in text
    (item,) = [it for it in repro.make_plan(more) if it.name == "proposals"]
    assert item.targets[-1].endswith(":train-selftrain-it7")
    assert experiments.selftrain_runs(more)[-1] == "selftrain-it7"
    assert len(experiments.selftrain_runs(PARAMS)) == PARAMS["runs"]["selftrain"]["iterations"]


def test_sweep_run_reads_the_default_from_params():
    sw = experiments.sweep("table4")
    assert experiments.sweep_run(sw, PARAMS, {"lambda_kd": PARAMS["lambda_kd"]}) == "kl_ent"
    assert experiments.sweep_run(sw, PARAMS, {"lambda_kd": 10}) == "kl_ent-lkd10"
    assert experiments.sweep_run(experiments.sweep("tableA3"), PARAMS, {"lambda_ent": 0}) == (
        "single"
    )
    ratio = PARAMS["settings"]["default_ratio"]
    assert experiments.sweep_run(experiments.sweep("fig7"), PARAMS, {"ratio": ratio}) == "kl_ent"


def test_the_studies_rows_read_groups_of_the_catalog(repro):
    for row in (r for study in experiments.STUDIES for r in study.rows):
        experiments.group(row.group)  # raises if absent
        if row.default is not None:
            assert experiments.group(row.default).method == experiments.group(row.group).method
    for ds in experiments.CONVERGENCE_DATASETS:
        found = experiments.convergence_runs(ds, PARAMS)
        assert [r.group for r, *_ in found] == [r.group for r in experiments.CONVERGENCE_ROWS]
        for row, *_ in found:
            assert "steps" in experiments.group(row.group, ds).sweep
    # make repro runs every study group, in one of its three items (the evaluation-only ones:
    # in "evaluations")
    items = {it.name: it.targets for it in repro.make_plan(PARAMS)}
    studies = [g for g in experiments.groups(PARAMS) if g.file == "train-studies"]
    planned = [
        t
        for n in ("convergence-la", "convergence-acdc", "ablation", "evaluations")
        for t in items[n]
    ]
    assert sorted(planned) == sorted(
        f"pipeline/groups/{g.file}/dvc.yaml:{g.stage}" for g in studies
    )


def test_evaluation_only_groups_evaluate_runs_that_are_trained(repro):
    """A group that ``evaluates`` another (the studies' ``decoupled-sh``: Table 1's Decoupled
    under ``select_head: each``) names a trained group of the same dataset and method that
    sweeps nothing, at the same settings and seeds: every run it evaluates exists; its stage
    comes after the item that trains them."""
    groups = experiments.groups(PARAMS)
    evaluating = [g for g in groups if g.evaluates is not None]
    assert [g.name for g in evaluating] == ["decoupled-sh"]
    plan = repro.make_plan(PARAMS)
    (item,) = [it for it in plan if it.name == "evaluations"]
    assert item.targets == tuple(f"pipeline/groups/{g.file}/dvc.yaml:{g.stage}" for g in evaluating)
    for g in evaluating:
        source = experiments.group(g.evaluates, g.dataset)
        assert source.evaluates is None and not source.sweep and not source.pseudo_from
        assert (source.method, source.settings, source.seeds) == (g.method, g.settings, g.seeds)
        assert g.stage == f"eval-{g.name}" and g.runs(PARAMS)  # an evaluation, never empty
        trains = [it for it in plan if any(t.endswith(f":{source.stage}") for t in it.targets)]
        assert [it.name for it in trains] == ["baselines"] and "baselines" in item.after


def test_only_select_head_can_be_evaluated_without_training():
    """Every other override changes the training: a group evaluating another cannot sweep it."""
    kw = {"file": "train-studies", "dataset": "acdc", "method": "decoupled", "comment": "c"}
    experiments.Group(name="ok", sweep={"select_head": "x"}, evaluates="decoupled", **kw)
    for bad in ({"sweep": {"lambda_w": "x"}}, {"sweep": {"select_head": "x"}, "pinned": ("a",)}):
        with pytest.raises(ValueError, match="may sweep select_head only"):
            experiments.Group(name="bad", evaluates="decoupled", **kw, **bad)
