"""Table 8: model complexity (parameters) and inference time per sample.

Parameters are counted on the networks themselves (``models.build_model`` + ``count_parameters``)
at the paper's width and padding, never typed in. The baselines are counted the way the paper
counts them (``shared/reference/confkd.md`` §2): all with the same 2D single-branch UNet, UA-MT as
two of them (student + EMA teacher: both are stored), GLMI as one, SSCO as eight.

Time: one forward pass of one slice (batch 1, eval mode, ``torch.no_grad``), after a warm-up, on
the current device; the median over the repeats, in ms. Measured for the single- and the
dual-branch network (both decoders run, as the paper's dual-branch time); the baselines are
not timed (GLMI is the single-branch network, UA-MT and SSCO several of them).
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

import torch

from mixseg.models import build_model, count_parameters
from mixseg.report.paper_values import TABLE8

# (row key, title, decoders of the network, number of networks counted, how the paper counts it)
ROWS = [
    ("single", "Single Branch", 1, 1, "one UNet"),
    ("glmi", "GLMI (Peng et al., 2021)", 1, 1, "one single-branch UNet"),
    ("dual", "Dual Branch (Ours)", 2, 1, "shared encoder, two decoders"),
    ("uamt", "UA-MT (Yu et al., 2019)", 1, 2, "student + EMA teacher"),
    ("ssco", "SSCO (Wang et al., 2021)", 1, 8, "8 single-branch UNets, as the paper counts it"),
]
TIMED = {"single": 1, "dual": 2}  # row key -> decoders of the timed network
# Warm-up and timed repeats: a GPU pass takes milliseconds, a CPU pass at the paper's size ~0.3 s.
REPEATS = {"cuda": (10, 100), "cpu": (1, 10)}


def device_name(device: torch.device) -> str:
    """GPU name, or the CPU model (``/proc/cpuinfo``, else ``platform``) with its thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    name = name or platform.processor() or platform.machine()
    return f"{name} ({torch.get_num_threads()} threads)"


@torch.no_grad()
def inference_ms(
    model: torch.nn.Module, size: tuple[int, int], device: torch.device, warmup: int, repeats: int
) -> float:
    """Median wall time (ms) of ``model`` on one (1, 1, H, W) input, after ``warmup`` passes."""
    model.to(device, memory_format=torch.channels_last).eval()
    x = torch.randn(1, 1, *size, device=device).contiguous(memory_format=torch.channels_last)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        model(x)
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model(x)
        sync()
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def measure(
    base: int,
    padding: str,
    size: tuple[int, int],
    device: torch.device | None = None,
    repeats: tuple[int, int] | None = None,
) -> tuple[dict[int, int], dict[int, float], str]:
    """Parameters and inference time of the 1- and 2-decoder UNets.

    Args:
        device: CUDA if available, else CPU (the default).
        repeats: (warm-up, timed) passes; by default ``REPEATS`` of the device type.

    Returns:
        ({decoders: parameters}, {decoders: median ms}, the timing protocol in words).
    """
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    warmup, n_timed = repeats or REPEATS[device.type]
    params, ms = {}, {}
    for n in (1, 2):
        torch.manual_seed(0)
        model = build_model(2, base, n, padding)
        params[n] = count_parameters(model)
        ms[n] = inference_ms(model, size, device, warmup, n_timed)
        del model
    protocol = (
        f"one {size[0]}x{size[1]} slice, batch 1, eval mode, no_grad, on "
        f"{device_name(device)}; median of {n_timed} passes after {warmup} warm-up pass(es)"
    )
    return params, ms, protocol


def table8(params: dict[int, int], ms: dict[int, float], protocol: str) -> tuple[str, list[dict]]:
    """Markdown and CSV rows of Table 8 from the measured counts and times (``measure``)."""
    header = [
        "Model",
        "#Params (ours)",
        "#Params (paper)",
        "Counted as",
        "Time per sample, ms (ours)",
        "Time per sample, ms (paper, Titan RTX)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = []
    for key, title, decoders, copies, how in ROWS:
        n = copies * params[decoders]
        p_params, p_ms = TABLE8[key]
        ours_ms = ms[TIMED[key]] if key in TIMED else None
        shown = "not measured" if ours_ms is None else f"{ours_ms:.1f}"
        lines.append(f"| {title} | {n:,} | {p_params:,} | {how} | {shown} | {p_ms} |")
        rows.append(
            {
                "model": key,
                "title": title,
                "params_ours": n,
                "params_paper": p_params,
                "ms_ours": None if ours_ms is None else round(ours_ms, 2),
                "ms_paper": p_ms,
                "protocol": protocol,
            }
        )
    return "\n".join(lines) + "\n", rows
