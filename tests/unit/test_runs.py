"""Runs: names, overrides and which top-level params a run inherits."""

from __future__ import annotations

import dataclasses

import pytest

from mixseg import runs
from mixseg.methods import get_method

PARAMS = {
    "lambda_w": 0.001,
    "lambda_kd": 50,
    "lambda_ent": 1,
    "divergence": "kl",
    "kd": {
        "smoothing": True,
        "temperature": 1.0,
        "direction": "teacher_student",
        "detach_teacher": False,
    },
    "entropy_on": "partial",
    "mixed_forward": "split",
    "idle_decoders": "run",
    "loss_convention": "paper",
}


def test_run_names():
    assert runs.run_name("kl_ent", {}) == "kl_ent"
    assert runs.run_name("kl_ent", {"lambda_kd": "10"}) == "kl_ent-lkd10"
    assert runs.run_name("kl_ent", {"ratio": "3", "lambda_w": "0.1"}) == "kl_ent-lw0.1-r3"
    assert runs.run_name("kl_ent", {"divergence": "alpha2"}) == "kl_ent-alpha2"


def test_parse_overrides_errors():
    assert runs.parse_overrides(["lambda_kd=10"]) == {"lambda_kd": "10"}
    with pytest.raises(ValueError, match="key=value"):
        runs.parse_overrides(["lambda_kd"])
    with pytest.raises(ValueError, match="cannot override 'lr'"):
        runs.parse_overrides(["lr=1"])


def test_inherited_keys():
    kl_ent = get_method("kl_ent")
    assert runs.inherited_keys(get_method("lower"), {}) == frozenset()
    assert "lambda_kd" in runs.inherited_keys(kl_ent, {})
    assert "lambda_kd" not in runs.inherited_keys(kl_ent, {"lambda_kd": "10"})
    # its batches mix row groups: it depends on how the loop forwards them
    assert runs.inherited_keys(get_method("single"), {"lambda_w": "1"}) == {"mixed_forward"}


def test_resolve_hyper_reads_only_what_the_method_reads():
    hp = runs.resolve_hyper(PARAMS, get_method("single"), {})
    assert hp.lambda_w == 0.001 and hp.lambda_kd is None and hp.kd is None
    hp = runs.resolve_hyper(PARAMS, get_method("kl_ent"), {"lambda_kd": "10"})
    assert hp.lambda_kd == 10.0 and hp.lambda_ent == 1.0 and hp.kd.temperature == 1.0
    # A method that does not read lambda_kd does not need it in params.yaml at all.
    hp = runs.resolve_hyper(
        {"lambda_w": 0.1, "mixed_forward": "joint", "idle_decoders": "run"},
        get_method("decoupled"),
        {},
    )
    assert hp.lambda_w == 0.1


def test_loss_convention_reference_replaces_the_eq3_and_eq4_options():
    hp = runs.resolve_hyper(PARAMS, get_method("kl_ent"), {})
    assert hp.loss_convention == "paper" and hp.kd.temperature == 1.0
    assert hp.entropy_on == "partial"
    hp = runs.resolve_hyper(PARAMS, get_method("kl_ent"), {"loss_convention": "reference"})
    assert hp.loss_convention == "reference" and hp.entropy_on == "all"
    assert (hp.kd.temperature, hp.kd.direction, hp.kd.detach_teacher, hp.kd.smoothing) == (
        2.0,
        "student_teacher",
        False,
        True,
    )
    hp = runs.resolve_hyper(dict(PARAMS, loss_convention="reference"), get_method("kl"), {})
    assert hp.kd.direction == "student_teacher" and hp.entropy_on is None  # KL has no Eq. 4
    assert runs.resolve_hyper(PARAMS, get_method("single_ent"), {}).loss_convention is None
    assert runs.run_name("kl_ent", {"loss_convention": "reference", "mixed_forward": "joint"}) == (
        "kl_ent-mfjoint-lossreference"
    )
    with pytest.raises(ValueError, match="loss_convention must be"):
        runs.resolve_hyper(dict(PARAMS, loss_convention="code"), get_method("kl_ent"), {})
    with pytest.raises(ValueError, match="does not read loss_convention"):
        runs.inherited_keys(get_method("decoupled"), {"loss_convention": "reference"})


