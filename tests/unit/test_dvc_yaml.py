"""The DVC graph agrees with the code: outs equal paths.py, every training stage declares exactly
the top-level params its run inherits (so `-S lambda_kd=10` re-runs exactly the right runs),
and every stage depends on exactly the project code it can import (``mixseg.deps``)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from mixseg import experiments, paths, runs
from mixseg.deps import dynamic_imports, stage_code
from mixseg.methods import METHODS, get_method, method_module
from mixseg.methods.base import HYPER_KEYS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stages():
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    repo = Repo(str(ROOT))
    out = []
    for s in repo.index.stages:
        params = set()
        for d in s.deps:
            if isinstance(d, ParamsDependency):
                params |= set(d.params)
        deps = {str(d.def_path) for d in s.deps if not isinstance(d, ParamsDependency)}
        outs = [str(o.def_path) for o in s.outs]
        out.append((s.addressing, s.cmd, params, deps, outs))
        CACHED[s.addressing] = {str(o.def_path) for o in s.outs if o.use_cache}
    return out


CACHED: dict[str, set[str]] = {}  # stage -> its DVC-cached outs (the others are git-tracked)


def _args(cmd: str) -> dict[str, list[str]]:
    tokens = shlex.split(cmd)
    args: dict[str, list[str]] = {"script": [tokens[1]]}
    for flag, value in zip(tokens[2::2], tokens[3::2], strict=True):
        args.setdefault(flag.lstrip("-"), []).append(value)
    return args


def test_script_of_every_stage_is_a_dep(stages):
    for name, cmd, _, deps, _ in stages:
        assert _args(cmd)["script"][0] in deps, name


def _code(dep: str) -> set[str]:
    """The project files a declared dep covers (a folder: every .py file under it)."""
    path = ROOT / dep
    if path.is_dir():
        return {str(f.relative_to(ROOT)) for f in path.rglob("*.py")}
    return {dep}


def test_every_stage_depends_on_exactly_the_code_it_can_import(stages):
    """A stage whose code changed must re-run: its deps cover every project file its script
    (and, for training, its method's module) can import; and they name nothing else, so that
    a change elsewhere (another method, the report) re-runs nothing."""
    problems = []
    for name, cmd, _, stage_deps, _ in stages:
        a = _args(cmd)
        modules = [method_module(m) for m in a.get("method", [])]
        expected = set(stage_code(a["script"][0], modules))
        declared = set().union(
            *(_code(d) for d in stage_deps if d.startswith(("src/", "pipeline/")))
        )
        if expected - declared:
            problems.append(f"{name} can import, not in its deps: {sorted(expected - declared)}")
        if declared - expected:
            problems.append(f"{name} depends on, cannot import: {sorted(declared - expected)}")
    assert not problems, "\n".join(
        problems[:5] + [f"... {len(problems)} in all; run: python pipeline/make_dvc_yaml.py"]
    )


def test_only_the_method_registry_imports_by_name():
    """``mixseg.deps`` reads imports statically: a lookup by name anywhere but the registry
    (whose lookup each training stage adds as a dependency of its own) would escape it."""
    registry = ROOT / "src/mixseg/methods/__init__.py"
    for f in sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "pipeline").rglob("*.py")):
        if f != registry:
            assert not dynamic_imports(f), f


def test_the_method_registry_imports_no_method():
    """Else every training stage could import every method."""
    got = stage_code("src/mixseg/methods/__init__.py")
    assert {f for f in got if f.startswith("src/mixseg/methods/")} == {
        "src/mixseg/methods/__init__.py",
        "src/mixseg/methods/base.py",
    }


def test_data_stage_outs_match_paths(stages):
    expected = {
        "download@acdc": [str(paths.raw_dir("acdc"))],
        "preprocess@acdc": [str(paths.processed_dir("acdc"))],
        "erode-labels@acdc": [str(paths.weak_dir("acdc"))],
    }
    got = {name: outs for name, _, _, _, outs in stages if name in expected}
    assert got == expected


def test_train_stages_declare_exactly_inherited_params(stages):
    train = [s for s in stages if "pipeline/train.py" in s[1]]
    assert len(train) > 90  # the cpu preset: Table 1 x 3 seeds + the Set-3 sweeps
    seen_methods = set()
    for name, cmd, params, deps, outs in train:
        a = _args(cmd)
        method = get_method(a["method"][0])
        seen_methods.add(method.name)
        overrides = runs.parse_overrides(a.get("set", []))
        expected = {
            f"presets.cpu.{a['dataset'][0]}.{s}" for s in ("preprocess", "train")
        } | runs.inherited_keys(method, overrides)
        assert params == expected, name
        run = runs.stage_run_name(method.name, overrides, a.get("pseudo-from", [None])[0])
        where = (a["dataset"][0], a["setting"][0], run, int(a["seed"][0]))
        # One stage trains the run and evaluates it on the test cases.
        expected_outs, cached = paths.run_outputs(*where), CACHED[name]
        assert outs == [str(f) for kind in ("cached", "git", "plots") for f in expected_outs[kind]]
        assert cached == {str(f) for f in expected_outs["cached"]}, name
        assert "src/mixseg/evaluate.py" in deps and "src/mixseg/metrics.py" in deps, name
        assert deps.isdisjoint(_other_methods(method.name)), name
        ds = a["dataset"][0]
        assert (f"data/weak/{ds}" in deps) == (method.other_rows == "partial"), name
        if "pseudo-from" in a:  # the teacher run is a dependency: changing it re-runs this one
            teacher = paths.run_dir(ds, a["setting"][0], a["pseudo-from"][0], int(a["seed"][0]))
            assert str(teacher / "model.pt") in deps, name
    assert seen_methods == set(METHODS)


def test_evaluation_only_stages_read_the_trained_run_and_no_params(stages):
    """``pipeline/evaluate.py`` (the studies' ``decoupled-sheach``): it depends on the trained
    run's model.pt and train.json and the test cases, on no params (its rule is on the
    command line, everything else in model.pt), and writes the git-tracked
    ``paths.eval_outputs`` only: no weights, no training code."""
    evals = [s for s in stages if "pipeline/evaluate.py" in s[1]]
    assert len(evals) == 9  # Table 1's Decoupled runs: 3 settings x 3 seeds
    for name, cmd, params, deps, outs in evals:
        a = _args(cmd)
        assert params == set() and CACHED[name] == set(), name
        overrides = runs.parse_overrides(a["set"])
        assert set(overrides) == {"select_head"}, name
        ds, setting, seed = a["dataset"][0], a["setting"][0], int(a["seed"][0])
        run = runs.run_name(a["method"][0], overrides)
        assert outs == [str(f) for f in paths.eval_outputs(ds, setting, run, seed)["git"]]
        trained = (ds, setting, a["weights-of"][0], seed)
        for dep in (paths.model_file(*trained), paths.train_summary(*trained)):
            assert str(dep) in deps, name
        assert f"data/processed/{ds}" in deps and "src/mixseg/evaluate.py" in deps, name
        assert "src/mixseg/train.py" not in deps and f"data/weak/{ds}" not in deps, name
    trained_outs = {o for s in stages if "pipeline/train.py" in s[1] for o in s[4]}
    for *_, deps, _ in evals:  # the run it reads is trained by a stage
        assert {d for d in deps if d.startswith(("data/runs/", "results/"))} <= trained_outs


def test_only_the_upper_bound_stages_declare_upper_batch(stages):
    """``dvc exp run -S upper_batch=full`` re-runs exactly the Upper-bound runs: the stages of
    ``--method upper`` (ACDC and LA, Set-N, ``all`` and the convergence study) declare the key,
    no other stage does (the Lower bound's neither)."""
    declaring: dict[str, set[str]] = {}
    for name, cmd, params, _, _ in stages:
        a = _args(cmd)
        method = a.get("method", [None])[0]
        assert ("upper_batch" in params) == (method == "upper"), name
        if method in ("lower", "upper"):
            declaring.setdefault(method, set()).add(a["dataset"][0])
    assert declaring == {"lower": {"acdc", "la"}, "upper": {"acdc", "la"}}
    upper = {name.split(":")[-1] for name, _, params, _, _ in stages if "upper_batch" in params}
    for stage in ("train-upper@set3-0", "train-upper-all@all-0", "train-la-upper-all@all-0"):
        assert stage in upper, sorted(upper)


def _other_methods(name: str) -> set[str]:
    """The files of the methods that ``name`` does not import."""
    own = set(stage_code(f"src/{method_module(name).replace('.', '/')}.py"))
    return {f"src/{method_module(m).replace('.', '/')}.py" for m in METHODS} - own


def test_every_stage_runs_a_script_that_exists(stages):
    for name, cmd, *_ in stages:
        assert (ROOT / _args(cmd)["script"][0]).is_file(), name


def test_generated_dvc_yaml_is_up_to_date():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", ROOT / "pipeline" / "make_dvc_yaml.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for file in experiments.FILES:
        committed = (ROOT / "pipeline" / "groups" / file / "dvc.yaml").read_text()
        assert committed == gen.render(file, params), (
            f"run: python pipeline/make_dvc_yaml.py ({file})"
        )
    root = (ROOT / "dvc.yaml").read_text()
    assert root == gen.root_code_deps(root), "run: python pipeline/make_dvc_yaml.py (dvc.yaml)"


def test_no_duplicate_runs(stages):
    outs = [o for *_, os_ in stages for o in os_]
    assert len(outs) == len(set(outs))


def test_sweeps_never_repeat_the_default_value():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    sw = params["runs"]["sweeps"]
    for key, default in [
        ("a1_lambda_w", params["lambda_w"]),
        ("t5_lambda_w", params["lambda_w"]),
        ("a2_lambda_kd", params["lambda_kd"]),
        ("t4_lambda_kd", params["lambda_kd"]),
        ("a3_lambda_ent", params["lambda_ent"]),
        ("t6_divergence", params["divergence"]),
        ("f7_ratio", params["settings"]["default_ratio"]),
        ("b4_lambda_c", params["lambda_c"]),
        ("b5_lambda_gmi", params["lambda_gmi"]),
        ("b5_lambda_lmi_at_default", params["lambda_lmi"]),
        ("b6_lambda_sp", params["lambda_sp"]),
        ("b6_lambda_sc_at_default", params["lambda_sc"]),
    ]:
        assert default not in sw[key], key


def test_the_at_default_rows_pin_the_default_values():
    """Tables B.5/B.6: the row of the default λglobalMI (λ1) is its own group, which sets the
    default on the command line; it must equal params.yaml's."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    text = (ROOT / "pipeline" / "groups" / "train-compare" / "dvc.yaml").read_text()
    assert f"--set lambda_gmi={params['lambda_gmi']:g}" in text
    assert f"--set lambda_sp={params['lambda_sp']:g}" in text


def test_methods_read_only_hyper_keys():
    for m in METHODS.values():
        assert m.reads <= set(HYPER_KEYS), m.name
