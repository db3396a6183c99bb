"""Time to quality (issue 18): how long our training loop takes to reach a good model, against a
plain PyTorch loop, and what that makes of `make repro`'s wall time.

Why not images per second: a user waits for a model that segments well, not for a step.
``bench_train`` shows our step is faster than a plain one, but a faster step would be worth
nothing if it learned less per step (channels-last kernels, the foreach Adam update, the split
BatchNorm passes all change the arithmetic). Here both loops train the same run to the end and
are compared on the clock *at equal quality*.

Measured (the loops are in ``ttq_loops``), for three runs of the cpu preset on ACDC (``RUNS``:
Lower bound Set-3, Upper bound ``all``, KL+Ent Set-3 read at its student head), each resolved by
``runs.resolve_run`` from the project's ``params.yaml`` and its prepared data
(``data/processed/acdc``, ``data/weak/acdc``):

- ``ours``: ``train.build_trainer`` + ``Trainer.step`` on ``load_sampler(run).batch(step)``,
  exactly ``fit``'s loop without dvclive and checkpoints;
- ``plain``: the simplest loop on the same architecture, initial weights and batches: default
  (contiguous) memory format, ``model(x)`` (KL+Ent: the fully labelled rows and the other rows
  as two passes, as ``mixed_forward: split`` does), the losses written with ``F.cross_entropy``
  / partial CE with ``ignore_index`` / ``F.kl_div`` / entropy, ``torch.optim.Adam`` with its
  defaults but the same betas, ``CosineAnnealingLR`` (the same cosine as ``make_scheduler``).

Both train with one torch thread, each with its own torch RNG stream (dropout), alternately in
chunks of ``val_every`` steps (ours, plain, plain, ours, ...) so that a change of machine load
hits both alike, and both are validated after every chunk by ``train.validate`` on the
validation cases. Clock: *core-seconds* = process CPU time of the training steps (batch drawing
included: the same sampler for both), robust to other processes on the machine; validation time
is not training time and is reported separately; wall seconds are kept too.

Per side: the curve (step, cumulative core-seconds, val DSC of the evaluated head); the
*converged value* = the best val DSC of the run; *time to quality* = core-seconds (and steps)
until the val DSC first reaches ``ttq_loops.TARGET`` (95 %) of that converged value. Ratios
ours/plain of time to quality (< 1: ours is sooner) and of seconds per step (paired per chunk);
also the time to 95 % of the lower of the two converged values (a common bar, in case one side
converges lower). Then ``repro_schedule.project``: `make repro` projected for 2, 8 and queued
workers.

Reading the numbers: time to quality is known to one validation interval (25 steps); the two
loops start from the same weights and batches but do not follow the same trajectory (float
rounding differs with the memory format and the Adam kernel, and ``nn.Dropout`` draws its
mask in memory order, so channels-last and contiguous activations get different masks from the
same RNG state): their curves
are two samples of the same training, and a ratio of time to quality far from the ratio of
seconds per step says that one sample converged sooner, not that a loop learns better.

``--quick``: 40 steps, validation every 20. Full: the preset's steps, every 25.

    python benchmarks/bench_ttq.py --quick --run lower --cwd /path/to/project
    python benchmarks/bench_ttq.py --measured-seconds 2433   # + the make repro projection
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import repro_schedule  # noqa: E402
from benchmarks.common import load_params, record  # noqa: E402
from benchmarks.ttq_loops import check_data, ttq_run  # noqa: E402

NAME = "ttq"
RUNS = (("lower", "set3"), ("upper", "all"), ("kl_ent", "set3"))
QUICK_STEPS, QUICK_VAL_EVERY, VAL_EVERY = 40, 20, 25


def _records(res: dict) -> list[dict[str, Any]]:
    """The result records of one run (``common.record``)."""
    r, o, p = res["run"], res["ours"], res["plain"]
    name = f"{r}-{res['setting']}"
    params = {k: res[k] for k in ("head", "steps", "val_every", "val_cases")}
    out = []
    for key, side in (("ours", o), ("plain", p)):
        t = side["ttq"]
        note = (
            f"val DSC {t['threshold']:.4f} (95 % of best {t['converged']:.4f}) at step {t['step']}"
        )
        out += [
            record(f"{name}/{key}/ttq", "core-s", [t["core_seconds"]], params=params, note=note),
            record(f"{name}/{key}/converged_dsc", "DSC", [t["converged"]], params=params),
            record(f"{name}/{key}/seconds_per_step", "core-s", side["seconds_per_step"]),
            record(
                f"{name}/{key}/validation",
                "core-s",
                [side["val_core_seconds"]],
                note=f"{len(side['curve'])} validations, not counted as training time",
            ),
        ]
    ratio = o["ttq"]["core_seconds"] / p["ttq"]["core_seconds"]
    steps = f"steps {o['ttq']['step']} vs {p['ttq']['step']}"
    out.append(
        record(
            f"{name}/ratio_ttq_ours_over_plain", "x", [ratio], note=f"< 1: ours is sooner; {steps}"
        )
    )
    oc, pc = o["ttq_common"], p["ttq_common"]
    if oc["core_seconds"] and pc["core_seconds"]:
        out.append(
            record(
                f"{name}/ratio_ttq_common_bar",
                "x",
                [oc["core_seconds"] / pc["core_seconds"]],
                note=f"to DSC {oc['threshold']:.4f} (95 % of the lower best); "
                f"steps {oc['step']} vs {pc['step']}",
            )
        )
    per_chunk = [a / b for a, b in zip(o["seconds_per_step"], p["seconds_per_step"], strict=True)]
    out.append(
        record(
            f"{name}/ratio_seconds_per_step_ours_over_plain",
            "x",
            per_chunk,
            note="paired per chunk; < 1: ours is faster",
        )
    )
    lc = res["loss_check"]
    out.append(
        record(
            f"{name}/loss_abs_diff",
            "loss",
            [abs(lc["ours"] - lc["plain"])],
            note=f"step-0 loss, eval mode: ours {lc['ours']:.6f}, plain {lc['plain']:.6f}",
        )
    )
    return out


def run(
    quick: bool,
    cwd: Path | None = None,
    only: tuple[str, ...] = (),
    measured_seconds: float | None = None,
    **projection: Any,
) -> dict[str, Any]:
    params = load_params()
    steps, val_every = (QUICK_STEPS, QUICK_VAL_EVERY) if quick else (None, VAL_EVERY)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    results, details = [], {}
    try:
        with contextlib.chdir(cwd or repro_schedule.ROOT):
            check_data()
            for method, setting in RUNS:
                if only and method not in only:
                    continue
                res = ttq_run(params, method, setting, steps, val_every)
                details[f"{method}-{setting}"] = res
                results += _records(res)
            proj = repro_schedule.project(params, measured_seconds=measured_seconds, **projection)
    finally:
        torch.set_num_threads(threads)
    if "skipped" in proj:
        results.append({"name": "make_repro_projection", "skipped": proj["skipped"]})
    else:
        for label, p in proj["projections"].items():
            results.append(record(f"make_repro/{label}", "s", [p["seconds"]]))
    if measured_seconds is not None:
        results.append(record("make_repro/measured (2 workers)", "s", [measured_seconds]))
    return {"results": results, "ttq": details, "projection": proj}


def main(argv: list[str] | None = None) -> int:
    """Run this group alone: ``<out>/ttq.json`` and the summary README beside it."""
    from benchmarks import common, report
    from mixseg import atomic

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="40 steps, validation every 20")
    parser.add_argument("--run", action="append", default=[], choices=[m for m, _ in RUNS])
    parser.add_argument("--cwd", default=str(repro_schedule.ROOT), help="project with the data")
    parser.add_argument("--out", default=str(repro_schedule.ROOT / "reports" / "bench"))
    parser.add_argument("--measured-seconds", type=float, help="wall time of the last make repro")
    parser.add_argument("--stage-overhead", type=float, default=repro_schedule.STAGE_OVERHEAD)
    parser.add_argument("--data-seconds", type=float, default=repro_schedule.DATA_SECONDS)
    parser.add_argument("--tail-seconds", type=float, default=repro_schedule.TAIL_SECONDS)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    res = run(
        args.quick,
        Path(args.cwd),
        tuple(args.run),
        args.measured_seconds,
        stage_overhead=args.stage_overhead,
        data_seconds=args.data_seconds,
        tail_seconds=args.tail_seconds,
    )
    results = res.pop("results")
    dt = round(time.perf_counter() - t0, 1)
    doc = common.document(NAME, args.quick, results, seconds=dt, **res)
    atomic.write_json(Path(args.out) / f"{NAME}.json", doc)
    print(report.section(NAME, doc))
    report.write_readme(Path(args.out))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