def test_resolve_hyper_rejects_bad_values():
    with pytest.raises(ValueError, match="divergence must be"):
        runs.resolve_hyper(PARAMS, get_method("kl"), {"divergence": "js"})
    with pytest.raises(ValueError, match="expected a number"):
        runs.resolve_hyper(dict(PARAMS, lambda_w="big"), get_method("single"), {})


def test_proposal_and_self_training_run_names():
    from mixseg.runs import proposal_run_name, stage_run_name

    assert proposal_run_name("lower") == "proposals-lower"
    assert proposal_run_name("kl") == "proposals-kl"
    assert proposal_run_name("proposals-kl") == "selftrain-it2"
    assert proposal_run_name("selftrain-it2") == "selftrain-it3"
    assert proposal_run_name("selftrain-it9") == "selftrain-it10"
    assert stage_run_name("proposals", {}, "kl") == "proposals-kl"
    assert stage_run_name("glmi", {"lambda_gmi": "2", "lambda_lmi": "0.05"}, None) == (
        "glmi-lgmi2-llmi0.05"
    )
    with pytest.raises(ValueError):
        stage_run_name("proposals", {}, None)
    with pytest.raises(ValueError):
        stage_run_name("kl", {}, "lower")


def test_resolve_run_is_the_run_contract():
    """The stage script's run, from the real params.yaml: names, sections, paths, config keys."""
    from mixseg import config, paths

    params = config.read_params(config.PARAMS_FILE)
    run = runs.resolve_run(
        params,
        dataset="acdc",
        method="kl_ent",
        setting="set3",
        seed=1,
        overrides={"lambda_kd": "10", "ratio": "3"},
    )
    assert (run.name, run.ratio, run.recipe) == ("kl_ent-lkd10-r3", 3, get_method("kl_ent"))
    assert run.hp.lambda_kd == 10.0 and run.hp.lambda_w == params["lambda_w"]
    assert run.train_key == config.preset_key(params, "acdc", "train")
    assert run.out_dir == paths.run_dir("acdc", "set3", "kl_ent-lkd10-r3", 1)
    assert run.pseudo_model is None
    assert list(run.config()) == [
        "dataset", "method", "run", "setting", "seed", "ratio", "overrides", "pseudo_from",
        "hyper", "train", "train_key", "preprocess", "versions",
    ]  # fmt: skip
    proposals = runs.resolve_run(
        params,
        dataset="acdc",
        method="proposals",
        setting="set3",
        seed=0,
        overrides={"ratio": "5"},
        pseudo_from="kl",
    )
    assert proposals.name == "proposals-kl"
    assert proposals.pseudo_model == paths.run_dir("acdc", "set3", "kl", 0) / "model.pt"
    with pytest.raises(ValueError, match="pseudo-from"):
        runs.resolve_run(params, dataset="acdc", method="kl", setting="set3", seed=0,
                         overrides={"ratio": "5"}, pseudo_from="lower")  # fmt: skip


def test_study_run_names():
    """The studies' keys come after the existing ones: their names are new, the others kept."""
    assert runs.run_name("single", {"mixed_forward": "joint", "lambda_w": "0"}) == (
        "single-lw0-mfjoint"
    )
    assert runs.run_name("decoupled", {"mixed_forward": "joint"}) == "decoupled-mfjoint"
    assert runs.run_name("lower", {"steps": "1500"}) == "lower-n1500"
    assert runs.parse_overrides(["steps=1500", "mixed_forward=joint"]) == {
        "steps": "1500",
        "mixed_forward": "joint",
    }


