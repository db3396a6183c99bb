"""config: strict loading of params.yaml sections."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny_project

from mixseg import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("tiny", [False, True])
def test_every_preset_section_of_params_yaml_loads(tiny):
    """params.yaml, and params.yaml with the end-to-end test's fixture (the tiny preset)."""
    params = config.read_params(ROOT / "params.yaml")
    if tiny:
        params = tiny_project.apply_fixture(params)
        assert params["preset"] == "tiny" and "tiny" in params["presets"]
    for preset in params["presets"]:
        for ds in params["presets"][preset]:
            base = f"presets.{preset}.{ds}"
            config.load_section(params, f"{base}.preprocess", config.PreprocessParams)
            config.load_section(params, f"{base}.weak", config.WeakParams)
            if "train" in params["presets"][preset][ds]:  # LA: data stages only so far
                config.load_section(params, f"{base}.train", config.TrainParams)
    for ds in params["datasets"]:
        config.load_section(params, f"data.{ds}", config.DataSource)
    config.load_section(params, "split", config.SplitParams)
    config.load_section(params, "settings", config.SettingsParams)


def test_the_fixture_sets_only_keys_of_params_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("runs.sweeps.a1_lambdaw: [1]\n")
    with pytest.raises(KeyError, match="a1_lambdaw"):
        tiny_project.apply_fixture(config.read_params(ROOT / "params.yaml"), bad)


def _split(**kw):
    raw = {"train": 0.8, "val": 0.05, "test": 0.15, "seed": 0}
    raw.update(kw)
    return raw


def test_unknown_key_is_an_error():
    with pytest.raises(config.ConfigError, match=r"split: unknown key\(s\) \['tets'\]"):
        config.build(config.SplitParams, _split(tets=1), "split")


def test_missing_key_is_an_error():
    raw = _split()
    del raw["seed"]
    with pytest.raises(config.ConfigError, match=r"missing key\(s\) \['seed'\]"):
        config.build(config.SplitParams, raw, "split")


def test_wrong_types_are_errors_and_ints_are_floats():
    assert config.build(config.SplitParams, _split(train=1), "split").train == 1.0
    with pytest.raises(config.ConfigError, match="split.seed: expected an integer"):
        config.build(config.SplitParams, _split(seed="0"), "split")
    with pytest.raises(config.ConfigError, match="expected a number"):
        config.build(config.SplitParams, _split(val=True), "split")


def test_literal_and_tuple_validation():
    raw = {"mode": "zoom", "size": [8, 8], "spacing_mm": None, "percentiles": [0, 100]}
    with pytest.raises(config.ConfigError, match="is not one of"):
        config.build(config.PreprocessParams, raw, "pre")
    raw["mode"] = "resize"
    raw["size"] = [8]
    with pytest.raises(config.ConfigError, match="expected 2 values"):
        config.build(config.PreprocessParams, raw, "pre")


def test_lookup_names_missing_key():
    with pytest.raises(config.ConfigError, match="missing key presets.gpu"):
        config.lookup({"presets": {"cpu": {}}}, "presets.gpu.acdc")


def test_read_params_errors(tmp_path):
    with pytest.raises(config.ConfigError, match="no such parameters file"):
        config.read_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(config.ConfigError, match="not valid YAML"):
        config.read_params(bad)


def _train(**kw):
    """A valid ``train`` section (the cpu preset's ACDC one) with ``kw`` replaced."""
    params = config.read_params(ROOT / "params.yaml")
    return {**config.lookup(params, "presets.cpu.acdc.train"), **kw}


def test_select_head_values_and_combinations():
    """``select_head``: ``evaluated`` or ``each``; ``each`` needs ``select: best`` (with
    ``last`` there is no best step to choose per head): the error names the section."""
    for select in ("best", "last"):
        tp = config.build(config.TrainParams, _train(select=select), "t")
        assert tp.select_head == "evaluated"  # the default of every preset
    assert config.build(config.TrainParams, _train(select_head="each"), "t").select_head == "each"
    with pytest.raises(config.ConfigError, match=r"t.select_head: 'best' is not one of"):
        config.build(config.TrainParams, _train(select_head="best"), "t")
    with pytest.raises(config.ConfigError, match=r"^presets.x.train: select_head: each .* last"):
        config.build(
            config.TrainParams, _train(select="last", select_head="each"), "presets.x.train"
        )
    raw = _train()
    del raw["select_head"]
    with pytest.raises(config.ConfigError, match=r"missing key\(s\) \['select_head'\]"):
        config.build(config.TrainParams, raw, "t")
