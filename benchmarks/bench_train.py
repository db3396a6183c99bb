"""Training throughput of the dual UNet with the KL+Ent objective.

``ours`` is one step of ``mixseg.train.fit``'s loop body, by calling its code: the run's
sampler (``data.sampler.SliceSampler`` over in-memory pools) draws the mixed batch and
``train.Trainer.step`` (built by ``train.build_trainer``, as ``fit`` builds it) runs the
channels-last forward pass, ``kl_ent``'s objective, backward, the Adam step and the LR scheduler
step. The run, its training settings and hyper-parameters are what a training stage resolves
(``runs.resolve_run``) at each preset. Only ``fit``'s data loading, dvclive and validation are
left out.

``reference`` is the simplest PyTorch loop on the same architecture, weights and batch: a
pre-built batch in default (contiguous) memory format, ``model(x)``, Eq. 1-4 written with
``F.cross_entropy`` / ``F.kl_div`` / ``log_softmax``, ``backward``, ``Adam.step``. The two
compute the same loss (checked before timing, ``loss_check``). Their steps are timed in turn
(A B A B ...), and the ratio ours/reference is the median of the paired per-repeat ratios.

``reference_channels_last`` (diagnosis only) is the reference loop with the model and input in
channels-last format, as ``fit`` does: it separates the cost of the memory format from the cost
of the rest of our step.

FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` over one of our steps (forward + backward;
the optimizer's element-wise work is not counted); achieved FLOP/s = FLOPs / median step time,
compared with the machine's measured float32 matmul peak (``peak_matmul``).

Training is measured on the CPU (the project's target machine), float32, as ``fit`` does there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from typing import Any

import torch
import torch.nn.functional as F

from benchmarks.common import load_params, record, timed, timed_interleaved
from benchmarks.volumes import synthetic_pool

NAME = "train"


def _configs(params: dict[str, Any], quick: bool) -> list[dict[str, Any]]:
    """The kl_ent run of each preset, as a training stage resolves it (``runs.resolve_run``),
    with the benchmark's batch sizes and no logging, validation or checkpoints."""
    from mixseg import runs

    out = []
    for preset in ("cpu", "paper"):
        # The benchmarks have no splits.json: the ratio is named (it does not change a step).
        ratio = str(params["settings"]["default_ratio"])
        run = runs.resolve_run(
            {**params, "preset": preset},
            dataset="acdc",
            method="kl_ent",
            setting="set3",
            seed=0,
            overrides={"ratio": ratio},
        )
        tp = run.tp
        bf, bw = tp.batch_full, tp.batch_weak
        if preset == "cpu":
            warmup, repeats = (2, 5) if quick else (3, 15)
        else:
            # 256x256, base 64, valid: ~90 s per step at batch 8 + 16 on 2 CPU cores, so
            # 1 warm-up + 2 timed steps for each loop (about 10 minutes in all).
            warmup, repeats = (1, 1) if quick else (1, 2)
            if quick:
                bf, bw = 1, 2  # quick mode: 1 + 2 images instead of 8 + 16
        never = 10**9
        bench_tp = dataclasses.replace(
            tp,
            batch_full=bf,
            batch_weak=bw,
            steps=tp.steps or 1000,
            epochs=None,
            log_every=never,
            val_every=never,
            checkpoint_every=never,
            threads=None,
        )
        out.append(
            {
                "config": f"{preset}",
                "base": tp.base,
                "padding": tp.padding,
                "size": list(run.preprocess.size),
                "batch_full": bf,
                "batch_weak": bw,
                "lr": tp.lr,
                "steps": bench_tp.steps,
                "warmup": warmup,
                "repeats": repeats,
                "diagnose": preset == "cpu",
                # FLOPs are counted on a 1 + 2 image step and scaled (conv/matmul FLOPs are linear
                # in the batch): counting runs a real step, 90 s at the paper's batch.
                "flop_batch": (1, 2) if preset == "paper" else (bf, bw),
                "run": run,
                "tp": bench_tp,
                "hp": run.hp,
            }
        )
    return out


