"""Shared helpers of the benchmarks: timing (median of repeats after warm-up), the machine's
description, result records and atomic JSON writing.

Every figure the benchmarks publish is a *record*::

    {"name": "cpu/ours", "unit": "images/s", "median": 41.2, "min": ..., "max": ...,
     "n": 5, "repeats": [...], "params": {...}, "note": "...", "target": ">= 1.0",
     "meets_target": true}

``repeats`` holds every measured value (after warm-up), ``median`` is their median; a count that
is not timed (FLOPs per step, a parameter count) is a record with one repeat. ``target`` and
``meets_target`` appear only on the figures that the README (section Performance) sets a budget for.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_VERSION = 1


def timed(
    fn: Callable[[], Any], *, repeats: int, warmup: int = 1, sync: Callable[[], Any] | None = None
) -> list[float]:
    """Seconds per call of ``fn``: ``warmup`` untimed calls, then ``repeats`` timed ones.

    ``sync`` (e.g. ``torch.cuda.synchronize``) runs before each clock read.
    """
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        out.append(time.perf_counter() - t0)
    return out


def timed_interleaved(
    fns: dict[str, Callable[[], Any]],
    *,
    repeats: int,
    warmup: int = 1,
    sync: Callable[[], Any] | None = None,
) -> dict[str, list[float]]:
    """Like ``timed`` for several functions, called in turn (A B A B ...) so that a change of
    machine load during the run hits all of them alike; ratios of the i-th repeats are paired."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    if sync:
        sync()
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            if sync:
                sync()
            out[key].append(time.perf_counter() - t0)
    return out


def record(
    name: str,
    unit: str,
    values: Sequence[float],
    *,
    params: dict[str, Any] | None = None,
    note: str | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """A result record (module docstring); ``target`` like ``">= 1.0"`` or ``"<= 10"``."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError(f"{name}: no values")
    rec: dict[str, Any] = {
        "name": name,
        "unit": unit,
        "median": statistics.median(vals),
        "min": min(vals),
        "max": max(vals),
        "n": len(vals),
        "repeats": vals,
    }
    if params:
        rec["params"] = params
    if note:
        rec["note"] = note
    if target:
        op, _, bound = target.partition(" ")
        ok = {">=": rec["median"] >= float(bound), "<=": rec["median"] <= float(bound)}[op]
        rec["target"] = target
        rec["meets_target"] = bool(ok)
    return rec


def skipped(name: str, reason: str) -> dict[str, Any]:
    """A measurement that was not taken, and why (kept in the JSON so the gap is visible)."""
    return {"name": name, "skipped": reason}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on: CPU model, cores, library versions, torch threads."""
    import numpy
    import scipy
    import torch

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    info: dict[str, Any] = {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": str(torch.__version__),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "git_commit": _git_commit(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    return info


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def document(
    group: str, quick: bool, results: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """The JSON document of one benchmark group."""
    return {
        "schema": SCHEMA_VERSION,
        "benchmark": group,
        "mode": "quick" if quick else "full",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "results": results,
        **extra,
    }


def load_params() -> dict[str, Any]:
    """The repository's ``params.yaml`` (read with the project's own validating reader)."""
    from mixseg import config

    return config.read_params(ROOT / "params.yaml")
