"""The one training loop (paper section 4, "Implementation details").

``fit`` trains any registered method: it draws mixed batches (``data.datasets.make_batch``),
sums the method's named loss terms, steps Adam (or SGD), logs every term with dvclive and
validates periodically (3D Dice per validation volume, every head). CUDA with automatic mixed
precision when available, CPU otherwise; seeded; on CPU two runs give identical weights.

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
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from mixseg.config import TrainParams
from mixseg.data import datasets
from mixseg.infer import predict_labels
from mixseg.methods import Method
from mixseg.methods.base import HyperParams
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


def make_optimizer(model: torch.nn.Module, tp: TrainParams) -> torch.optim.Optimizer:
    if tp.optimizer == "adam":
        # betas (0.9, 0.99) as the reference training script.
        return torch.optim.Adam(
            model.parameters(), lr=tp.lr, betas=(0.9, 0.99), weight_decay=tp.weight_decay
        )
    return torch.optim.SGD(model.parameters(), lr=tp.lr, momentum=0.9, weight_decay=tp.weight_decay)


def make_scheduler(opt: torch.optim.Optimizer, tp: TrainParams, steps: int):
    if tp.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
        )
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)


def validate(model: torch.nn.Module, cases: list, heads: tuple[str, ...]) -> dict[str, float]:
    """Mean 3D Dice over validation volumes for each head (``val/dsc_<head>``)."""
    out = {}
    for head in heads:
        scores = [dice(predict_labels(model, c.image, head), c.label) for c in cases]
        out[f"val/dsc_{head}"] = float(np.mean(scores)) if scores else float("nan")
    return out


def config_hash(resolved: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()[:16]


def _atomic_torch_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


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
) -> dict[str, Any]:
    """Train one run and write ``out_dir/{model.pt, train.json, live/}``.

    Args:
        resolved: the run's resolved configuration (saved with the weights; its hash decides
            whether a scratch checkpoint may be resumed).
        max_steps: stop after this many steps *without* finishing the run (tests of resume).

    Returns:
        The ``train.json`` summary.
    """
    from dvclive import Live  # imported here: dvclive is slow to import and only fit needs it

    device, amp = device_and_amp()
    meta = datasets.read_splits(dataset)
    full_ids, partial_ids = datasets.patients_of(meta, setting, method.full_pool, ratio)
    full = datasets.load_pool(dataset, meta, full_ids, weak=False)
    weak = None
    if method.weak_batches:
        # The paper adds the partial labels of the fully labelled images to Dw (section 3.3).
        weak = datasets.load_pool(dataset, meta, full_ids + partial_ids, weak=True)
    val = datasets.val_cases(dataset, meta, "val")
    steps = total_steps(tp, len(full))
    batch_weak = tp.batch_weak if method.weak_batches else 0

    torch.manual_seed(seed)
    model = build_model(dims=2, base=tp.base, n_decoders=method.n_decoders, padding=tp.padding)
    model = model.to(device, memory_format=torch.channels_last)
    opt = make_optimizer(model, tp)
    sched = make_scheduler(opt, tp, steps)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    chash = config_hash(resolved)
    ckpt_path = scratch_dir / "checkpoint.pt"
    start, history = 0, []
    if ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        if state["config_hash"] == chash:
            model.load_state_dict(state["model"])
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
            batch = datasets.make_batch(step, seed, full, weak, tp.batch_full, batch_weak)
            batch = batch.to(device)
            x = batch.image.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, enabled=amp):
                logits = model(x)
            terms = method.objective([lg.float() for lg in logits], batch, hp)
            loss = sum(terms.values())
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            t_train += time.perf_counter() - ts
            done = step + 1
            rec: dict[str, Any] = {}
            if done % tp.log_every == 0 or done == steps:
                rec.update({f"train/{k}": float(v.detach()) for k, v in terms.items()})
                rec["train/loss"] = float(loss)
            if done % tp.val_every == 0 or done == steps:
                rec.update(validate(model, val, method.heads()))
            if rec:
                rec["step"] = done
                history.append(rec)
                _log(live, rec)
                bar.set_postfix(loss=f"{float(loss):.3f}")
            if done % tp.checkpoint_every == 0 and done < steps:
                _atomic_torch_save(
                    {
                        "config_hash": chash,
                        "model": model.state_dict(),
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
        "n_weak_images": 0 if weak is None else len(weak),
        "seconds": round(time.perf_counter() - t0, 2),
        "seconds_per_step": round(t_train / max(steps - start, 1), 4),
        "images_per_second": round(
            (steps - start) * (tp.batch_full + batch_weak) / max(t_train, 1e-9), 1
        ),
        "final": history[-1] if history else {},
    }
    _atomic_torch_save(
        {"model": model.state_dict(), "config": resolved, "n_decoders": method.n_decoders},
        out_dir / "model.pt",
    )
    (out_dir / "train.json").write_text(json.dumps(summary, indent=1) + "\n")
    shutil.rmtree(scratch_dir, ignore_errors=True)
    return summary


def _log(live, rec: dict[str, Any]) -> None:
    live.step = rec["step"]
    for key, value in rec.items():
        if key != "step":
            live.log_metric(key, value)