class Ours:
    """A step of ``fit``'s loop by the very code of the training stages: the run's sampler
    (``data.sampler.SliceSampler``, over in-memory pools) gives the batch and
    ``train.Trainer.step`` runs the forward pass, the objective, backward and the optimiser and
    scheduler steps, on CPU without AMP as ``fit`` runs there. ``label_phases`` (the profile)
    labels the step's phases; ``channels_last=False`` (a diagnosis) runs the model and its input
    in the default memory format."""

    def __init__(
        self,
        cfg: dict[str, Any],
        seed: int = 0,
        channels_last: bool = True,
        label_phases: bool = False,
    ):
        from mixseg.data.sampler import SliceSampler
        from mixseg.methods import get_method
        from mixseg.train import build_trainer

        self.cfg, self.seed = cfg, seed
        bf, bw = cfg["batch_full"], cfg["batch_weak"]
        tp = dataclasses.replace(cfg["tp"], batch_full=bf, batch_weak=bw)
        size, n = tuple(cfg["size"]), 4 * (bf + bw)
        full = synthetic_pool(n, size, seed=1)
        self.sampler = SliceSampler(full, synthetic_pool(n, size, seed=2, weak=True), seed, bf, bw)
        method, cpu = get_method("kl_ent"), torch.device("cpu")
        self.trainer = build_trainer(2, method, cfg["hp"], tp, seed, tp.steps, cpu, None)
        if not channels_last:
            self.trainer.model.to(memory_format=torch.contiguous_format)
            self.trainer.layout = torch.contiguous_format
        self.model = self.trainer.model
        self.phase = torch.profiler.record_function if label_phases else contextlib.nullcontext
        self.steps = itertools.count()
        self.model.train()

    def batch(self, step: int):
        return self.sampler.batch(step)

    def loss(self, batch) -> torch.Tensor:
        """The step's loss on ``batch`` without the update (``Trainer.loss``)."""
        return self.trainer.loss(batch, 0)[0]

    def step(self) -> None:
        step = next(self.steps)
        with self.phase("make_batch"):
            batch = self.batch(step)
        self.trainer.step(batch, step, phase=self.phase)