def test_mixed_forward_override():
    """An overridden mixed_forward is the run's, not inherited; only where the method reads it."""
    single = get_method("single")
    assert runs.inherited_keys(single, {"lambda_w": "0", "mixed_forward": "joint"}) == set()
    hp = runs.resolve_hyper(PARAMS, get_method("kl_ent"), {"mixed_forward": "joint"})
    assert hp.mixed_forward == "joint" and PARAMS["mixed_forward"] == "split"
    with pytest.raises(ValueError, match="mixed_forward must be one of"):
        runs.resolve_hyper(PARAMS, single, {"mixed_forward": "both"})
    with pytest.raises(ValueError, match="'lower' does not read mixed_forward"):
        runs.resolve_hyper(PARAMS, get_method("lower"), {"mixed_forward": "joint"})
    with pytest.raises(ValueError, match="'lower' does not read mixed_forward"):
        runs.inherited_keys(get_method("lower"), {"mixed_forward": "joint"})


def test_steps_override_sets_the_runs_training_steps():
    from mixseg import config

    params = config.read_params(config.PARAMS_FILE)
    args = dict(dataset="acdc", method="lower", setting="set3", seed=0)
    run = runs.resolve_run(params, **args, overrides={"steps": "1500", "ratio": "5"})
    preset = runs.resolve_run(params, **args, overrides={"ratio": "5"})  # no data here: ratio given
    assert run.name == "lower-r5-n1500" and (run.tp.steps, run.tp.epochs) == (1500, None)
    assert run.config()["train"]["steps"] == 1500  # what model.pt records
    assert run.tp.lr == preset.tp.lr and preset.tp.steps != 1500
    assert run.train_key == preset.train_key
    for bad in ("0", "-3", "1.5"):
        with pytest.raises(ValueError, match="steps must be a positive integer"):
            runs.resolve_run(params, **args, overrides={"steps": bad, "ratio": "5"})


def test_select_head_override_sets_the_runs_checkpoint_rule():
    from mixseg import config

    params = config.read_params(config.PARAMS_FILE)
    args = dict(dataset="acdc", method="decoupled", setting="set3", seed=0)
    run = runs.resolve_run(params, **args, overrides={"select_head": "each", "ratio": "5"})
    preset = runs.resolve_run(params, **args, overrides={"ratio": "5"})
    assert run.name == "decoupled-r5-sheach" and run.tp.select_head == "each"
    assert preset.tp.select_head == "evaluated" and run.tp.steps == preset.tp.steps
    assert run.config()["train"]["select_head"] == "each"  # what model.pt records
    with pytest.raises(ValueError, match="select_head: 'both' is not one of"):
        runs.resolve_run(params, **args, overrides={"select_head": "both", "ratio": "5"})
    for method in ("lower", "ssco"):  # one head; co-trained networks (one selection)
        with pytest.raises(ValueError, match="select_head cannot be overridden"):
            runs.check_overrides(get_method(method), {"select_head": "each"})


def test_existing_run_names_are_unchanged_by_the_study_keys():
    """Names list the tags in TAGS order: the studies' keys come last, so every name that
    overrides only the earlier keys is spelled as before (the four original pipeline files are
    unchanged: ``test_dvc_yaml.test_generated_dvc_yaml_is_up_to_date``)."""
    before = ["lambda_w", "lambda_kd", "lambda_ent", "divergence", "ratio", "lambda_c",
              "lambda_gmi", "lambda_lmi", "lambda_cons", "lambda_sp", "lambda_sc"]  # fmt: skip
    assert list(runs.TAGS) == [
        *before,
        "mixed_forward",
        "steps",
        "loss_convention",
        "select_head",
        "idle_decoders",
    ]
    assert runs.run_name("kl_ent", {"steps": "9", "mixed_forward": "joint", "lambda_kd": "1"}) == (
        "kl_ent-lkd1-mfjoint-n9"
    )


