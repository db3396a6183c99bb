"""DVC overhead: a no-op ``dvc repro`` of the whole project (budget: <= 10 s, README
section Performance), ``dvc status`` and ``dvc exp show``, each run as a subprocess in the
project root (``--cwd``) with the project's venv's ``dvc``.

Skipped in ``--quick`` mode. ``dvc repro`` is timed only when ``dvc status --quiet`` says the
pipeline is up to date: a benchmark must never start the real (hour-long) pipeline, so a stale
project is recorded as skipped, with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, record, skipped

NAME = "dvc"


def _dvc() -> list[str]:
    exe = Path(sys.executable).with_name("dvc")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dvc"]


def _env() -> dict[str, str]:
    env = dict(os.environ, DVC_NO_ANALYTICS="1", DVC_STUDIO_OFFLINE="1")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _time(args: list[str], cwd: Path, repeats: int) -> tuple[list[float], str | None]:
    secs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(_dvc() + args, cwd=cwd, env=_env(), capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if proc.returncode != 0:
            return secs, f"`dvc {' '.join(args)}` exited {proc.returncode}: {proc.stderr[-500:]}"
        secs.append(dt)
    return secs, None


def run(quick: bool, cwd: Path | None = None, **_: Any) -> dict[str, Any]:
    cwd = Path(cwd or ROOT)
    names = ("status", "repro_noop", "exp_show")
    if quick:
        return {"results": [skipped(n, "not measured in --quick mode") for n in names]}
    results = []
    repeats = 3
    secs, err = _time(["status", "--quiet"], cwd, repeats)
    p = {"cwd": str(cwd)}
    if err:
        # `status --quiet` exits 1 when something is stale: never run the real pipeline then.
        results.append(skipped("status", f"project not up to date or dvc failed ({err.strip()})"))
        results.append(skipped("repro_noop", "dvc status says the pipeline is not up to date"))
    else:
        results.append(record("status", "s", secs, params=p, note="dvc status --quiet"))
        secs, err = _time(["repro"], cwd, repeats)
        results.append(
            skipped("repro_noop", err)
            if err
            else record(
                "repro_noop",
                "s",
                secs,
                params=p,
                target="<= 10",
                note="dvc repro with nothing changed (the whole project)",
            )
        )
    secs, err = _time(["exp", "show", "--no-pager", "--md"], cwd, repeats)
    results.append(
        skipped("exp_show", err)
        if err
        else record("exp_show", "s", secs, params=p, note="dvc exp show --no-pager --md")
    )
    return {"results": results}