class Reference:
    """The simplest loop: pre-built tensors, model(x), F.* losses, backward, Adam step."""

    def __init__(self, cfg: dict[str, Any], hp, batch, seed: int = 0, channels_last: bool = False):
        from mixseg.models import build_model

        torch.manual_seed(seed)
        self.model = build_model(dims=2, base=cfg["base"], n_decoders=2, padding=cfg["padding"])
        self.x = batch.image.clone()
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
            self.x = self.x.contiguous(memory_format=torch.channels_last)
        self.nf = cfg["batch_full"]
        self.y_full = batch.mask[: self.nf].clone()
        self.y_weak = batch.weak[self.nf :].clone()
        self.hp = hp
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg["lr"], betas=(0.9, 0.99))
        self.model.train()

    def loss(self) -> torch.Tensor:
        hp, nf = self.hp, self.nf
        teacher, student = self.model(self.x)
        ce = F.cross_entropy(teacher[:nf], self.y_full)
        pce = F.cross_entropy(student[nf:], self.y_weak, ignore_index=255)
        # Eq. 3: KL(p_teacher || p_student) of the "softmax over softmax" probabilities.
        pt = F.softmax(F.softmax(teacher[:nf], 1), 1).detach()
        log_ps = F.log_softmax(F.softmax(student[:nf], 1), 1)
        kd = F.kl_div(log_ps, pt, reduction="none").sum(1).mean()
        logp = F.log_softmax(student[nf:], 1)
        ent = -(logp.exp() * logp).sum(1).mean()
        return ce + hp.lambda_w * pce + hp.lambda_kd * kd + hp.lambda_ent * ent

    def step(self) -> None:
        loss = self.loss()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def peak_matmul(quick: bool, n: int = 2048) -> dict[str, Any]:
    """Float32 ``n x n`` matmul FLOP/s (2 n^3 per product), median of repeats."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    secs = timed(lambda: torch.mm(a, b, out=out), repeats=5 if quick else 20, warmup=2)
    return record(
        "peak_matmul",
        "GFLOP/s",
        [2 * n**3 / s / 1e9 for s in secs],
        params={"n": n, "dtype": "float32", "threads": torch.get_num_threads()},
        note="the machine's practical float32 peak: torch.mm of two random n x n matrices",
    )


def count_flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        fn()
    return int(fc.get_total_flops())


def run(quick: bool, **_: Any) -> dict[str, Any]:
    params = load_params()
    results = []
    peak = peak_matmul(quick)
    results.append(peak)
    for cfg in _configs(params, quick):
        c, bsz = cfg["config"], cfg["batch_full"] + cfg["batch_weak"]
        ours = Ours(cfg)
        batch0 = ours.batch(0)
        ref = Reference(cfg, cfg["hp"], batch0)
        # Same weights, same batch, eval mode (no dropout, BN running stats): same loss.
        ours.model.eval()
        ref.model.eval()
        with torch.no_grad():
            l_ours, l_ref = float(ours.loss(batch0)), float(ref.loss())
        ours.model.train()
        ref.model.train()
        fns = {"ours": ours.step, "reference": ref.step}
        if cfg["diagnose"]:
            ref_cl = Reference(cfg, cfg["hp"], batch0, channels_last=True)
            fns["reference_channels_last"] = ref_cl.step
        secs = timed_interleaved(fns, repeats=cfg["repeats"], warmup=cfg["warmup"])
        p = {k: cfg[k] for k in ("base", "padding", "size", "batch_full", "batch_weak")}
        for key, s in secs.items():
            results.append(record(f"{c}/{key}", "images/s", [bsz / t for t in s], params=p))
        ratios = [r / o for o, r in zip(secs["ours"], secs["reference"], strict=True)]
        results.append(
            record(
                f"{c}/ratio_ours_over_reference",
                "x",
                ratios,
                params=p,
                target=">= 1.0",
                note="throughput ours / reference, paired per repeat; > 1 means ours is faster",
            )
        )
        if "reference_channels_last" in secs:
            cl = [
                r / o
                for o, r in zip(secs["reference_channels_last"], secs["reference"], strict=True)
            ]
            results.append(
                record(
                    f"{c}/ratio_channels_last_over_contiguous",
                    "x",
                    cl,
                    params=p,
                    note="reference loop: channels-last throughput / contiguous throughput",
                )
            )
        results.append(
            record(
                f"{c}/loss_abs_diff",
                "loss",
                [abs(l_ours - l_ref)],
                params=p,
                note=f"ours {l_ours:.6f}, reference {l_ref:.6f}: same weights, batch, eval mode",
            )
        )
        bt = timed(lambda o=ours: o.batch(next(o.steps)), repeats=20 if quick else 100, warmup=2)
        results.append(
            record(
                f"{c}/batch_construction",
                "ms",
                [1e3 * t for t in bt],
                params=p,
                note="datasets.make_batch alone (part of every step of ours)",
            )
        )
        fb = cfg["flop_batch"]
        if tuple(fb) == (cfg["batch_full"], cfg["batch_weak"]):
            flops, how = count_flops(ours.step), "one step of ours"
        else:
            small = Ours({**cfg, "batch_full": fb[0], "batch_weak": fb[1]})
            flops = count_flops(small.step) * bsz // sum(fb)
            how = f"one {fb[0]} + {fb[1]} image step of ours, scaled to {bsz} images"
            del small
        results.append(
            record(
                f"{c}/flops_per_step",
                "GFLOP",
                [flops / 1e9],
                params=p,
                note=f"FlopCounterMode over {how} (forward + backward; optimizer not counted)",
            )
        )
        achieved = [flops / t / 1e9 for t in secs["ours"]]
        results.append(record(f"{c}/achieved", "GFLOP/s", achieved, params=p))
        results.append(
            record(
                f"{c}/fraction_of_peak",
                "fraction",
                [a / peak["median"] for a in achieved],
                params=p,
                note="achieved FLOP/s of ours / median peak_matmul",
            )
        )
        del ours, ref, fns
    return {"results": results}
