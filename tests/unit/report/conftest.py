"""Fixtures of the report tests: a project directory (the cwd, as in a DVC stage) holding fake
evaluation summaries, dvclive logs, processed cases and tiny trained models."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from mixseg import paths
from mixseg.data.canonical import Case, save_case
from mixseg.models import build_model

ROOT = Path(__file__).resolve().parents[3]


def write_summary(dataset: str, setting: str, run: str, seed: int, heads: dict) -> None:
    """``metrics.json`` of one evaluated run; ``heads``: head -> (DSC in [0, 1], HD95 mm)."""
    d = paths.eval_dir(dataset, setting, run, seed)
    d.mkdir(parents=True, exist_ok=True)
    summary = {
        "run": run,
        "setting": setting,
        "seed": seed,
        "heads": {h: {"dsc": v[0], "hd95": v[1]} for h, v in heads.items()},
    }
    (d / "metrics.json").write_text(json.dumps(summary))


def write_curve(setting: str, run: str, seed: int, head: str, values: list[float]) -> None:
    """A dvclive TSV as train.py leaves it: ``live/plots/metrics/val/dsc_<head>.tsv``."""
    f = paths.run_dir("acdc", setting, run, seed) / "live/plots/metrics/val" / f"dsc_{head}.tsv"
    f.parent.mkdir(parents=True, exist_ok=True)
    lines = ["step\tdsc_" + head] + [f"{10 * (i + 1)}\t{v}" for i, v in enumerate(values)]
    f.write_text("\n".join(lines) + "\n")


def write_model(setting: str, run: str, seed: int, n_decoders: int) -> None:
    """An untrained tiny network in train.py's ``model.pt`` format."""
    torch.manual_seed(0)
    model = build_model(2, 4, n_decoders, "same")
    state = {
        "model": model.state_dict(),
        "n_decoders": n_decoders,
        "config": {"run": run, "train": {"base": 4, "padding": "same"}},
    }
    f = paths.run_dir("acdc", setting, run, seed) / "model.pt"
    f.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, f)


def write_cases(n_test: int = 3) -> None:
    """``splits.json`` and canonical cases of ``n_test`` test patients (16x16 discs)."""
    yy, xx = np.mgrid[:16, :16]
    patients, rng = {}, np.random.default_rng(0)
    for i in range(n_test):
        pid, cid = f"patient{i:03d}", f"patient{i:03d}_frame01"
        label = np.stack([(np.hypot(yy - 8, xx - 8) < r) for r in (2, 5, 3)]).astype(np.uint8)
        image = (label * 0.8 + rng.uniform(0, 0.2, label.shape)).astype(np.float32)
        save_case(paths.case_file("acdc", cid), Case(cid, pid, image, label, (10.0, 1.5, 1.5)))
        patients[pid] = {"cases": [cid]}
    meta = {"patients": patients, "test": list(patients), "val": [], "train": []}
    paths.splits_file("acdc").write_text(json.dumps(meta))


@pytest.fixture
def params() -> dict:
    """The repository's params.yaml (as the stages read it)."""
    return yaml.safe_load((ROOT / "params.yaml").read_text())


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project directory as the working directory (paths.py is relative to it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def fake(project) -> types.SimpleNamespace:
    """Writers of fake artefacts into ``project``: summary, curve, model, cases."""
    return types.SimpleNamespace(
        summary=write_summary, curve=write_curve, model=write_model, cases=write_cases
    )
