"""Peak resident memory (RSS) of training, measured from outside the process.

``tracemalloc`` does not see torch's allocations, so every figure here is the ``ru_maxrss`` of a
child process (read by a tiny wrapper process whose only child it is, through
``getrusage(RUSAGE_CHILDREN)``): the high-water mark of the whole process, Python, torch's
libraries and the data included.

- ``<preset>/train_stage``: the real ``pipeline/train.py`` (the ``train-ours`` stage of
  KL+Ent) run in a throwaway copy of the project (``params.yaml`` + ``pipeline/`` in a temporary
  folder, data made there by the ``download``/``preprocess``/``erode-labels`` scripts on a few
  synthetic patients). ``--quick``: the tiny preset; full: the tiny and the cpu presets (the cpu
  run trains all 200 steps with validation, as the real stage does). Its wall time is recorded.
- ``<config>/one_step``: a fresh process that builds the dual UNet and runs two steps of
  ``bench_train.Ours`` (fit's loop body) at that configuration: the cost of the model and its
  activations without data loading or dvclive. ``paper`` (256 x 256, base 64, batch 8 + 16)
  only in full mode.
- ``import_baseline``: a process that only imports torch, dvclive and ``mixseg.train``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import ROOT, record

NAME = "memory"

WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:])\n"
    "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(rc)\n"
)

# Throwaway-project parameters: few patients, one setting, as the e2e test's tiny project.
SMALL = {
    "tiny": {
        "preset": "tiny",
        "data.acdc.synthetic.n_cases": 10,
        "data.acdc.synthetic.workers": 1,
        "settings.n_full": [1],
        "settings.ratios": [2],
        "settings.default_ratio": 2,
    },
    "cpu": {
        "preset": "cpu",
        "data.acdc.synthetic.n_cases": 25,
        "data.acdc.synthetic.workers": 1,
        "settings.n_full": [3],
        "settings.ratios": [5],
        "settings.default_ratio": 5,
    },
}
SETTING = {"tiny": "set1", "cpu": "set3"}


def _set(params: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = params
    for p in parents:
        node = node[p]
    if leaf not in node:
        raise KeyError(dotted)
    node[leaf] = value


def maxrss_of(args: list[str], cwd: Path) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of the command ``args`` run in ``cwd``.

    Raises:
        RuntimeError: the command failed (its stderr's tail in the message).
    """
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args], cwd=cwd, capture_output=True, text=True
    )
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    kb = [ln for ln in proc.stdout.splitlines() if ln.startswith("MAXRSS_KB")][-1].split()[1]
    return int(kb) / 1024, dt


def _project(tmp: Path, preset: str) -> Path:
    """A throwaway project for ``preset`` with its data prepared; returns its root."""
    root = tmp / preset
    shutil.copytree(ROOT / "pipeline", root / "pipeline")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for key, value in SMALL[preset].items():
        _set(params, key, value)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for script, extra in (
        ("download", []),
        ("preprocess", ["--workers", "1"]),
        ("erode_labels", []),
    ):
        proc = subprocess.run(
            [sys.executable, f"pipeline/{script}.py", "--dataset", "acdc", *extra],
            cwd=root,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{script} failed:\n{proc.stderr[-2000:]}")
    return root


def _one_step_args(config_name: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bench_memory", "--one-step", config_name]


def run(quick: bool, **_: Any) -> dict[str, Any]:
    results = []
    mib, _dt = maxrss_of([sys.executable, "-c", "import torch, dvclive, mixseg.train"], ROOT)
    results.append(
        record(
            "import_baseline", "MiB", [mib], note="python -c 'import torch, dvclive, mixseg.train'"
        )
    )
    for cfg in ("cpu",) if quick else ("cpu", "paper"):
        mib, dt = maxrss_of(_one_step_args(cfg), ROOT)
        results.append(
            record(
                f"{cfg}/one_step",
                "MiB",
                [mib],
                params={"config": cfg, "wall_s": round(dt, 1)},
                note="fresh process: dual UNet + 2 steps of fit's loop body (bench_train.Ours)",
            )
        )
    with tempfile.TemporaryDirectory(prefix="mixseg-bench-mem-") as tmp:
        for preset in ("tiny",) if quick else ("tiny", "cpu"):
            root = _project(Path(tmp), preset)
            args = [
                sys.executable,
                "pipeline/train.py",
                "--dataset",
                "acdc",
                "--method",
                "kl_ent",
                "--setting",
                SETTING[preset],
                "--seed",
                "0",
            ]
            mib, dt = maxrss_of(args, root)
            results.append(
                record(
                    f"{preset}/train_stage",
                    "MiB",
                    [mib],
                    params={
                        "preset": preset,
                        "setting": SETTING[preset],
                        "method": "kl_ent",
                        "wall_s": round(dt, 1),
                        **{k: v for k, v in SMALL[preset].items()},
                    },
                    note="pipeline/train.py in a throwaway copy of the project",
                )
            )
    return {"results": results}


def _one_step(config_name: str) -> None:
    from benchmarks.bench_train import Ours, _configs
    from benchmarks.common import load_params

    params = load_params()
    cfg = next(c for c in _configs(params, quick=False) if c["config"] == config_name)
    ours = Ours(cfg)
    ours.step()
    ours.step()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one-step":
        sys.path.insert(0, str(ROOT))
        _one_step(sys.argv[2])
    else:
        sys.exit(f"usage: python -m benchmarks.bench_memory --one-step cpu|paper ({sys.argv})")
