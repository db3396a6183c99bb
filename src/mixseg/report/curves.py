"""Figures drawn from run logs and evaluation summaries: Figs. 3, 5, 6 and 7 (ACDC).

A run that does not exist never fails a figure: its curve or point is left out and the figure
says which runs are missing. Figs. 3 and 5 need runs that may not exist at all (proposals,
self-training; names in ``comparisons.py``): they are drawn only once those runs exist.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from mixseg import paths
from mixseg.report import sweeps
from mixseg.report.figures import FigureInfo, plt, save
from mixseg.report.tables import aggregate, load_summaries

DATASET = "acdc"


def read_curve(run_dir: Path, head: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Validation DSC of one head against the training step, from the run's dvclive TSV.

    dvclive writes ``live/plots/metrics/val/dsc_<head>.tsv`` with the columns ``step`` and
    ``dsc_<head>`` (train.py logs ``val/dsc_<head>``). Returns None if the file is absent.
    """
    f = run_dir / "live" / "plots" / "metrics" / "val" / f"dsc_{head}.tsv"
    if not f.exists():
        return None
    with f.open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    steps = np.array([float(r["step"]) for r in rows])
    values = np.array([float(r[f"dsc_{head}"]) for r in rows])
    return steps, 100.0 * values


def _missing_note(ax: plt.Axes, missing: list[str]) -> None:
    if missing:
        ax.text(
            0.01,
            0.01,
            "not run: " + ", ".join(missing),
            transform=ax.transAxes,
            fontsize=7,
            color="0.35",
            va="bottom",
            wrap=True,
        )


def _curves(out: Path, curves: list[tuple[str, Any]], missing: list[str], title: str) -> None:
    """Validation DSC curves (label, (steps, dsc %) or None) on one axis."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for label, c in curves:
        if c is not None:
            ax.plot(c[0], c[1], marker=".", label=label)
    ax.set(xlabel="training step", ylabel="validation DSC (%)", title=title)
    if any(c is not None for _, c in curves):
        ax.legend(fontsize=8)
    _missing_note(ax, missing)
    fig.tight_layout()
    save(fig, out)


def fig6(out_dir: Path, params: dict) -> FigureInfo:
    """Fig. 6: validation DSC of the student vs step for the divergences of Table 6 (seed
    ``runs.sweep_seeds[0]``, setting ``runs.sweeps.t6_settings[0]``)."""
    sw = next(s for s in sweeps.SWEEPS if s.name == "table6")
    setting = params["runs"]["sweeps"][sw.settings_key][0]
    seed = int(params["runs"]["sweep_seeds"][0])
    curves, missing = [], []
    for value, _, run in sweeps.sweep_rows(sw, params):
        c = read_curve(paths.run_dir(DATASET, setting, run, seed), "student")
        curves.append((f"{value} ({run})", c))
        if c is None:
            missing.append(run)
    name = "fig6_divergences.png"
    _curves(out_dir / name, curves, missing, f"Fig. 6: divergences, KL+Ent student, {setting}")
    return FigureInfo(
        "fig6",
        name,
        "Fig. 6: divergences of the Lkd term (validation DSC)",
        f"Student validation DSC during training, {setting}, seed {seed}.",
        True,
        missing,
    )


def fig3(out_dir: Path, params: dict) -> FigureInfo:
    """Fig. 3: validation DSC vs step of retraining on proposals (red) and of ours (blue)."""
    setting = params["runs"]["settings"][0]
    seed = int(params["runs"]["seeds"][0])
    prop = read_curve(paths.run_dir(DATASET, setting, "proposals-kl", seed), "teacher")
    ours = read_curve(paths.run_dir(DATASET, setting, "kl_ent", seed), "student")
    title = "Fig. 3: pseudo-labels vs the proposed formulation (validation DSC)"
    missing = [r for r, c in (("proposals-kl", prop), ("kl_ent", ours)) if c is None]
    if prop is None:
        return FigureInfo(
            "fig3",
            "",
            title,
            "",
            False,
            missing,
            f"needs the run proposals-kl ({setting}, seed {seed}) with its dvclive log",
        )
    name = "fig3_proposals.png"
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(*prop, "r.-", label="Proposals (KL)")
    if ours is not None:
        ax.plot(*ours, "b.-", label="Ours (KL+Ent), student")
    ax.set(xlabel="training step", ylabel="validation DSC (%)", title=title)
    ax.legend(fontsize=8)
    _missing_note(ax, missing)
    fig.tight_layout()
    save(fig, out_dir / name)
    return FigureInfo("fig3", name, title, f"{setting}, seed {seed}.", True, missing)


def _test_point(setting: str, run: str, head: str, seeds: list[int]) -> dict | None:
    sums = load_summaries(DATASET, setting, run, seeds)
    dsc, hd = aggregate(sums, head, "dsc"), aggregate(sums, head, "hd95")
    return None if dsc is None else {"dsc": dsc, "hd95": hd}


def _points_figure(
    out: Path, xs: list, points: list, missing: list[str], title: str, xlabel: str
) -> None:
    """Test DSC (left) and HD-95 (right), mean ± std over seeds, against ``xs``."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, metric, ylabel in (
        (axes[0], "dsc", "test DSC (%)"),
        (axes[1], "hd95", "test HD-95 (mm)"),
    ):
        have = [(x, p[metric]) for x, p in zip(xs, points, strict=True) if p is not None]
        if have:
            ax.errorbar(
                [h[0] for h in have],
                [h[1][0] for h in have],
                yerr=[h[1][1] for h in have],
                marker="o",
                capsize=3,
            )
        ax.set(xlabel=xlabel, ylabel=ylabel, xticks=xs)
        _missing_note(ax, missing)
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, out)


