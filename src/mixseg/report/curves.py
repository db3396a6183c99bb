"""Figures drawn from run logs and evaluation summaries: Figs. 3, 5, 6 and 7 (ACDC).

A run that does not exist never fails a figure: its curve or point is left out and the figure
says which runs are missing. Figs. 3 and 5 need runs that may not exist at all (proposals,
self-training; runs and seeds in the experiment catalog, ``mixseg.experiments``): each is drawn
once one of its pseudo-label runs exists, and listed as not produced until then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mixseg import experiments, paths
from mixseg.config import lookup
from mixseg.report import sweeps
from mixseg.report.figures import FigureInfo, plt, save
from mixseg.report.io import read_curve
from mixseg.report.tables import SETTING_TITLES, aggregate, load_summaries

DATASET = "acdc"


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
    sw = experiments.sweep("table6")
    g = experiments.group(sw.groups[0])
    setting, seed = lookup(params, g.settings)[0], int(lookup(params, g.seeds)[0])
    curves, missing = [], []
    for value, _, run in sweeps.sweep_rows(sw, params):
        c = read_curve(paths.live_plots_dir(DATASET, setting, run, seed), "student")
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


# Fig. 3 (rows: experiments.FIG3): pseudo-label retraining in red tones, ours in blue.
FIG3_COLOURS = ("lightcoral", "darkred", "tab:blue")
FIG5_CAPTION = (
    "Paper (Fig. 5, ACDC test set, Setting-3): starting from Ours (KL), whose pseudo-labels "
    "train iteration I1 (Proposals (KL)), the model of iteration It gives the pseudo-labels of "
    "It+1, each retrained from a random initialisation; results improve in early iterations, "
    "then quickly saturate and degrade, the model accumulating the errors of its pseudo-labels. "
    "The paper gives no numbers for Fig. 5 (a plot only): no paper value is shown."
)


def fig3_curves(params: dict) -> tuple[str, int, list[tuple[str, str, str, Any]]]:
    """(setting, seed, [(run, label, colour, (steps, dsc %) or None)]) of Fig. 3: the first
    setting of ``runs.settings`` (Set-3) and the first seed of ``runs.compare_seeds``."""
    setting = params["runs"]["settings"][0]
    seed = int(lookup(params, experiments.FIG3.seeds)[0])
    entries = experiments.FIG3.entries([setting])
    out = [
        (
            run,
            row.label,
            colour,
            read_curve(paths.live_plots_dir(DATASET, setting, run, seed), row.heads[0]),
        )
        for (_, row, run), colour in zip(entries, FIG3_COLOURS, strict=True)
    ]
    return setting, seed, out


def _on_pseudo_labels(row: experiments.Row) -> bool:
    return experiments.group(row.group).pseudo_from is not None


def fig3(out_dir: Path, params: dict) -> FigureInfo:
    """Fig. 3: validation DSC vs step of retraining on pseudo-labels (red) and of ours (blue);
    drawn once a pseudo-label run has a curve, the runs without one noted on the figure."""
    setting, seed, curves = fig3_curves(params)
    title = "Fig. 3: pseudo-labels vs the proposed formulation (validation DSC)"
    missing = [run for run, _, _, c in curves if c is None]
    pseudo = {e[2] for e in experiments.FIG3.entries([setting]) if _on_pseudo_labels(e[1])}
    if all(c is None for run, _, _, c in curves if run in pseudo):
        needs = " / ".join(run for run, *_ in curves if run in pseudo)
        return FigureInfo(
            "fig3",
            "",
            title,
            "",
            False,
            missing,
            f"needs the runs {needs} ({setting}, seed {seed}) with their dvclive logs",
        )
    name = "fig3_proposals.png"
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for _, label, colour, c in curves:
        if c is not None:
            ax.plot(*c, ".-", color=colour, label=label)
    ax.set(xlabel="training step", ylabel="validation DSC (%)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    _missing_note(ax, missing)
    fig.tight_layout()
    save(fig, out_dir / name)
    caption = (
        f"Ours: ACDC validation set, {setting}, seed {seed}: retrained on pseudo-labels (red, "
        "single network) vs ours (blue, student head). Paper (Fig. 3, Set-3): training with "
        "pseudo-labels converges faster; ours converges more slowly but ends higher."
    )
    return FigureInfo("fig3", name, title, caption, True, missing)


def _test_point(setting: str, run: str, head: str, seeds: list[int]) -> dict | None:
    sums = load_summaries(DATASET, setting, run, seeds)
    dsc, hd = aggregate(sums, head, "dsc"), aggregate(sums, head, "hd95")
    return None if dsc is None else {"dsc": dsc, "hd95": hd}


def _points_figure(
    out: Path,
    xs: list,
    series: dict[str, list],
    missing: list[str],
    title: str,
    xlabel: str,
    xticklabels: list[str] | None = None,
) -> None:
    """Test DSC (left) and HD-95 (right), mean ± std over seeds, against ``xs``: one line per
    series (label -> one point or None per x, None left out; an empty label draws no legend)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, metric, ylabel in (
        (axes[0], "dsc", "test DSC (%)"),
        (axes[1], "hd95", "test HD-95 (mm)"),
    ):
        for label, points in series.items():
            if all(p is None for p in points):
                continue
            # NaN at a missing x: the point is not drawn and the line is broken there.
            ys = [np.nan if p is None else p[metric][0] for p in points]
            errs = [np.nan if p is None else p[metric][1] for p in points]
            ax.errorbar(xs, ys, yerr=errs, marker="o", capsize=3, label=label or None)
        ax.set(xlabel=xlabel, ylabel=ylabel, xticks=xs)
        if xticklabels is not None:
            ax.set_xticklabels(xticklabels)
        if any(series):
            ax.legend(fontsize=8)
        _missing_note(ax, missing)
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, out)


