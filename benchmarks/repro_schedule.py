"""Projected wall time of `make repro` on other machines, from the last run's per-run costs.

``pipeline/repro.py`` cuts the stages into items (``make_plan``) and gives them to ``--jobs``
workers: a free worker takes the first item, in list order, whose ``after`` items are done
(``_run_plan``). ``simulate`` replays that rule on item durations (list scheduling), so the
plan can be costed for any number of workers without running it:

- an item's duration is the sum over its runs of the run's measured ``timing.json``
  ``seconds`` (``train.fit``: training and validation, one torch thread) plus a fixed
  ``stage_overhead`` per stage (interpreter start-up and imports, DVC's lock and hashing,
  the test-set evaluation that the training stage runs after ``fit``: none of it is in
  ``timing.json``); an evaluation-only stage (``Group.evaluates``: no ``fit``, no
  ``timing.json``) costs the overhead alone;
- the ``data`` item (download, preprocess, erode-labels; no ``timing.json``) takes
  ``data_seconds``, and the final plain ``dvc repro`` (the report stages) ``tail_seconds``
  after every item: both default to README's measured from-scratch run (44 s and 14 s);
- the machines: this one (2 workers), an 8-core laptop (8 workers, one thread per stage, cores
  as fast as these: ``make repro REPRO_ARGS="--jobs 8"``, the default is 2) and a ``dvc queue``
  on several machines sharing one DVC remote (workers = machines x workers per machine), where
  every item also pays ``queue_overhead`` (a fresh workspace, pulling its deps from the remote
  and pushing its outputs).

With ``--measured-seconds`` (the wall time of that last `make repro`), the 2-worker projection
is reported beside it, with the per-stage overhead that would make the two agree.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from mixseg import experiments, paths

ROOT = Path(__file__).resolve().parents[1]
# From README "Performance": make repro from scratch, data 44 s, reports 14 s.
DATA_SECONDS = 44.0
TAIL_SECONDS = 14.0
# Per training stage, outside fit's timing.json (an estimate; --measured-seconds gives the value
# that would match a measured run): ~3.5 s of interpreter start, imports and DVC bookkeeping and
# ~1.5 s of test-set evaluation (pipeline/train.py's docstring; the imports alone measured 2 s of
# CPU here), ~1 s loading the run's data before fit's clock starts, ~2 s writing the outputs
# (weights, slices, dvclive) and DVC hashing and caching them.
STAGE_OVERHEAD = 8.0
QUEUE_OVERHEAD = 30.0  # per queued item: workspace copy, dvc pull of deps, dvc push of outs


class ItemLike(Protocol):
    name: str
    after: tuple[str, ...]


def simulate(
    items: Sequence[ItemLike], durations: Mapping[str, float], workers: int
) -> dict[str, Any]:
    """``_run_plan``'s rule on known durations: at every moment a worker frees up, the free
    workers take, in list order, the items whose ``after`` items are all done.

    Args:
        items: the plan, in the order workers take items (``name``, ``after``).
        durations: seconds of each item (every name of ``items``).
        workers: how many items run side by side (>= 1).

    Returns:
        ``{"makespan": s, "schedule": [{"item", "start", "end", "worker"}...]}`` (start order).

    Raises:
        ValueError: ``workers`` < 1, an unknown ``after`` name, or an item that never gets ready.

    Example: items of 10, 7 and 5 s, the last after the second, on 2 workers: 12 s.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    names = {it.name for it in items}
    unknown = {a for it in items for a in it.after} - names
    if unknown:
        raise ValueError(f"items come after unknown items: {sorted(unknown)}")
    pending, done = list(items), set()
    running: list[tuple[float, int, str]] = []  # (end, worker, item)
    free, now, schedule = list(range(workers)), 0.0, []
    while pending or running:
        for it in list(pending):
            if not free:
                break
            if set(it.after) <= done:
                pending.remove(it)
                worker = free.pop(0)
                end = now + float(durations[it.name])
                running.append((end, worker, it.name))
                schedule.append({"item": it.name, "start": now, "end": end, "worker": worker})
        if not running:
            raise ValueError(f"never ready: {[it.name for it in pending]}")
        now = min(end for end, _, _ in running)
        for entry in [r for r in running if r[0] == now]:
            running.remove(entry)
            done.add(entry[2])
            free.append(entry[1])
        free.sort()
    return {"makespan": now, "schedule": schedule}


