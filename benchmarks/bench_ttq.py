"""Time to quality (issue 18): how long our training loop takes to reach a good model, against a
plain PyTorch loop, and what that makes of `make repro`'s wall time.

Why not images per second: a user waits for a model that segments well, not for a step.
``bench_train`` shows our step is faster than a plain one, but a faster step would be worth
nothing if it learned less per step (channels-last kernels, the foreach Adam update, the split
BatchNorm passes all change the arithmetic). Here both loops train the same run to the end and
are compared on the clock *at equal quality*.

Measured, for three runs of the cpu preset on ACDC (``RUNS``: Lower bound Set-3, Upper bound
``all``, KL+Ent Set-3 read at its student head), each resolved by ``runs.resolve_run`` from the
project's ``params.yaml`` and its prepared data (``data/processed/acdc``, ``data/weak/acdc``):

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
until the val DSC first reaches ``TARGET`` (95 %) of that converged value. Ratios ours/plain of
time to quality (< 1: ours is sooner) and of seconds per step (paired per chunk); also the time
to 95 % of the lower of the two converged values (a common bar, in case one side converges
lower). Then ``repro_schedule.project``: `make repro` projected for 2, 8 and queued workers.

Reading the numbers: time to quality is known to one validation interval (25 steps); the two
loops start from the same weights and batches but do not follow the same trajectory (float
rounding differs with the memory format and the Adam kernel, and dropout draws its masks in
memory order, so channels-last and contiguous activations get different masks): their curves
are two samples of the same training, and a ratio of time to quality far from the ratio of
seconds per step says that one sample converged sooner, not that a loop learns better.

``--quick``: 40 steps, validation every 20. Full: the preset's steps, every 25.

    python benchmarks/bench_ttq.py --quick --run lower --cwd /path/to/project
    python benchmarks/bench_ttq.py --measured-seconds 2433   # + the make repro projection
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import repro_schedule  # noqa: E402
from benchmarks.common import load_params, record  # noqa: E402

NAME = "ttq"
RUNS = (("lower", "set3"), ("upper", "all"), ("kl_ent", "set3"))
TARGET = 0.95
QUICK_STEPS, QUICK_VAL_EVERY, VAL_EVERY = 40, 20, 25


def time_to_quality(
    curve: list[dict[str, float]], fraction: float = TARGET, bar: float | None = None
) -> dict[str, Any]:
    """When a validation curve first reaches ``fraction`` of its best value.

    Args:
        curve: points ``{"step", "core_seconds", "dsc"}`` in step order (NaN DSC ignored).
        fraction: in (0, 1].
        bar: the value to reach, instead of ``fraction`` x the curve's best.

    Returns:
        ``{"converged": best DSC, "threshold", "step", "core_seconds"}`` of the first point at
        or above the threshold.

    Raises:
        ValueError: no finite DSC on the curve, or ``fraction`` outside (0, 1].
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    finite = [p for p in curve if not math.isnan(p["dsc"])]
    if not finite:
        raise ValueError("the curve has no finite DSC")
    best = max(p["dsc"] for p in finite)
    threshold = fraction * best if bar is None else bar
    hit = next(p for p in finite if p["dsc"] >= threshold) if threshold <= best else None
    return {
        "converged": best,
        "threshold": threshold,
        "step": hit["step"] if hit else None,
        "core_seconds": hit["core_seconds"] if hit else None,
    }


class Plain:
    """The simplest loop for a resolved ``run`` (``lower``, ``upper`` or ``kl_ent``): its
    architecture in the default memory format with ``weights`` (a state dict, e.g. ours at
    step 0), ``model(x)``, ``F.*`` losses, Adam, ``CosineAnnealingLR`` over ``steps``.

    Raises:
        ValueError: another method, or settings the hand-written loss does not implement.
    """

    def __init__(self, run, weights: dict[str, torch.Tensor], steps: int):
        from mixseg.models import build_model

        tp, hp, method = run.tp, run.hp, run.recipe
        if method.name not in ("lower", "upper", "kl_ent"):
            raise ValueError(f"no plain loop written for {method.name!r}")
        if tp.optimizer != "adam" or tp.lr_schedule != "cosine":
            raise ValueError("the plain loop is Adam with a cosine schedule")
        if method.name == "kl_ent" and not (
            hp.divergence == "kl"
            and hp.kd.smoothing
            and hp.kd.temperature == 1.0
            and hp.kd.direction == "teacher_student"
            and hp.kd.detach_teacher
            and hp.entropy_on == "partial"
            and hp.mixed_forward == "split"
        ):
            raise ValueError("the plain kl_ent loss is written for params.yaml's defaults")
        self.method, self.hp = method.name, hp
        self.model = build_model(
            dims=2, base=tp.base, n_decoders=method.n_decoders, padding=tp.padding
        )
        self.model.load_state_dict(weights)  # copies into contiguous parameters
        self.opt = torch.optim.Adam(
            self.model.parameters(), lr=tp.lr, betas=(0.9, 0.99), weight_decay=tp.weight_decay
        )
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, T_max=steps)

    def loss(self, batch) -> torch.Tensor:
        if self.method in ("lower", "upper"):
            (logits,) = self.model(batch.image)
            return F.cross_entropy(logits, batch.mask)
        hp, nf = self.hp, int(batch.is_full.sum())
        teacher, student = self.model(batch.image[:nf])  # fully labelled rows
        _, student_w = self.model(batch.image[nf:])  # partially labelled rows
        ce = F.cross_entropy(teacher, batch.mask[:nf])
        weak = batch.weak[nf:]
        pce = F.cross_entropy(student_w, weak, ignore_index=255, reduction="sum")
        pce = pce / (weak != 255).sum().clamp_min(1)
        # Eq. 3 on the "softmax over softmax" probabilities, teacher detached.
        pt = F.softmax(F.softmax(teacher, 1), 1).detach()
        kd = F.kl_div(F.log_softmax(F.softmax(student, 1), 1), pt, reduction="none").sum(1).mean()
        logp = F.log_softmax(student_w, 1)
        ent = -(logp.exp() * logp).sum(1).mean()
        return ce + hp.lambda_w * pce + hp.lambda_kd * kd + hp.lambda_ent * ent

    def step(self, batch, step: int) -> None:
        loss = self.loss(batch)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.sched.step()


