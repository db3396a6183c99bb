"""The one training loop (paper section 4, "Implementation details").

``fit`` trains any registered method: it draws mixed batches (2D slices,
``data.datasets.make_batch``, or 3D patches, ``data.patches.make_batch3d``), runs
``train_step`` (the method's named loss terms, summed, one Adam or SGD step, then the method's
``after_step`` hook, e.g. an EMA update), logs every term with dvclive and validates
periodically (3D Dice per validation volume, every head from one forward pass). CUDA with
automatic mixed precision when available, CPU otherwise; seeded; on CPU two runs give identical
weights.

Resume: every ``checkpoint_every`` steps the full state (weights, optimiser, scheduler, step,
torch RNG, metric history) is written atomically to a *scratch* file outside the stage's
outputs, because DVC deletes a stage's outputs before re-running it. A re-run with the same
resolved configuration continues from it and ends with the same weights as an uninterrupted run
(the sampler is a pure function of (seed, step), see ``datasets``). The final ``model.pt`` (a
DVC output) holds the weights and the resolved configuration; it loads with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from mixseg import atomic
from mixseg.config import TrainParams
from mixseg.data import datasets
from mixseg.data.patches import VolumePool, make_batch3d
from mixseg.infer import predict_heads, to_labels
from mixseg.methods import Method
from mixseg.methods.base import Batch, HyperParams, StepContext
from mixseg.metrics import dice
from mixseg.models import build_model

log = logging.getLogger(__name__)


def device_and_amp() -> tuple[torch.device, bool]:
    """CUDA with mixed precision when present, else CPU in float32."""
    if torch.cuda.is_available():
        return torch.device("cuda"), True
    return torch.device("cpu"), False


def total_steps(tp: TrainParams, n_full_images: int) -> int:
    """``steps``, or ``epochs`` x iterations per epoch of the fully labelled images."""
    if (tp.steps is None) == (tp.epochs is None):
        raise ValueError("set exactly one of train.steps and train.epochs")
    if tp.steps is not None:
        return tp.steps
    return tp.epochs * datasets.steps_per_epoch(n_full_images, tp.batch_full)


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


def load_pools(
    dataset: str,
    method: Method,
    setting: str,
    ratio: int,
    tp: TrainParams,
    pseudo_from: Path | None,
) -> tuple[Any, Any, int]:
    """(fully labelled pool, pool of the other rows or None, other rows per batch).

    2D data gives slice pools (``datasets.Pool``), 3D data volume pools (``VolumePool``).
    The other rows are, by ``method.other_rows``: the partial labels of every image of the
    setting (the paper adds the partial labels of the fully labelled images to Dw, section
    3.3); the unlabelled images of the partially labelled patients (semi-supervised
    baselines); or their pseudo-masks by the run ``pseudo_from`` (proposals).
    """
    meta = datasets.read_splits(dataset)
    full_ids, partial_ids = datasets.patients_of(meta, setting, method.full_pool, ratio)
    volumes = datasets.load_volumes(dataset, meta, full_ids, "full")
    other, n_other = None, 0
    if method.weak_batches:
        if method.other_rows == "partial":
            other = datasets.load_volumes(dataset, meta, full_ids + partial_ids, "partial")
            n_other = tp.batch_weak
        elif method.other_rows == "none":
            other = datasets.load_volumes(dataset, meta, partial_ids, "none")
            n_other = tp.batch_unlabeled
        else:
            if pseudo_from is None:
                raise ValueError(f"method {method.name} needs the run whose pseudo-masks it uses")
            from mixseg.pseudo import pseudo_masks  # needs evaluate.load_model

            images = datasets.load_images(dataset, meta, partial_ids)
            other = (images, pseudo_masks(pseudo_from, images))
            n_other = tp.batch_weak
    pool = VolumePool if datasets.DIMS[dataset] == 3 else datasets.stack_pool
    return pool(*volumes), None if other is None else pool(*other), n_other


def train_step(
    model: torch.nn.Module,
    batch: Batch,
    method: Method,
    hp: HyperParams,
    ctx: StepContext,
    opt: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    sched,
    amp: bool,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One optimiser step of ``method`` on ``batch``: (loss, its named terms)."""
    logits: list[torch.Tensor] = []
    if not method.own_forward:
        with torch.autocast(ctx.x.device.type, enabled=amp):
            logits = model(ctx.x)
        logits = [lg.float() for lg in logits]
    terms = method.objective(logits, batch, hp, ctx)
    loss = sum(terms.values())
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    sched.step()
    if method.after_step is not None:
        method.after_step(model, ctx.aux, ctx.step, hp)
    return loss, terms