def fig7(out_dir: Path, params: dict) -> FigureInfo:
    """Fig. 7: test DSC and HD-95 of the KL+Ent student vs the ratio of partially to fully
    labelled patients (paper: 1..7), setting ``runs.sweeps.f7_settings[0]``; the default ratio
    is the default run ``kl_ent``. Mean ± std over ``runs.sweep_seeds``."""
    setting = params["runs"]["sweeps"]["f7_settings"][0]
    seeds = [int(s) for s in params["runs"]["sweep_seeds"]]
    default = int(params["settings"]["default_ratio"])
    ratios = sorted(
        {*range(1, 8), default, *(int(r) for r in params["runs"]["sweeps"]["f7_ratio"])}
    )
    points, missing = [], []
    for r in ratios:
        run = "kl_ent" if r == default else f"kl_ent-r{r}"
        points.append(_test_point(setting, run, "student", seeds))
        if points[-1] is None:
            missing.append(run)
    name = "fig7_ratio.png"
    _points_figure(
        out_dir / name,
        ratios,
        points,
        missing,
        f"Fig. 7: KL+Ent student vs partially/fully labelled ratio, {setting}",
        "partially / fully labelled patients",
    )
    return FigureInfo(
        "fig7",
        name,
        "Fig. 7: ratio of partially to fully labelled patients",
        f"{setting}; default ratio {default} = run kl_ent; seeds {seeds}.",
        True,
        missing,
    )


def fig5(out_dir: Path, params: dict, max_iterations: int = 20) -> FigureInfo:
    """Fig. 5: test DSC/HD-95 over self-training iterations: t = 0 the KL model (student), t = 1
    ``proposals-kl``, t >= 2 ``selftrain-it<t>`` (read while consecutive iterations exist)."""
    setting = params["runs"]["settings"][0]
    seeds = [int(s) for s in params["runs"]["seeds"]]
    title = "Fig. 5: self-training on pseudo-labels, iteration by iteration"
    specs = [("kl", "student"), ("proposals-kl", "teacher")]
    specs += [(f"selftrain-it{t}", "teacher") for t in range(2, max_iterations + 1)]
    points = [_test_point(setting, run, head, seeds) for run, head in specs[:3]]
    missing = [r for (r, _), p in zip(specs[:3], points, strict=True) if p is None]
    if missing:
        return FigureInfo(
            "fig5",
            "",
            title,
            "",
            False,
            missing,
            f"needs the runs kl, proposals-kl and selftrain-it2.. ({setting})",
        )
    for run, head in specs[3:]:
        p = _test_point(setting, run, head, seeds)
        if p is None:
            break
        points.append(p)
    name = "fig5_selftraining.png"
    _points_figure(
        out_dir / name,
        list(range(len(points))),
        points,
        [],
        title,
        "iteration (0 = KL, 1 = Proposals (KL))",
    )
    return FigureInfo("fig5", name, title, f"{setting}; seeds {seeds}.", True, [])
