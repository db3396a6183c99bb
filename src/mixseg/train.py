"""The one training loop (paper section 4, "Implementation details").

``fit`` trains any registered method. It is assembled from parts with one job each: the run's
batch sampler (``train_data.load_sampler``: 2D slices or 3D patches behind one ``batch(step)``),
its networks and optimiser (``build_trainer``), the resumable scratch checkpoint and the final
``model.pt`` (``checkpoint``). The loop itself draws the batch of each step, runs
``Trainer.step`` (the method's named loss terms, summed, one Adam or SGD step, then the method's
``after_step`` hook, e.g. an EMA update), logs every term with dvclive and validates
periodically (3D Dice per validation volume, every head from one forward pass). CUDA when
available, CPU otherwise; ``train.precision: mixed`` runs the forward pass under autocast
(``device_and_amp``); seeded; on CPU two runs give identical weights.

Resume: a re-run with the same resolved configuration continues from the scratch checkpoint
and ends with the same weights as an uninterrupted run (the sampler is a pure function of
(seed, step), see ``data.sampler``).

Stable outputs: everything a run writes except ``timing.json`` (wall-clock seconds, speed, the
step it resumed from) is a function of its configuration, so a repeated run leaves the same DVC
hashes and nothing downstream goes stale; timings are a separate output nothing reads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import shutil
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from mixseg import atomic, checkpoint, paths, selection
from mixseg.config import TrainParams
from mixseg.data import datasets
from mixseg.data.batch import Batch
from mixseg.data.sampler import Sampler
from mixseg.heads import ENSEMBLE, inference_head
from mixseg.infer import predict_heads, to_labels
from mixseg.methods.base import IDLE_DECODERS, HyperParams, Method, StepContext
from mixseg.metrics import dice
from mixseg.models import build_model
from mixseg.runs import Run
from mixseg.train_data import load_sampler

log = logging.getLogger(__name__)
Phase = Callable[[str], contextlib.AbstractContextManager]
Heads = tuple[int, ...] | None  # decoders that get gradients on a group of rows (None: all)


def device_and_amp(precision: str) -> tuple[torch.device, torch.dtype | None]:
    """The training device (CUDA when present, else the CPU) and the autocast dtype of its
    forward pass (None: float32) under ``train.precision``.

    ``mixed``: float16 on CUDA (with a gradient scaler, ``build_trainer``); bfloat16 on a CPU
    with native bfloat16 instructions (AVX512-BF16 or AMX: oneDNN's bfloat16 convolutions);
    float32 on other CPUs, where bfloat16 is emulated and slower. ``float32``: no autocast
    anywhere (the cpu presets: Left-Atrium runs collapsed under bfloat16, README
    "Performance").
    """
    mixed = precision == "mixed"
    if torch.cuda.is_available():
        return torch.device("cuda"), torch.float16 if mixed else None
    native_bf16 = torch.backends.mkldnn.is_available() and bool(
        torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )
    return torch.device("cpu"), torch.bfloat16 if mixed and native_bf16 else None


def total_steps(tp: TrainParams, n_full_images: int, batch_full: int) -> int:
    """``steps``, or ``epochs`` x iterations per epoch of the fully labelled images.

    ``batch_full`` is the fully labelled rows the sampler draws per step (``sampler.batch_full``:
    ``tp.batch_full``, or more for the Upper bound, ``train_data.full_rows``), so an epoch is
    one pass over those images however many of them a step holds."""
    if (tp.steps is None) == (tp.epochs is None):
        raise ValueError("set exactly one of train.steps and train.epochs")
    if tp.steps is not None:
        return tp.steps
    return tp.epochs * datasets.steps_per_epoch(n_full_images, batch_full)


def make_optimizer(params: list[torch.nn.Parameter], tp: TrainParams) -> torch.optim.Optimizer:
    """Adam (betas 0.9/0.99, as the reference training script) or SGD with momentum 0.9 (UA-MT's
    and the paper's choice for the Left Atrium). The update is the fused kernel on CUDA and the
    multi-tensor (foreach) one on CPU: 2.3 ms instead of 3.5 ms per Adam step of the dual UNet
    at the cpu preset (PyTorch's CPU default is one tensor at a time)."""
    kernel = {"fused": True} if torch.cuda.is_available() else {"foreach": True}
    if tp.optimizer == "adam":
        return torch.optim.Adam(
            params, lr=tp.lr, betas=(0.9, 0.99), weight_decay=tp.weight_decay, **kernel
        )
    return torch.optim.SGD(params, lr=tp.lr, momentum=0.9, weight_decay=tp.weight_decay, **kernel)


def make_scheduler(opt: torch.optim.Optimizer, tp: TrainParams, steps: int):
    if tp.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
        )
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)


def forward_rows(
    model: nn.Module,
    x: torch.Tensor,
    is_full: torch.Tensor,
    mode: str | None,
    grad_heads: tuple[Heads, Heads] = (None, None),
    idle: str | None = "run",
) -> list[torch.Tensor]:
    """Logits of every decoder for a batch whose first rows are the fully labelled ones.

    ``joint`` (or None: the batch has one group) is one forward pass, as the reference code's
    ``net(cat(full, full, weak))``: BatchNorm normalises the fully labelled rows with statistics
    that the other rows dominate (8 of 12 at the cpu preset), and the loss on the fully labelled
    rows reaches the other rows' features through those statistics. ``split`` runs the fully
    labelled rows and the other rows as two passes: each group is normalised by its own batch
    statistics, so rows with zero loss weight leave the gradient of the fully supervised loss
    unchanged; the running statistics (used at test time) are updated by both passes, the fully
    labelled ones first. README "Ambiguities" has the measurements behind the default.

    ``grad_heads`` (``Method.full_heads``, ``Method.other_heads``; split only): for the fully
    labelled rows and for the other rows, the decoders whose logits the objective reads there
    (None: all). ``idle`` (``idle_decoders``) says what happens to the others on those rows:
    ``run``, they run without autograd: their forward pass, running statistics and dropout
    draws are as if differentiated, so the numbers do not change, but the backward pass
    through them, which would only carry zeros, is saved (a dual-branch teacher's decoder on
    the partially labelled rows: 12 % of an ACDC KL+Ent run, 25 % of an LA one); ``skip``,
    they do not run: their running statistics then come from the rows they learn from only,
    and their logits there are NaN, so that an objective reading them fails loudly.

    Args:
        x: (B, 1, ...) images; is_full: (B,) bool, True for a prefix of the rows.
        mode: ``joint`` | ``split`` | None.
        idle: ``run`` | ``skip`` (split only).

    Returns:
        One (B, C, ...) logits tensor per decoder, rows in the order of ``x``.
    """
    n_full = int(is_full.sum())
    if mode != "split" or n_full in (0, len(is_full)):
        return model(x)
    if not bool(is_full[:n_full].all()):
        raise ValueError("forward_rows: the fully labelled rows must come first")
    if idle not in IDLE_DECODERS:
        raise ValueError(f"forward_rows: idle must be one of {IDLE_DECODERS}, got {idle!r}")
    full, other = (
        _group_logits(model, rows, heads, idle)
        for rows, heads in zip((x[:n_full], x[n_full:]), grad_heads, strict=True)
    )
    return [torch.cat(pair) for pair in zip(full, other, strict=True)]


def _group_logits(model: nn.Module, rows: torch.Tensor, heads: Heads, idle: str):
    """Every decoder's logits on one row group; those not in ``heads`` (None: all) run without
    autograd, or are NaN without running (``idle: skip``)."""
    if heads is None:
        return model(rows)
    idle_heads = [i for i in range(model.n_decoders) if i not in heads]
    if idle == "run":
        return model(rows, no_grad=idle_heads)
    ran = dict(zip(heads, model(rows, heads=heads), strict=True))
    like = ran[heads[0]]
    return [
        ran[i] if i in ran else torch.full_like(like, math.nan) for i in range(model.n_decoders)
    ]


@dataclasses.dataclass
class Trainer:
    """A run's networks, optimiser and step: what the loop drives and a checkpoint saves.

    Attributes:
        model: the network being trained.
        aux: the method's extra modules (``Method.make_aux``), e.g. an EMA teacher.
        layout: memory format of the network and its input (channels-last in 2D).
        amp: the autocast dtype of the forward pass (``device_and_amp``; None: float32).
    """

    model: nn.Module
    aux: dict[str, nn.Module]
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    method: Method
    hp: HyperParams
    total_steps: int
    device: torch.device
    amp: torch.dtype | None
    layout: torch.memory_format

    def loss(
        self, batch: Batch, step: int, phase: Phase = contextlib.nullcontext
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The method's loss on ``batch`` (on the device) at ``step``: (sum, named terms).

        ``phase(name)`` wraps the forward and the objective (see ``step``).
        """
        x = batch.image.contiguous(memory_format=self.layout)
        ctx = StepContext(
            step=step, total_steps=self.total_steps, model=self.model, aux=self.aux, x=x
        )
        logits: list[torch.Tensor] = []
        if not self.method.own_forward:
            with (
                phase("forward"),
                torch.autocast(x.device.type, dtype=self.amp, enabled=self.amp is not None),
            ):
                logits = forward_rows(
                    self.model,
                    x,
                    batch.is_full,
                    self.hp.mixed_forward,
                    (self.method.full_heads, self.method.other_heads),
                    self.hp.idle_decoders or "run",
                )
            logits = [lg.float() for lg in logits]
        with phase("objective"):
            terms = self.method.objective(logits, batch, self.hp, ctx)
            loss = sum(terms.values())
        return loss, terms

    def step(
        self, batch: Batch, step: int, phase: Phase = contextlib.nullcontext
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One optimiser step of the method on ``batch``: (loss, its named terms).

        ``phase(name)`` wraps the forward, objective, backward and optimizer parts (a profiler
        labels them with ``torch.profiler.record_function``; training leaves it a no-op).
        """
        loss, terms = self.loss(batch.to(self.device), step, phase)
        with phase("backward"):
            self.opt.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
        with phase("optimizer"):
            self.scaler.step(self.opt)
            self.scaler.update()
            self.sched.step()
            if self.method.after_step is not None:
                self.method.after_step(self.model, self.aux, step, self.hp)
        return loss, terms


def build_trainer(
    dims: int,
    method: Method,
    hp: HyperParams,
    tp: TrainParams,
    seed: int,
    steps: int,
    device: torch.device,
    amp: torch.dtype | None,
) -> Trainer:
    """The seeded network of ``method`` (and its extra modules) on ``device``, with its
    optimiser, LR schedule over ``steps`` steps and gradient scaler (active under float16
    autocast only: bfloat16 has float32's exponent range)."""
    torch.manual_seed(seed)
    model = build_model(
        dims=dims,
        base=tp.base,
        n_decoders=method.n_decoders,
        padding=tp.padding,
        n_networks=method.n_networks,
    )
    layout = torch.channels_last if dims == 2 else torch.contiguous_format
    model = model.to(device, memory_format=layout)
    aux = {} if method.make_aux is None else method.make_aux(model, hp)
    aux = {k: m.to(device, memory_format=layout) for k, m in aux.items()}
    trainable = list(model.parameters()) + [
        p for m in aux.values() for p in m.parameters() if p.requires_grad
    ]
    opt = make_optimizer(trainable, tp)
    sched = make_scheduler(opt, tp, steps)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == torch.float16)
    return Trainer(model, aux, opt, sched, scaler, method, hp, steps, device, amp, layout)


def validate(
    model: torch.nn.Module, cases: list, heads: tuple[str, ...], tp: TrainParams
) -> dict[str, float]:
    """Mean 3D Dice over validation volumes for each head (``val/dsc_<head>``); one forward
    pass per volume serves every head."""
    scores: dict[str, list[float]] = {h: [] for h in heads}
    for c in cases:
        probs = predict_heads(model, c.image, heads, window=tp.patch, stride=tp.stride)
        for head in heads:
            scores[head].append(dice(to_labels(probs[head]), c.label))
    return {f"val/dsc_{h}": float(np.mean(v)) if v else float("nan") for h, v in scores.items()}


def fit(run: Run, *, max_steps: int | None = None) -> dict[str, Any]:
    """Train ``run`` (``runs.resolve_run``): ``model.pt`` and ``timing.json`` in ``run.out_dir``
    (DVC-cached), ``train.json`` and dvclive's ``live/`` in ``run.results_dir`` (git-tracked).

    ``max_steps``: stop after this many steps *without* finishing the run (tests of resume).
    Returns ``train.json`` and ``timing.json`` merged, or ``{"interrupted_at": step}``.
    """
    from dvclive import Live  # imported here: dvclive is slow to import and only fit needs it

    tp, out_dir = run.tp, run.out_dir
    if tp.threads:
        torch.set_num_threads(tp.threads)
    device, amp = device_and_amp(tp.precision)
    sampler = load_sampler(run)
    val = datasets.val_cases(run.dataset, datasets.read_splits(run.dataset), "val")
    steps = total_steps(tp, len(sampler.full), sampler.batch_full)
    trainer = build_trainer(
        datasets.DIMS[run.dataset], run.recipe, run.hp, tp, run.seed, steps, device, amp
    )
    scratch = checkpoint.Scratch(
        run.scratch_dir / "checkpoint.pt", checkpoint.config_hash(run.config())
    )
    best = _best(run)
    start, history = scratch.resume(trainer, device, best)
    shutil.rmtree(run.live_dir, ignore_errors=True)
    t0, t_train, heads = time.perf_counter(), 0.0, run.recipe.heads()
    with Live(dir=str(run.live_dir), dvcyaml=None, save_dvc_exp=False, report=None) as live:
        for rec in history:  # replay what happened before an interruption
            _log(live, rec)
        trainer.model.train()
        bar = tqdm(range(start, steps), initial=start, total=steps, desc=str(out_dir), leave=False)
        for step in bar:
            ts = time.perf_counter()
            loss, terms = trainer.step(sampler.batch(step), step)
            t_train += time.perf_counter() - ts
            done = step + 1
            rec = _record(
                done, steps, tp, loss, terms, lambda: validate(trainer.model, val, heads, tp)
            )
            if rec:
                _check_finite(rec, run, tp)
                history.append(rec)
                _log(live, rec)
                best.offer(rec, trainer.model)
                bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
            if done % tp.checkpoint_every == 0 and done < steps:
                scratch.save(trainer, done, history, best)
            if max_steps is not None and max_steps <= done < steps:
                return {"interrupted_at": done}
    head_weights = best.others(trainer.model)  # before restore: it may need the last weights
    best.restore(trainer.model)
    head_steps = best.head_steps()
    selected = selection.selected_record(run.tp.select_head, best.summary(steps), head_steps)
    summary = _summary(steps, trainer, sampler, history) | {"selected": selected}
    checkpoint.save_model(
        out_dir / "model.pt",
        trainer,
        run.config(),
        dims=datasets.DIMS[run.dataset],
        head_weights=head_weights,
        head_steps=head_steps,
    )
    where = (run.dataset, run.setting, run.name, run.seed)
    atomic.write_json(paths.train_summary(*where), summary)
    timing = _timing(steps, start, sampler, (time.perf_counter() - t0, t_train))
    atomic.write_json(paths.timing_file(*where), timing)
    shutil.rmtree(run.scratch_dir, ignore_errors=True)
    return summary | timing


def _best(run: Run) -> selection.Selection:
    """What ``train.select: best`` compares: the Dice of the head the run is evaluated with,
    the student of a dual-branch network (the reference code's choice), the ensemble of
    co-trained networks (Table 3 reads it), else the only head. A dual-branch network also
    keeps every other head's weights at that head's own best Dice (``selection.EachHead``),
    under either ``select_head``, so that it can be evaluated under ``each`` without training
    again (``pipeline/evaluate.py``); co-trained networks and single heads keep one
    selection. Of equal scores the later or the earlier validation: ``train.select_ties``."""
    if run.tp.select == "last":
        return selection.Best(None)
    recipe, ties = run.recipe, run.tp.select_ties
    if recipe.n_networks > 1:
        return selection.Best(f"val/dsc_{ENSEMBLE}", ties)
    head, heads = inference_head(recipe.outputs()), recipe.heads()
    if len(heads) > 1:
        return selection.EachHead.of(head, heads, ties)
    return selection.Best(f"val/dsc_{head}", ties)


def _record(
    done: int,
    steps: int,
    tp: TrainParams,
    loss: torch.Tensor,
    terms: dict[str, torch.Tensor],
    validation: Callable[[], dict[str, float]],
) -> dict[str, Any]:
    """What is logged after ``done`` steps: the loss terms every ``log_every`` steps, the
    validation scores every ``val_every`` steps (both at the end), then ``step``; or nothing."""
    rec: dict[str, Any] = {}
    if done % tp.log_every == 0 or done == steps:
        rec.update({f"train/{k}": float(v.detach()) for k, v in terms.items()})
        rec["train/loss"] = float(loss.detach())
    if done % tp.val_every == 0 or done == steps:
        rec.update(validation())
    return {**rec, "step": done} if rec else {}


def _check_finite(rec: dict[str, Any], run: Run, tp: TrainParams) -> None:
    """Stop a run whose logged loss is no longer finite: its weights are NaN from then on, and
    finishing would write a model.pt that segments nothing (LA under bfloat16 did, README
    "Performance"). The scratch checkpoint of the last finite record stays for inspection."""
    loss = rec.get("train/loss")
    if loss is not None and not math.isfinite(loss):
        raise FloatingPointError(
            f"{run.dataset} {run.setting} {run.name} seed {run.seed}: training loss {loss} at "
            f"step {rec['step']} (precision: {tp.precision}); the run is stopped rather than "
            "finished with non-finite weights. Under precision: mixed on a CPU, try float32."
        )


def _summary(
    steps: int, trainer: Trainer, sampler: Sampler, history: list[dict[str, Any]]
) -> dict[str, Any]:
    """``train.json``: what the run was (steps, device, sizes) and its last record; no
    wall-clock value, so a repeated run writes the same bytes."""
    return {
        "steps": steps,
        "device": str(trainer.device),
        "amp": None if trainer.amp is None else str(trainer.amp).removeprefix("torch."),
        "n_full_images": len(sampler.full),
        "n_other_images": 0 if sampler.other is None else len(sampler.other),
        "final": history[-1] if history else {},
    }


def _timing(
    steps: int, start: int, sampler: Sampler, seconds: tuple[float, float]
) -> dict[str, Any]:
    """``timing.json``: how this execution went: total and per-step seconds, training images
    per second, and the step it resumed from (0 for a run from scratch)."""
    total, training = seconds
    rows = sampler.batch_full + sampler.batch_other
    return {
        "resumed_from": start,
        "seconds": round(total, 2),
        "seconds_per_step": round(training / max(steps - start, 1), 4),
        "images_per_second": round((steps - start) * rows / max(training, 1e-9), 1),
    }


def _log(live, rec: dict[str, Any]) -> None:
    live.step = rec["step"]
    for key, value in rec.items():
        if key != "step":
            live.log_metric(key, value)
