"""The benchmark harness (``benchmarks/``, ``make bench``): its quick mode runs and writes
well-formed JSON and a summary. No timing is asserted: numbers depend on the machine."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MACHINE_KEYS = {"cpu_model", "logical_cores", "usable_cores", "torch", "torch_threads"}


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory) -> Path:
    """One quick run of two cheap groups: metrics (real work) and dvc (skipped when quick)."""
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [
            sys.executable,
            "benchmarks/run.py",
            "--quick",
            "--only",
            "metrics,dvc",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return out


@pytest.mark.parametrize("group", ["metrics", "dvc"])
def test_json_schema(bench_out: Path, group: str) -> None:
    doc = json.loads((bench_out / f"{group}.json").read_text())
    assert doc["benchmark"] == group and doc["mode"] == "quick"
    assert MACHINE_KEYS <= set(doc["machine"]) and doc["machine"]["cpu_model"]
    assert doc["results"]
    for rec in doc["results"]:
        if "skipped" in rec:
            assert group == "dvc" and rec["skipped"]
            continue
        assert isinstance(rec["unit"], str) and rec["unit"]
        assert rec["n"] == len(rec["repeats"]) >= 1
        assert rec["median"] == pytest.approx(statistics.median(rec["repeats"]))
        assert rec["min"] <= rec["median"] <= rec["max"]
        if "target" in rec:
            assert isinstance(rec["meets_target"], bool)


def test_metrics_values_match_the_reference(bench_out: Path) -> None:
    """Ours and the reference (medpy, or its scipy re-implementation) agree to 1e-6 mm."""
    doc = json.loads((bench_out / "metrics.json").read_text())
    diffs = [r for r in doc["results"] if r["name"].endswith("_max_abs_diff")]
    assert diffs and all(r["meets_target"] for r in diffs)


def test_summary_lists_every_group(bench_out: Path) -> None:
    text = (bench_out / "README.md").read_text()
    assert "## Machine" in text and "medpy" in text and "DVC overhead" in text


def test_unknown_group_is_an_error() -> None:
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--only", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "unknown group" in proc.stderr


def test_shifted_and_surface_equals_medpys_erosion_definition() -> None:
    """``metrics._surface`` (shifted ANDs) is ``mask XOR binary_erosion(mask, cross)``, also for
    masks touching the border and in 2D."""
    from scipy import ndimage

    from mixseg.metrics import _surface

    rng = np.random.default_rng(0)
    for m in (np.ones((3, 4, 4), bool), rng.random((4, 9, 7)) < 0.7, rng.random((6, 5)) < 0.7):
        cross = ndimage.generate_binary_structure(m.ndim, 1)
        expected = m ^ ndimage.binary_erosion(m, structure=cross)
        np.testing.assert_array_equal(_surface(m), expected)
