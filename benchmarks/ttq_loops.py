"""The two training loops that ``bench_ttq`` races, and the time-to-quality measure.

``ttq_run`` trains one run twice, chunk by chunk in turn: ``ours`` (``train.build_trainer`` +
``Trainer.step``, ``fit``'s loop) and ``Plain`` (the simplest PyTorch loop on the same weights
and batches), validating both after every chunk; ``time_to_quality`` reads a validation curve.
See ``bench_ttq``'s docstring for what is measured and why.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

TARGET = 0.95  # time to quality: to this fraction of the run's best validation DSC


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
            and hp.idle_decoders == "run"
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
    steps = steps or train.total_steps(run.tp, len(sampler.full), sampler.batch_full)
    val = datasets.val_cases("acdc", datasets.read_splits("acdc"), "val")
    head = inference_head(run.recipe.outputs())
    cpu = torch.device("cpu")
    trainer = train.build_trainer(2, run.recipe, run.hp, run.tp, run.seed, steps, cpu, None)
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