def test_select_head_is_recorded_only_when_not_the_default():
    """``train.select_head: evaluated`` (the default) is left out of the resolved configuration:
    the runs that do not ask for ``each`` keep their configuration hash and model.pt bytes;
    ``each`` is recorded, so it is another configuration (no resume from the other's scratch)."""
    import copy

    from mixseg import checkpoint, config

    params = config.read_params(config.PARAMS_FILE)
    args = dict(dataset="acdc", method="kl_ent", setting="set3", seed=0, overrides={"ratio": "5"})
    default = runs.resolve_run(params, **args)
    assert default.tp.select_head == "evaluated" and "select_head" not in default.config()["train"]
    assert default.config()["train"] | {"select_head": "evaluated"} == dataclasses.asdict(
        default.tp
    )
    each_params = copy.deepcopy(params)
    config.lookup(each_params, default.train_key)["select_head"] = "each"
    each = runs.resolve_run(each_params, **args)
    assert each.config()["train"] == dataclasses.asdict(each.tp)
    assert each.config()["train"]["select_head"] == "each"
    assert checkpoint.config_hash(each.config()) != checkpoint.config_hash(default.config())


def test_upper_batch_is_read_by_the_upper_bound_only():
    """``upper_batch`` is resolved for ``upper`` and None for every other method; only the Upper
    bound's stage inherits it (so ``-S upper_batch=full`` re-runs the Upper-bound runs only)."""
    from mixseg import config
    from mixseg.methods import METHODS

    params = config.read_params(config.PARAMS_FILE)
    assert params["upper_batch"] == "mixed"  # the default
    for name, method in METHODS.items():
        hp = runs.resolve_hyper(params, method, {})
        assert (hp.upper_batch is not None) == (name == "upper"), name
        assert ("upper_batch" in runs.inherited_keys(method, {})) == (name == "upper"), name
    assert runs.resolve_hyper(params, get_method("upper"), {}).upper_batch == "mixed"
    full = dict(params, upper_batch="full")
    assert runs.resolve_hyper(full, get_method("upper"), {}).upper_batch == "full"
    assert runs.resolve_hyper(full, get_method("lower"), {}).upper_batch is None
    # The Lower bound does not need the key at all.
    assert runs.resolve_hyper(PARAMS, get_method("lower"), {}).upper_batch is None


def test_upper_batch_bad_or_missing_is_a_config_error_naming_the_key():
    from mixseg.config import ConfigError

    upper = get_method("upper")
    for bad in ("all", "Mixed", 12, None):
        with pytest.raises(ConfigError, match="upper_batch must be one of"):
            runs.resolve_hyper(dict(PARAMS, upper_batch=bad), upper, {})
    with pytest.raises(ConfigError, match="missing key upper_batch"):
        runs.resolve_hyper(PARAMS, upper, {})  # PARAMS has no upper_batch
    # A method that does not read it ignores even a bad value.
    assert runs.resolve_hyper(dict(PARAMS, upper_batch="all"), get_method("lower"), {})


def test_upper_batch_is_recorded_only_by_the_runs_that_read_it():
    """The other runs' resolved configuration has no ``upper_batch`` (None for them): their
    configuration hash and model.pt bytes are those from before the key existed."""
    from mixseg import checkpoint, config

    params = config.read_params(config.PARAMS_FILE)
    args = dict(dataset="acdc", setting="set3", seed=0, overrides={"ratio": "5"})
    for method in ("lower", "kl_ent", "uamt"):
        run = runs.resolve_run(params, method=method, **args)
        hyper = run.config()["hyper"]
        assert "upper_batch" not in hyper, method
        assert hyper | {"upper_batch": None} == dataclasses.asdict(run.hp), method
    mixed = runs.resolve_run(params, method="upper", **args)
    full = runs.resolve_run(dict(params, upper_batch="full"), method="upper", **args)
    assert mixed.config()["hyper"]["upper_batch"] == "mixed"
    assert full.config()["hyper"]["upper_batch"] == "full"
    assert checkpoint.config_hash(mixed.config()) != checkpoint.config_hash(full.config())