@dataclasses.dataclass
class Side:
    """One loop being trained chunk by chunk, with its clocks and validation curve."""

    model: torch.nn.Module
    step: Callable[[Any, int], Any]
    rng: torch.Tensor
    core: float = 0.0
    wall: float = 0.0
    val_core: float = 0.0
    chunks: list[float] = dataclasses.field(default_factory=list)  # core-seconds per step
    curve: list[dict[str, float]] = dataclasses.field(default_factory=list)


def _chunk(side: Side, sampler, start: int, stop: int, validate: Callable) -> None:
    """Steps ``start..stop-1`` of ``side`` (timed), then a validation (timed apart)."""
    torch.set_rng_state(side.rng)
    side.model.train()
    c0, w0 = time.process_time(), time.perf_counter()
    for step in range(start, stop):
        side.step(sampler.batch(step), step)
    dc = time.process_time() - c0
    side.wall += time.perf_counter() - w0
    side.core += dc
    side.chunks.append(dc / (stop - start))
    side.rng = torch.get_rng_state()
    v0 = time.process_time()
    dsc = validate(side.model)
    side.val_core += time.process_time() - v0
    side.curve.append({"step": stop, "core_seconds": round(side.core, 3), "dsc": dsc})


def check_data(dataset: str = "acdc") -> None:
    """Raises FileNotFoundError, naming the DVC stage to run, if ``dataset``'s prepared cases
    or partial labels are missing from the working directory."""
    from mixseg import paths

    need = [paths.splits_file(dataset), paths.weak_dir(dataset)]
    missing = [str(p) for p in need if not p.exists()]
    if missing:
        raise FileNotFoundError(
            f"{', '.join(missing)} missing (in {Path.cwd()}): run "
            f"`dvc repro erode-labels@{dataset}` first (or pass --cwd <project with data>)"
        )


def ttq_run(params: dict, method: str, setting: str, steps: int | None, val_every: int) -> dict:
    """Ours and plain trained side by side on one run: curves, clocks, time to quality."""
    from mixseg import runs, train
    from mixseg.data import datasets
    from mixseg.heads import inference_head
    from mixseg.train_data import load_sampler

    run = runs.resolve_run(params, dataset="acdc", method=method, setting=setting, seed=0)
    sampler = load_sampler(run)
    steps = steps or train.total_steps(run.tp, len(sampler.full))
    val = datasets.val_cases("acdc", datasets.read_splits("acdc"), "val")
    head = inference_head(run.recipe.outputs())
    cpu = torch.device("cpu")
    trainer = train.build_trainer(2, run.recipe, run.hp, run.tp, run.seed, steps, cpu, False)
    rng = torch.get_rng_state()  # fit's stream after build_trainer; plain gets a copy of it
    plain = Plain(run, trainer.model.state_dict(), steps)
    batch0 = sampler.batch(0)
    for m in (trainer.model, plain.model):
        m.eval()  # no dropout, BN running statistics: the two losses must agree
    with torch.no_grad():
        l_ours, l_plain = float(trainer.loss(batch0, 0)[0]), float(plain.loss(batch0))
    sides = {
        "ours": Side(trainer.model, trainer.step, rng.clone()),
        "plain": Side(plain.model, plain.step, rng.clone()),
    }

    def validate(model) -> float:
        return train.validate(model, val, (head,), run.tp)[f"val/dsc_{head}"]

    for i, start in enumerate(range(0, steps, val_every)):
        order = ("ours", "plain") if i % 2 == 0 else ("plain", "ours")
        for key in order:
            _chunk(sides[key], sampler, start, min(start + val_every, steps), validate)
    out: dict[str, Any] = {
        "run": run.name,
        "setting": setting,
        "head": head,
        "steps": steps,
        "val_every": val_every,
        "val_cases": len(val),
        "loss_check": {"ours": l_ours, "plain": l_plain},
    }
    bar = TARGET * min(time_to_quality(s.curve)["converged"] for s in sides.values())
    for key, s in sides.items():
        out[key] = {
            "curve": s.curve,
            "ttq": time_to_quality(s.curve),
            "ttq_common": time_to_quality(s.curve, bar=bar),
            "train_core_seconds": round(s.core, 3),
            "train_wall_seconds": round(s.wall, 3),
            "val_core_seconds": round(s.val_core, 3),
            "seconds_per_step": s.chunks,
        }
    return out


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
