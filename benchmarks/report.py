"""``reports/bench/README.md``: a markdown summary of every ``<group>.json`` in the folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mixseg.atomic import write_text

ORDER = ("train", "ttq", "infer", "metrics", "data", "dvc", "memory", "profile")
TITLES = {
    "train": "Training throughput (dual UNet, KL+Ent, one full step)",
    "ttq": "Time to quality: ours vs a plain PyTorch loop; projected make repro wall time",
    "infer": "Inference time per sample (256 x 256 slice, batch 1)",
    "metrics": "Evaluation: DSC + HD95 per patient, ours vs medpy",
    "data": "Data stages: erosion per volume, preprocessing per patient",
    "dvc": "DVC overhead",
    "memory": "Peak resident memory (ru_maxrss of a child process)",
    "profile": "Profile of one training step (cpu preset) and what-ifs",
}


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    if a >= 1e-3:
        return f"{x:.4f}"
    return f"{x:.2e}"


def _row(r: dict[str, Any]) -> str:
    if "skipped" in r:
        return f"| {r['name']} | skipped | | | | | {r['skipped']} |"
    target = ""
    if "target" in r:
        target = f"{r['target']} {'✅' if r['meets_target'] else '❌'}"
    note = (r.get("note") or "").replace("|", "/")
    return (
        f"| {r['name']} | **{_fmt(r['median'])}** | {r['unit']} | "
        f"{_fmt(r['min'])} – {_fmt(r['max'])} | {r['n']} | {target} | {note} |"
    )


def render(docs: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python benchmarks/run.py`); one JSON file per group beside this",
        "page holds every repeat. Each figure is the **median** of its repeats (min – max and the",
        "number of repeats beside it); ratios are paired per repeat (the two sides timed in",
        "turn). Budgets are the README's (Performance). `quick` groups ran with few repeats and",
        "reduced sizes (`--quick`): indicative only.",
        "",
    ]
    if docs:
        m = next(iter(docs.values()))["machine"]
        lines += [
            "## Machine",
            "",
            f"- CPU: {m['cpu_model']}, {m['usable_cores']} usable of {m['logical_cores']} "
            f"logical cores, {m.get('memory_gib')} GiB",
            f"- torch {m['torch']} ({m['torch_threads']} threads, interop "
            f"{m['torch_interop_threads']}, mkldnn {m['mkldnn']}), numpy {m['numpy']}, "
            f"scipy {m['scipy']}, Python {m['python']}",
            f"- CUDA: {m['cuda'] or 'none'}; commit {m.get('git_commit')}",
            "",
        ]
    for group in sorted(docs, key=lambda g: (ORDER.index(g) if g in ORDER else 99, g)):
        lines += [section(group, docs[group]), ""]
    return "\n".join(lines)


def section(group: str, doc: dict[str, Any]) -> str:
    """The markdown section of one group's document."""
    load = doc["machine"].get("load_average_at_start")
    load_s = f", load average at start {load[0]:.2f}" if load else ""
    lines = [
        f"## {TITLES.get(group, group)}",
        "",
        f"`{group}.json` — {doc['mode']} mode, {doc['created']}, "
        f"{doc.get('seconds', 0):.0f} s{load_s}",
        "",
        "| figure | median | unit | min – max | n | target | note |",
        "| --- | ---: | --- | --- | ---: | --- | --- |",
    ]
    lines += [_row(r) for r in doc["results"]]
    if group == "profile" and "profile" in doc:
        prof = doc["profile"]
        lines += [
            "",
            f"Top operators by self CPU time ({prof['steps']} profiled steps, "
            f"{prof['self_cpu_ms_per_step']:.1f} ms of self CPU time per step):",
            "",
            "| operator | self ms/step | share | calls/step |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [
            f"| `{o['op']}` | {o['self_ms_per_step']:.2f} | "
            f"{100 * o['share_of_self_time']:.1f}% | {o['calls_per_step']:g} |"
            for o in prof["top_ops"][:15]
        ]
    if group == "ttq":
        lines += _ttq_tables(doc)
    if doc.get("error"):
        lines += ["", f"**Failed:** `{doc['error']}`"]
    return "\n".join(lines)


def _ttq_tables(doc: dict[str, Any]) -> list[str]:
    """Validation curves of ours and plain, and the projected make repro wall times."""
    lines = []
    for key, res in doc.get("ttq", {}).items():
        o, p = res["ours"]["curve"], res["plain"]["curve"]
        lines += [
            "",
            f"Validation curve of `{key}` (val DSC of the {res['head']} head; core-seconds of "
            "training, validation excluded):",
            "",
            "| step | ours core-s | ours DSC | plain core-s | plain DSC |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {a['step']} | {a['core_seconds']:.1f} | {a['dsc']:.4f} | "
            f"{b['core_seconds']:.1f} | {b['dsc']:.4f} |"
            for a, b in zip(o, p, strict=True)
        ]
    proj = doc.get("projection") or {}
    if "projections" in proj:
        a = proj["assumptions"]
        measured = proj.get("measured_seconds")
        lines += [
            "",
            f"Projected `make repro` wall time (list scheduling of `pipeline/repro.py`'s plan on "
            f"the last run's `timing.json` seconds + {a['stage_overhead_s']:g} s per stage; data "
            f"{a['data_seconds']:g} s, reports {a['tail_seconds']:g} s; dvc queue "
            f"+{a['queue_overhead_s']:g} s per item; {proj['missing_runs']} runs without "
            f"timing.json, imputed from their group; serial sum {a['serial_sum_s'] / 60:.1f} min):",
            "",
            "| machine | projected | measured | last item to finish |",
            "| --- | ---: | ---: | --- |",
        ]
        for i, (label, p) in enumerate(proj["projections"].items()):
            m = f"{measured / 60:.1f} min" if measured is not None and i == 0 else ""
            lines.append(f"| {label} | {p['seconds'] / 60:.1f} min | {m} | {p['last_item']} |")
        implied = proj.get("implied_stage_overhead_s")
        if implied is not None:
            lines += ["", f"Per-stage overhead that matches the measured run: {implied:g} s."]
        elif measured is not None:
            lines += ["", "No per-stage overhead in [0, 600] s matches the measured run."]
    elif "skipped" in proj:
        lines += ["", f"Projected `make repro` wall time: skipped ({proj['skipped']})."]
    return lines


def write_readme(out_dir: Path) -> Path:
    docs = {}
    for path in sorted(Path(out_dir).glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict) and "benchmark" in doc and "results" in doc:
            docs[doc["benchmark"]] = doc
    target = Path(out_dir) / "README.md"
    write_text(target, render(docs))
    return target
