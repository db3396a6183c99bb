"""Profile of one training step at the cpu preset, and timed what-ifs for the waste it shows.

1. ``torch.profiler`` (CPU) over a few steps of ``bench_train.Ours`` (fit's loop body) with the
   phases labelled (make_batch, forward, objective, backward, optimizer): the phases' share of
   the step and the top operators by self CPU time.
2. What-ifs, each timed in turn with ours (paired ratios; > 1 means the variant is faster).
   They are *proposals*: nothing in ``src/`` changes.
   - ``teacher_on_full_rows``: the teacher decoder run on the fully labelled rows only. kl_ent
     uses the teacher's logits on those rows only (CE and the distillation target); note it
     also changes the teacher decoder's BatchNorm batch statistics (4 images instead of 12).
   - ``contiguous``: model and input in the default memory format instead of channels-last.
   - ``shared_skip_resize``: each encoder skip resized once for both decoders (same outputs).
   - ``fused_adam``: ``torch.optim.Adam(fused=True)`` instead of the default implementation.
3. Validation, as ``fit`` runs it every ``val_every`` steps (``train.validate``: every head from
   one forward pass of both decoders, applied from this profile's proposal) on 10 canonical
   volumes (the cpu preset's validation split: 5 patients x ED/ES), against what it replaced
   (one ``predict_labels`` pass per head, 3 heads for a dual model): the before/after ratio.
4. The resumable checkpoint ``fit`` writes every ``checkpoint_every`` steps, amortised.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from benchmarks.bench_train import Ours, _configs
from benchmarks.common import load_params, record, timed, timed_interleaved
from benchmarks.volumes import canonical_volumes
from mixseg.heads import HEADS

NAME = "profile"
PHASES = ("make_batch", "forward", "objective", "backward", "optimizer")


class _Variant(Ours):
    """Ours with the network's forward pass replaced by ``forward`` (``Trainer.step`` calls
    ``model(x)``, so the real step runs the variant)."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__(cfg)
        self.model.forward = self.forward

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError


class TeacherOnFullRows(_Variant):
    """Ours, but decoder 0 (teacher) sees only the fully labelled rows (the first ``nf``).

    The objective indexes ``logits[TEACHER][batch.is_full]``, so the teacher tensor is padded
    back to the batch size with zeros on the rows it never reads.
    """

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        m, nf = self.model, self.cfg["batch_full"]
        centre, _, skips = m.encode(x)
        student = m.decoders[1](centre, skips)
        teacher = m.decoders[0](centre[:nf], [s[:nf] for s in skips])
        pad = teacher.new_zeros((x.shape[0] - nf, *teacher.shape[1:]))
        return [torch.cat([teacher, pad]), student]


class SharedSkipResize(_Variant):
    """Ours, with each encoder skip resized once and shared by both decoders (the UNet resizes
    the *pooled* encoder outputs bilinearly to every decoder's size: the two decoders resize the
    same tensors to the same sizes). Outputs are identical; gradients equal up to summation
    order."""

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        from mixseg.models.unet import _resize

        m = self.model
        centre, _, skips = m.encode(x)
        cache: dict = {}

        def resize(e: torch.Tensor, size) -> torch.Tensor:
            key = (id(e), tuple(size))
            if key not in cache:
                cache[key] = _resize(e, size)
            return cache[key]

        return [_resize(dec(centre, skips, resize), x.shape[2:]) for dec in m.decoders]


def _fused_adam(cfg) -> Ours:
    """Ours with ``torch.optim.Adam(..., fused=True)`` (same betas and lr; constant LR)."""
    o = Ours(cfg)
    o.trainer.opt = torch.optim.Adam(
        o.model.parameters(), lr=cfg["lr"], betas=(0.9, 0.99), fused=True
    )
    o.trainer.sched = torch.optim.lr_scheduler.LambdaLR(o.trainer.opt, lambda s: 1.0)
    return o


def _profile(cfg, steps: int) -> tuple[dict[str, float], list[dict[str, Any]], float]:
    from torch.profiler import ProfilerActivity, profile

    ours = Ours(cfg, label_phases=True)
    for _ in range(2):
        ours.step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            ours.step()
    events = prof.key_averages()
    phases = {}
    for ev in events:
        if ev.key in PHASES:
            phases[ev.key] = ev.cpu_time_total / 1e3 / steps  # ms per step
    ops = sorted(
        (ev for ev in events if ev.key not in PHASES and not ev.key.startswith("ProfilerStep")),
        key=lambda ev: ev.self_cpu_time_total,
        reverse=True,
    )
    total_self = sum(ev.self_cpu_time_total for ev in events if ev.key not in PHASES)
    top = [
        {
            "op": ev.key,
            "self_ms_per_step": round(ev.self_cpu_time_total / 1e3 / steps, 3),
            "share_of_self_time": round(ev.self_cpu_time_total / total_self, 4),
            "calls_per_step": ev.count / steps,
        }
        for ev in ops[:20]
    ]
    return phases, top, total_self / 1e3 / steps


