"""The studies behind the cpu preset (README "Ambiguities"; runs: ``pipeline/groups/
train-studies``, catalog: ``mixseg.experiments``): the mixed-batch ablation table and the
convergence study's table and figure.

Ablation: test DSC (%) of each row's head under each ``mixed_forward`` (split: one forward pass
per row group; joint: one pass), mean ± std over seeds, "not run" where no evaluation exists;
the checkpoint-per-head table likewise under each ``train.select_head``.
Convergence: per dataset and long run, the validation DSC (%) it reached within the preset's
``steps`` and over the whole run, the first validation step reaching 95 % of the run's best,
and the test DSC of its evaluated head; the figure draws the validation curves, a vertical line
at the preset's steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mixseg import experiments, paths
from mixseg.config import lookup, preset_key
from mixseg.report.figures import FigureInfo, plt, save
from mixseg.report.io import read_curve
from mixseg.report.tables import SETTING_TITLES, measure

DATASET_TITLES = {"acdc": "ACDC", "la": "Left Atrium"}
FRACTION = 0.95  # "converged": the first validation reaching this fraction of the run's best


def study_table(study: experiments.Study, params: dict[str, Any]) -> tuple[str, str, list[dict]]:
    """(title, markdown, long-format CSV rows with a ``study.csv_column`` column) of ``study``."""
    settings = [str(s) for s in lookup(params, study.settings)]
    seeds = [int(s) for s in lookup(params, study.seeds)]
    where = ", ".join(SETTING_TITLES.get(s, s) for s in settings)
    title = f"{study.title} ({where}, {len(seeds)} seeds, test DSC %)"
    cols = study.columns
    lines = ["| Setting | Model | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    rows: list[dict] = []
    for setting in settings:
        for row in study.rows:
            for label, by_value in experiments.study_lines(study, row, params):
                cells = []
                for c in cols:
                    if c not in by_value:
                        cells.append("–")
                        continue
                    extra = {study.csv_column: c}
                    got, r = measure(
                        study.name,
                        "acdc",
                        setting,
                        by_value[c],
                        row.head,
                        seeds,
                        metrics=("dsc",),
                        **extra,
                    )
                    cells += got
                    rows += r
                title_s = SETTING_TITLES.get(setting, setting)
                lines.append(f"| {title_s} | {label} | " + " | ".join(cells) + " |")
    return title, "\n".join(lines) + "\n", rows


def ablation_table(params: dict[str, Any]) -> tuple[str, str, list[dict]]:
    """(title, markdown, long-format CSV rows with a ``forward`` column) of the ablation."""
    return study_table(experiments.ABLATION, params)


def preset_steps(params: dict[str, Any]) -> dict[str, int | None]:
    """Dataset -> ``presets.<preset>.<dataset>.train.steps`` of the convergence study's
    datasets (None: the preset counts epochs)."""
    out = {}
    for ds in experiments.CONVERGENCE_DATASETS:
        steps = lookup(params, f"{preset_key(params, ds, 'train')}.steps")
        out[ds] = None if steps is None else int(steps)
    return out


def first_step_reaching(steps: np.ndarray, dsc: np.ndarray, fraction: float) -> float | None:
    """The first step whose value reaches ``fraction`` of the curve's maximum (None: empty).

    >>> first_step_reaching(np.array([10, 20, 30]), np.array([50.0, 96.0, 100.0]), 0.95)
    20.0
    """
    if len(dsc) == 0:
        return None
    return float(steps[np.argmax(dsc >= fraction * dsc.max())])


def best_within(steps: np.ndarray, dsc: np.ndarray, limit: int | None) -> float | None:
    """The best value at a step <= ``limit`` (None: no such validation, or no limit)."""
    if limit is None or not (steps <= limit).any():
        return None
    return float(dsc[steps <= limit].max())


def _test_dsc(dataset: str, setting: str, run: str, seed: int, head: str) -> float | None:
    f = paths.eval_dir(dataset, setting, run, seed) / "metrics.json"
    if not f.exists():
        return None
    heads = json.loads(f.read_text())["heads"]
    return 100.0 * heads[head]["dsc"] if head in heads else None


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "not run" if value is None else format(value, spec)


def convergence_table(params: dict[str, Any]) -> tuple[str, str, list[dict]]:
    """(title, markdown, long-format CSV rows: one per run and ``metric``) of the convergence
    study; a run without a validation curve (or evaluation) is "not run"."""
    head_line = (
        "| Dataset | Model | Run | Preset steps | Best val DSC within them | Best val DSC | "
        f"First step >= {FRACTION:.0%} of best | Test DSC |"
    )
    lines = [head_line, "|" + "---|" * 8]
    rows: list[dict] = []
    limits = preset_steps(params)
    for ds in experiments.CONVERGENCE_DATASETS:
        limit = limits[ds]
        for row, setting, run, seed in experiments.convergence_runs(ds, params):
            head = row.heads[0]
            curve = read_curve(paths.live_plots_dir(ds, setting, run, seed), head)
            steps, dsc = curve if curve is not None else (np.zeros(0), np.zeros(0))
            values = {
                "best_val_dsc_within_preset": best_within(steps, dsc, limit),
                "best_val_dsc": float(dsc.max()) if len(dsc) else None,
                "first_step_95": first_step_reaching(steps, dsc, FRACTION),
                "test_dsc": _test_dsc(ds, setting, run, seed, head),
            }
            where = f"{run} ({SETTING_TITLES.get(setting, setting)}, seed {seed})"
            cells = [_fmt(values["best_val_dsc_within_preset"]), _fmt(values["best_val_dsc"])]
            cells += [_fmt(values["first_step_95"], ".0f"), _fmt(values["test_dsc"])]
            lines.append(
                f"| {DATASET_TITLES[ds]} | {row.label} | {where} | {_fmt(limit, 'd')} | "
                + " | ".join(cells)
                + " |"
            )
            for metric, v in values.items():
                rows.append(
                    {
                        "table": "convergence",
                        "dataset": ds,
                        "setting": setting,
                        "run": run,
                        "seed": seed,
                        "head": head,
                        "preset_steps": limit,
                        "metric": metric,
                        "ours": None if v is None else round(v, 3),
                    }
                )
    title = "Convergence study: validation DSC (%) of long runs vs the preset's steps"
    return title, "\n".join(lines) + "\n", rows


def convergence_figure(
    out_dir: Path, params: dict[str, Any], limits: dict[str, int | None]
) -> FigureInfo:
    """Validation DSC vs step of each convergence run, one panel per dataset, a dashed line at
    the preset's steps (``limits``: ``preset_steps``); runs without a curve are noted on their
    panel. Reads ``params``: runs only."""
    datasets = experiments.CONVERGENCE_DATASETS
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.8 * len(datasets), 3.8), squeeze=False)
    missing: list[str] = []
    for ax, ds in zip(axes[0], datasets, strict=True):
        gone = []
        for row, setting, run, seed in experiments.convergence_runs(ds, params):
            c = read_curve(paths.live_plots_dir(ds, setting, run, seed), row.heads[0])
            if c is None:
                gone.append(f"{setting}/{run}")
                continue
            ax.plot(*c, ".-", ms=3, label=f"{row.label} ({run}, {setting}, seed {seed})")
        limit = limits[ds]
        if limit is not None:
            ax.axvline(limit, color="0.3", ls="--", lw=1, label=f"preset steps ({limit})")
        ax.set(xlabel="training step", ylabel="validation DSC (%)", title=DATASET_TITLES[ds])
        ax.legend(fontsize=7)
        if gone:
            ax.text(0.01, 0.01, "not run: " + ", ".join(gone), transform=ax.transAxes,
                    fontsize=7, color="0.35", va="bottom", wrap=True)  # fmt: skip
        missing += [f"{ds}/{g}" for g in gone]
    fig.suptitle("Convergence: validation DSC of long runs")
    fig.tight_layout()
    name = "convergence.png"
    save(fig, out_dir / name)
    caption = (
        "Validation DSC during the convergence study's long runs (head: the evaluated one, the "
        "student for KL+Ent); dashed: the preset's steps, where the other runs stop."
    )
    return FigureInfo(
        "convergence", name, "Convergence study (validation DSC)", caption, True, missing
    )