def load_repro() -> Any:
    """``pipeline/repro.py`` as a module (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("repro", ROOT / "pipeline" / "repro.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["repro"] = mod  # its dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def item_groups(item: ItemLike, params: dict) -> list[experiments.Group]:
    """The catalog groups an item's ``dvc repro -s`` targets run (a whole file or
    ``file:stage``); none for the data item."""
    out = []
    for target in item.targets:
        file, _, stage = target.partition(":")
        for g in experiments.groups(params):
            if file == f"pipeline/groups/{g.file}/dvc.yaml" and stage in ("", g.stage):
                out.append(g)
    return out


def item_costs(plan: Sequence[ItemLike], params: dict) -> dict[str, dict[str, Any]]:
    """Per item: its stages, their summed ``timing.json`` seconds (relative to the working
    directory: the project root), the runs whose file is missing (their cost imputed as the
    mean of the group's measured runs) and the groups without any measured run."""
    out = {}
    for item in plan:
        seconds, n, missing, per_step, unmeasured = 0.0, 0, [], [], []
        for g in item_groups(item, params):
            members = g.runs(params)
            n += len(members)
            if g.evaluates is not None:  # trains nothing: the stage overhead alone
                continue
            found = {}
            for key in members:
                f = paths.timing_file(*key)
                if f.exists():
                    t = json.loads(f.read_text())
                    found[key] = float(t["seconds"])
                    per_step.append(float(t["seconds_per_step"]))
            absent = [k for k in members if k not in found]
            seconds += sum(found.values())
            if found and absent:
                seconds += len(absent) * sum(found.values()) / len(found)
            if not found:
                unmeasured.append(g.stage)
            missing += ["/".join(map(str, k)) for k in absent]
        out[item.name] = {
            "stages": n,
            "fit_seconds": round(seconds, 1),
            "missing": missing,
            "unmeasured_groups": unmeasured,
            "median_seconds_per_step": sorted(per_step)[len(per_step) // 2] if per_step else None,
        }
    return out


def durations(
    costs: Mapping[str, Mapping[str, Any]],
    *,
    stage_overhead: float,
    data_seconds: float,
    queue_overhead: float = 0.0,
) -> dict[str, float]:
    """Seconds of each item: fit seconds + overhead per stage (+ ``queue_overhead``)."""
    out = {}
    for name, c in costs.items():
        base = data_seconds if name == "data" else c["fit_seconds"] + c["stages"] * stage_overhead
        out[name] = base + queue_overhead
    return out


def implied_overhead(plan, costs, measured: float, *, data_seconds, tail_seconds) -> float | None:
    """The per-stage overhead at which the 2-worker projection equals ``measured`` (bisection:
    the makespan grows with it), or None if even zero overhead projects more."""

    def total(ov: float) -> float:
        d = durations(costs, stage_overhead=ov, data_seconds=data_seconds)
        return simulate(plan, d, 2)["makespan"] + tail_seconds

    lo, hi = 0.0, 600.0
    if total(lo) > measured or total(hi) < measured:
        return None
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < measured else (lo, mid)
    return round((lo + hi) / 2, 2)


def project(
    params: dict,
    *,
    measured_seconds: float | None = None,
    stage_overhead: float = STAGE_OVERHEAD,
    data_seconds: float = DATA_SECONDS,
    tail_seconds: float = TAIL_SECONDS,
    queue_overhead: float = QUEUE_OVERHEAD,
    queue: tuple[int, int] = (4, 2),
) -> dict[str, Any]:
    """Projected `make repro` wall times (module docstring); run in the project root.

    Returns ``{"skipped": reason}`` when no run has a ``timing.json`` (no `make repro` yet).
    """
    repro = load_repro()
    plan = repro.make_plan(params)
    costs = item_costs(plan, params)
    unmeasured = [g for c in costs.values() for g in c["unmeasured_groups"]]
    if unmeasured:
        n_missing = sum(len(c["missing"]) for c in costs.values())
        n_runs = sum(c["stages"] for c in costs.values())
        return {
            "skipped": f"{n_missing} of {n_runs} runs have no data/runs/<ds>/<setting>/<run>/"
            f"seed<k>/timing.json, and {len(unmeasured)} groups none at all (e.g. "
            f"{', '.join(unmeasured[:3])}): run make repro to the end first"
        }
    base = durations(costs, stage_overhead=stage_overhead, data_seconds=data_seconds)
    machines, per_machine = queue
    queued = durations(
        costs,
        stage_overhead=stage_overhead,
        data_seconds=data_seconds,
        queue_overhead=queue_overhead,
    )
    scenarios = {
        "this machine (2 workers)": simulate(plan, base, 2),
        "8-core laptop (8 workers)": simulate(plan, base, 8),
        f"dvc queue, {machines} machines x {per_machine} workers": simulate(
            plan, queued, machines * per_machine
        ),
    }
    out: dict[str, Any] = {
        "assumptions": {
            "stage_overhead_s": stage_overhead,
            "data_seconds": data_seconds,
            "tail_seconds": tail_seconds,
            "queue_overhead_s": queue_overhead,
            "serial_sum_s": round(sum(base.values()) + tail_seconds, 1),
        },
        "items": {n: costs[n] | {"seconds": round(base[n], 1)} for n in costs},
        "projections": {
            k: {
                "seconds": round(v["makespan"] + tail_seconds, 1),
                "last_item": max(v["schedule"], key=lambda e: e["end"])["item"],
                "schedule": [
                    {**e, "start": round(e["start"], 1), "end": round(e["end"], 1)}
                    for e in v["schedule"]
                ],
            }
            for k, v in scenarios.items()
        },
        "missing_runs": sum(len(c["missing"]) for c in costs.values()),
    }
    if measured_seconds is not None:
        out["measured_seconds"] = measured_seconds
        out["implied_stage_overhead_s"] = implied_overhead(
            plan, costs, measured_seconds, data_seconds=data_seconds, tail_seconds=tail_seconds
        )
    return out
