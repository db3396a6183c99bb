"""Fixtures of the report tests: a project directory (the cwd, as in a DVC stage) holding fake
evaluation summaries, dvclive logs and qualitative slices."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest
import yaml

from mixseg import paths, slices

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


def write_cases(dataset: str, setting: str, run: str, seed: int, heads: dict, n: int = 10) -> None:
    """``cases.csv`` of one evaluated run: ``n`` test cases, each head's DSC (in [0, 1]) the
    same on every case; ``heads``: head -> (DSC, HD95 mm), as for ``write_summary``."""
    d = paths.eval_dir(dataset, setting, run, seed)
    d.mkdir(parents=True, exist_ok=True)
    lines = ["case,head,dsc,hd95,assd,pred_empty,gt_empty"] + [
        f"patient{i:03d}_frame01,{h},{v[0]},{v[1]},1.0,False,False"
        for h, v in heads.items()
        for i in range(n)
    ]
    (d / "cases.csv").write_text("\n".join(lines) + "\n")


def write_curve(setting: str, run: str, seed: int, head: str, values: list[float]) -> None:
    """A dvclive TSV as train.py leaves it: ``live/plots/metrics/val/dsc_<head>.tsv``."""
    f = paths.live_plots_dir("acdc", setting, run, seed) / "val" / f"dsc_{head}.tsv"
    f.parent.mkdir(parents=True, exist_ok=True)
    lines = ["step\tdsc_" + head] + [f"{10 * (i + 1)}\t{v}" for i, v in enumerate(values)]
    f.write_text("\n".join(lines) + "\n")


def write_slices(setting: str, run: str, seed: int, head: str, n: int = 3) -> None:
    """A run's slices as its evaluation leaves them: ``n`` test cases (16x16 discs, 3 slices
    each, the largest in the middle) with random probabilities of ``head``."""
    yy, xx = np.mgrid[:16, :16]
    rng = np.random.default_rng(0)
    records = []
    for i in range(n):
        label = np.stack([(np.hypot(yy - 8, xx - 8) < r) for r in (2, 5, 3)]).astype(np.uint8)
        image = (label * 0.8 + rng.uniform(0, 0.2, label.shape)).astype(np.float32)
        probs = rng.uniform(0, 1, label.shape)
        records.append(slices.pick(f"patient{i:03d}_frame01", image, label, head, probs))
    slices.save(paths.eval_dir("acdc", setting, run, seed), records)


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
    """Writers of fake artefacts into ``project``: summary, cases, curve, slices."""
    return types.SimpleNamespace(
        summary=write_summary, cases=write_cases, curve=write_curve, slices=write_slices
    )