def config_hash(resolved: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()[:16]


def fit(
    *,
    dataset: str,
    method: Method,
    hp: HyperParams,
    tp: TrainParams,
    setting: str,
    ratio: int,
    seed: int,
    resolved: dict[str, Any],
    out_dir: Path,
    scratch_dir: Path,
    max_steps: int | None = None,
    pseudo_from: Path | None = None,
) -> dict[str, Any]:
    """Train one run and write ``out_dir/{model.pt, train.json, live/}``.

    Args:
        resolved: the run's resolved configuration (saved with the weights; its hash decides
            whether a scratch checkpoint may be resumed).
        max_steps: stop after this many steps *without* finishing the run (tests of resume).
        pseudo_from: ``model.pt`` of the run whose pseudo-masks the method trains on
            (``other_rows == "pseudo"``).

    Returns:
        The ``train.json`` summary.
    """
    from dvclive import Live  # imported here: dvclive is slow to import and only fit needs it

    device, amp = device_and_amp()
    dims = datasets.DIMS[dataset]
    full, other, n_other = load_pools(dataset, method, setting, ratio, tp, pseudo_from)
    val = datasets.val_cases(dataset, datasets.read_splits(dataset), "val")
    steps = total_steps(tp, len(full))
    if dims == 3 and tp.patch is None:
        raise ValueError(f"{dataset} is 3D: set train.patch and train.stride of its preset")

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
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    chash = config_hash(resolved)
    ckpt_path = scratch_dir / "checkpoint.pt"
    start, history = 0, []
    if ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        if state["config_hash"] == chash:
            model.load_state_dict(state["model"])
            for k, m in aux.items():
                m.load_state_dict(state["aux"][k])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            scaler.load_state_dict(state["scaler"])
            torch.set_rng_state(state["rng"])
            start, history = state["step"], state["history"]
            log.info("resuming %s from step %d", out_dir, start)
        else:
            log.warning("ignoring checkpoint %s: configuration changed", ckpt_path)

    live_dir = out_dir / "live"
    shutil.rmtree(live_dir, ignore_errors=True)
    t0, t_train = time.perf_counter(), 0.0
    with Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None) as live:
        for rec in history:  # replay what happened before an interruption
            _log(live, rec)
        model.train()
        bar = tqdm(range(start, steps), initial=start, total=steps, desc=str(out_dir), leave=False)
        for step in bar:
            ts = time.perf_counter()
            if dims == 3:
                batch = make_batch3d(step, seed, full, other, tp.batch_full, n_other, tp.patch)
            else:
                batch = datasets.make_batch(step, seed, full, other, tp.batch_full, n_other)
            batch = batch.to(device)
            x = batch.image.contiguous(memory_format=layout)
            ctx = StepContext(step=step, total_steps=steps, model=model, aux=aux, x=x)
            loss, terms = train_step(model, batch, method, hp, ctx, opt, scaler, sched, amp)
            t_train += time.perf_counter() - ts
            done = step + 1
            rec: dict[str, Any] = {}
            if done % tp.log_every == 0 or done == steps:
                rec.update({f"train/{k}": float(v.detach()) for k, v in terms.items()})
                rec["train/loss"] = float(loss.detach())
            if done % tp.val_every == 0 or done == steps:
                rec.update(validate(model, val, method.heads(), tp))
            if rec:
                rec["step"] = done
                history.append(rec)
                _log(live, rec)
                bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
            if done % tp.checkpoint_every == 0 and done < steps:
                atomic.torch_save(
                    {
                        "config_hash": chash,
                        "model": model.state_dict(),
                        "aux": {k: m.state_dict() for k, m in aux.items()},
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict(),
                        "scaler": scaler.state_dict(),
                        "rng": torch.get_rng_state(),
                        "step": done,
                        "history": history,
                    },
                    ckpt_path,
                )
            if max_steps is not None and done >= max_steps and done < steps:
                return {"interrupted_at": done}
    summary = {
        "steps": steps,
        "resumed_from": start,
        "device": str(device),
        "amp": amp,
        "n_full_images": len(full),
        "n_other_images": 0 if other is None else len(other),
        "seconds": round(time.perf_counter() - t0, 2),
        "seconds_per_step": round(t_train / max(steps - start, 1), 4),
        "images_per_second": round(
            (steps - start) * (tp.batch_full + n_other) / max(t_train, 1e-9), 1
        ),
        "final": history[-1] if history else {},
    }
    atomic.torch_save(
        {
            "model": model.state_dict(),
            "config": resolved,
            "n_decoders": method.n_decoders,
            "n_networks": method.n_networks,
            "dims": dims,
        },
        out_dir / "model.pt",
    )
    atomic.write_json(out_dir / "train.json", summary)
    shutil.rmtree(scratch_dir, ignore_errors=True)
    return summary


def _log(live, rec: dict[str, Any]) -> None:
    live.step = rec["step"]
    for key, value in rec.items():
        if key != "step":
            live.log_metric(key, value)