def fig7(out_dir: Path, params: dict) -> FigureInfo:
    """Fig. 7: test DSC and HD-95 of the KL+Ent student vs the ratio of partially to fully
    labelled patients (paper: 1..7), setting ``runs.sweeps.f7_settings[0]``; the default ratio
    is the default run ``kl_ent``. Mean ± std over ``runs.sweep_seeds``."""
    sw = experiments.sweep("fig7")
    g = experiments.group(sw.groups[0])
    ((key, values_key),) = g.sweep.items()
    setting = lookup(params, g.settings)[0]
    seeds = [int(s) for s in lookup(params, g.seeds)]
    default = int(lookup(params, sw.defaults[key]))
    ratios = sorted({*range(1, 8), default, *(int(r) for r in lookup(params, values_key))})
    default_run = experiments.group(sw.default).run
    points, missing = [], []
    for r in ratios:
        run = experiments.sweep_run(sw, params, {key: r})
        points.append(_test_point(setting, run, sw.head, seeds))
        if points[-1] is None:
            missing.append(run)
    name = "fig7_ratio.png"
    _points_figure(
        out_dir / name,
        ratios,
        {"": points},
        missing,
        f"Fig. 7: KL+Ent student vs partially/fully labelled ratio, {setting}",
        "partially / fully labelled patients",
    )
    return FigureInfo(
        "fig7",
        name,
        "Fig. 7: ratio of partially to fully labelled patients",
        f"{setting}; default ratio {default} = run {default_run}; seeds {seeds}.",
        True,
        missing,
    )


def _selftrain(params: dict) -> tuple[list[str], list[str], list[int]]:
    """(settings, runs of I1..IK, seeds) of self-training (the catalog's groups)."""
    its = experiments.selftrain_runs(params)
    seeds = [int(s) for s in lookup(params, experiments.group(its[0]).seeds)]
    return list(lookup(params, experiments.SELFTRAIN_SETTINGS)), its, seeds


def fig5_points(params: dict) -> tuple[list[str], list[str], dict[str, list[dict | None]]]:
    """(settings, runs of I1..IK, setting -> test point per iteration or None) of Fig. 5.

    A point is ``{"dsc": (mean, std, n), "hd95": ...}`` of head ``teacher`` over the seeds of
    ``runs.compare_seeds`` that have an evaluation; settings and K from ``runs.selftrain``.
    """
    settings, its, seeds = _selftrain(params)
    points = {s: [_test_point(s, run, "teacher", seeds) for run in its] for s in settings}
    return settings, its, points


def fig5(out_dir: Path, params: dict) -> FigureInfo:
    """Fig. 5: test DSC and HD-95 per self-training iteration I1..IK (I1 = ``proposals-kl``,
    It = ``selftrain-it<t>``), one line per setting; missing iterations noted, not plotted."""
    settings, its, points = fig5_points(params)
    seeds = _selftrain(params)[2]
    title = "Fig. 5: self-training on pseudo-labels, iteration by iteration"
    missing = [
        f"{s}/{run}" for s in settings for run, p in zip(its, points[s], strict=True) if p is None
    ]
    if all(p is None for s in settings for p in points[s]):
        return FigureInfo(
            "fig5",
            "",
            title,
            FIG5_CAPTION,
            False,
            missing,
            f"needs the runs {', '.join(its)} evaluated ({', '.join(settings)})",
        )
    name = "fig5_selftraining.png"
    xs = list(range(1, len(its) + 1))
    _points_figure(
        out_dir / name,
        xs,
        {SETTING_TITLES.get(s, s): points[s] for s in settings},
        missing,
        title,
        "self-training iteration (I1 = Proposals (KL))",
        [f"I{t}" for t in xs],
    )
    caption = (
        f"Ours: ACDC test set, {', '.join(settings)}, head teacher, mean ± std over the "
        f"evaluated seeds of {seeds}. {FIG5_CAPTION}"
    )
    return FigureInfo("fig5", name, title, caption, True, missing)
