"""Inference time per sample (Table 8's column): one 256 x 256 slice, batch 1, ``no_grad``,
``eval``, the single and the dual UNet at the paper's width (base 64, valid convolutions).

The model and input are prepared as ``mixseg.evaluate`` / ``mixseg.infer`` do: channels-last,
autocast on CUDA. ``dual`` runs both decoders (what the ensemble head needs); ``dual_student``
runs the shared encoder and the student decoder only (what deploying the student costs). On the
CPU, ``*_contiguous`` (diagnosis) repeats the measurement in the default memory format.
CUDA is measured when present (with synchronisation before each clock read).
"""

from __future__ import annotations

from typing import Any

import torch

from benchmarks.common import record, timed_interleaved

NAME = "infer"

VARIANTS = {  # name: (n_decoders, heads)
    "single": (1, None),
    "dual": (2, None),
    "dual_student": (2, (1,)),
}


def _bench(device: torch.device, quick: bool, formats: tuple[bool, ...]) -> list[dict[str, Any]]:
    """Every variant x memory format, timed in turn (A B C ... A B C ...)."""
    from mixseg.models import build_model, count_parameters

    sync = torch.cuda.synchronize if device.type == "cuda" else None
    fns, params = {}, {}
    for channels_last in formats:
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        suffix = "" if channels_last else "_contiguous"
        for name, (n_dec, heads) in VARIANTS.items():
            torch.manual_seed(0)
            model = build_model(dims=2, base=64, n_decoders=n_dec, padding="valid")
            model = model.to(device, memory_format=fmt).eval()
            x = torch.randn(1, 1, 256, 256, device=device).contiguous(memory_format=fmt)

            @torch.no_grad()
            def forward(model=model, x=x, heads=heads):
                with torch.autocast(device.type, enabled=device.type == "cuda"):
                    return model(x, heads=heads)

            key = f"{device.type}/{name}{suffix}"
            fns[key] = forward
            params[key] = {
                "base": 64,
                "padding": "valid",
                "input": [1, 1, 256, 256],
                "parameters": count_parameters(model),
                "heads": "all" if heads is None else list(heads),
                "memory_format": "channels_last" if channels_last else "contiguous",
                "amp": device.type == "cuda",
            }
    if device.type == "cpu":
        warmup, repeats = (1, 3) if quick else (2, 15)
    else:
        warmup, repeats = (5, 20) if quick else (20, 100)
    secs = timed_interleaved(fns, repeats=repeats, warmup=warmup, sync=sync)
    return [
        record(key, "ms/sample", [1e3 * t for t in s], params=params[key])
        for key, s in secs.items()
    ]


def run(quick: bool, **_: Any) -> dict[str, Any]:
    results = _bench(torch.device("cpu"), quick, formats=(True, False))
    if torch.cuda.is_available():
        results += _bench(torch.device("cuda"), quick, formats=(True,))
    return {"results": results}