def _validate_per_head(model, cases) -> None:
    """The validation ``fit`` ran before the profile: one network pass per head."""
    from mixseg.infer import predict_labels
    from mixseg.metrics import dice

    for head in HEADS:
        for c in cases:
            dice(predict_labels(model, c.image, head), c.label)


def run(quick: bool, **_: Any) -> dict[str, Any]:
    from mixseg.train import validate

    params = load_params()
    cfg = next(c for c in _configs(params, quick) if c["config"] == "cpu")
    tp = cfg["run"].tp  # the stage's settings (the benchmark's own never validates)
    p = {k: cfg[k] for k in ("base", "padding", "size", "batch_full", "batch_weak")}
    results = []

    phases, top, self_ms = _profile(cfg, steps=3 if quick else 10)
    step_ms = sum(phases.values())
    for name in PHASES:
        results.append(
            record(
                f"phase/{name}",
                "ms/step",
                [phases.get(name, 0.0)],
                params=p,
                note=f"{100 * phases.get(name, 0.0) / step_ms:.1f}% of the profiled step",
            )
        )

    reps, warm = (5, 2) if quick else (20, 3)
    secs = timed_interleaved(
        {
            "ours": Ours(cfg).step,
            "teacher_on_full_rows": TeacherOnFullRows(cfg).step,
            "contiguous": Ours(cfg, channels_last=False).step,
            "shared_skip_resize": SharedSkipResize(cfg).step,
            "fused_adam": _fused_adam(cfg).step,
        },
        repeats=reps,
        warmup=warm,
    )
    results.append(record("ours_step", "ms", [1e3 * s for s in secs["ours"]], params=p))
    for key in ("teacher_on_full_rows", "contiguous", "shared_skip_resize", "fused_adam"):
        results.append(record(f"whatif/{key}_step", "ms", [1e3 * s for s in secs[key]], params=p))
        results.append(
            record(
                f"whatif/{key}_speedup",
                "x",
                [o / v for o, v in zip(secs["ours"], secs[key], strict=True)],
                params=p,
                note="time ours / time variant, paired per repeat (> 1: the variant is faster)",
            )
        )

    # Validation as fit does it, against one forward per volume for all three heads.
    vols = canonical_volumes(10, "crop", tuple(cfg["size"]), 2.0)
    model = Ours(cfg).model
    vsecs = timed_interleaved(
        {
            "fit_validate": lambda: validate(model, vols, HEADS, tp),
            "per_head_before": lambda: _validate_per_head(model, vols),
        },
        repeats=3 if quick else 10,
        warmup=1,
    )
    for key, s in vsecs.items():
        results.append(
            record(
                f"validation/{key}",
                "ms/validation",
                [1e3 * t for t in s],
                params={**p, "volumes": len(vols), "val_every": tp.val_every},
            )
        )
    per_step = [1e3 * t / tp.val_every for t in vsecs["fit_validate"]]
    results.append(
        record(
            "validation/fit_validate_amortised",
            "ms/step",
            per_step,
            params={"val_every": tp.val_every},
            note="validation time / val_every: its cost per training step",
        )
    )
    results.append(
        record(
            "validation/one_forward_speedup",
            "x",
            [a / b for a, b in zip(vsecs["per_head_before"], vsecs["fit_validate"], strict=True)],
            note="before (one pass per head) / after (fit's validate, one pass): > 1 is faster",
        )
    )
    # The resumable checkpoint fit writes every checkpoint_every steps (checkpoint.Scratch).
    from mixseg.checkpoint import Scratch

    ck = Ours(cfg)
    ck.step()
    with tempfile.TemporaryDirectory(prefix="mixseg-bench-ckpt-") as tmp:
        scratch = Scratch(Path(tmp) / "checkpoint.pt", "bench")
        cs = timed(lambda: scratch.save(ck.trainer, 1, []), repeats=5)
    results.append(
        record(
            "checkpoint_amortised",
            "ms/step",
            [1e3 * t / tp.checkpoint_every for t in cs],
            params={"checkpoint_every": tp.checkpoint_every},
            note=f"one resumable checkpoint: {1e3 * sorted(cs)[len(cs) // 2]:.1f} ms",
        )
    )
    sampler = Ours(cfg)
    bt = timed(lambda: sampler.batch(next(sampler.steps)), repeats=50, warmup=2)
    results.append(
        record(
            "make_batch", "ms", [1e3 * t for t in bt], params=p, note="the sampler's batch alone"
        )
    )
    return {
        "results": results,
        "profile": {
            "steps": 3 if quick else 10,
            "phase_ms_per_step": phases,
            "self_cpu_ms_per_step": self_ms,
            "top_ops": top,
        },
    }
