"""Report tables: our results beside the paper's, from the evaluation summaries of the runs.

A cell is the mean ± standard deviation over seeds of the per-run test means (DSC in %, HD95 in
mm), followed by the paper's value in parentheses. Runs are looked up from the run lists of
``params.yaml`` (never by globbing, so removed runs cannot linger in a table); a run without an
evaluation is shown as "not run", never filled in.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mixseg import experiments, paths
from mixseg.heads import HEADS
from mixseg.report.io import read_curve, to_csv, write_text  # noqa: F401  (re-exported)
from mixseg.report.paper_values import TABLE1

HEAD_TITLES = {"teacher": "Top (teacher)", "student": "Bottom (student)", "ensemble": "Ensemble"}
SETTING_TITLES = {"set3": "Set-3", "set5": "Set-5", "set10": "Set-10", "all": "All images"}
# Validation DSC (%) under which a head is taken to predict (almost) nothing: an empty
# prediction scores 0 against a non-empty mask, a head that learnt anything scores tens.
EMPTY_DSC = 5.0
EMPTY_MARK = "†"
EMPTY_NOTE = (
    f"{EMPTY_MARK} The head predicted (almost) nothing at the run's last validation check "
    f"(validation DSC below {EMPTY_DSC:g} %) in the number of seeds given after the mark "
    "(CSV column `ended_empty`; the curve is the run's `live/plots/metrics/val/`): it ended "
    "collapsed, and the cell shows the weights `train.select` kept (`best`: an earlier "
    "validation step's)."
)


def load_summaries(dataset: str, setting: str, run: str, seeds: list[int]) -> list[dict]:
    """Evaluation summaries of the seeds of one run that exist."""
    out = []
    for seed in seeds:
        f = paths.eval_dir(dataset, setting, run, seed) / "metrics.json"
        if f.exists():
            out.append(json.loads(f.read_text()))
    return out


def aggregate(summaries: list[dict], head: str, metric: str) -> tuple[float, float, int] | None:
    """(mean, population std, n) over seeds of one head's metric; None if no run has it."""
    vals = [s["heads"][head][metric] for s in summaries if head in s["heads"]]
    if not vals:
        return None
    scale = 100.0 if metric == "dsc" else 1.0
    vals = [v * scale for v in vals]
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
    return mean, std, len(vals)


def ended_empty(dataset: str, setting: str, run: str, head: str, seeds: list[int]) -> int:
    """How many of the seeds of a run ended with ``head`` predicting (almost) nothing: its
    last validation DSC below ``EMPTY_DSC`` (a seed without a curve counts as not empty)."""
    n = 0
    for seed in seeds:
        curve = read_curve(paths.live_plots_dir(dataset, setting, run, seed), head)
        n += curve is not None and len(curve[1]) > 0 and bool(curve[1][-1] < EMPTY_DSC)
    return n


def _cell(
    agg: tuple[float, float, int] | None, paper: float | None, has_head: bool, mark: str = ""
) -> str:
    if not has_head:
        return "–"
    if agg is None:
        ours = "not run"
    elif agg[2] == 1:  # one seed: no spread to show, say so instead of "± 0.00"
        ours = f"{agg[0]:.2f} (1 seed)"
    else:
        ours = f"{agg[0]:.2f} ± {agg[1]:.2f}"
    if mark:
        ours += f" {mark}"
    return ours if paper is None else f"{ours} ({paper:.2f})"


def measure(
    table: str,
    dataset: str,
    setting: str,
    run: str,
    head: str,
    seeds: list[int],
    paper: tuple[float | None, float | None] = (None, None),
    metrics: tuple[str, ...] = ("dsc", "hd95"),
    mark: str = "",
    **extra: Any,
) -> tuple[list[str], list[dict]]:
    """Cells (one per metric) and long-format CSV rows of one run's head, read from its seeds.

    Args:
        paper: the paper's (DSC, HD95) for this entry, ``None`` where it reports none.
        mark: appended to our value in the DSC cell (``EMPTY_MARK``).
        extra: columns added to every CSV row (e.g. the swept value).
    """
    sums = load_summaries(dataset, setting, run, seeds)
    cells, rows = [], []
    for metric in metrics:
        agg = aggregate(sums, head, metric)
        p = paper[0 if metric == "dsc" else 1]
        cells.append(_cell(agg, p, True, mark if metric == "dsc" else ""))
        rows.append(
            {
                "table": table,
                **extra,
                "dataset": dataset,
                "setting": setting,
                "run": run,
                "head": head,
                "metric": metric,
                "ours_mean": None if agg is None else round(agg[0], 3),
                "ours_std": None if agg is None else round(agg[1], 3),
                "n_seeds": 0 if agg is None else agg[2],
                "paper": p,
            }
        )
    return cells, rows


def table1(
    dataset: str,
    settings: list[str],
    seeds: list[int],
    paper_values: dict | None = None,
    table: str = "1",
) -> tuple[str, list[dict]]:
    """Table 1 (or Table 7: the same layout on LA) as markdown and long-format CSV rows; rows
    from the catalog (``experiments.TABLE1``, ``TABLE7``: a cell for each head of a row). A DSC
    cell whose head ended a seed's run collapsed is marked (``ended_empty``, ``EMPTY_NOTE``).

    Args:
        paper_values: the paper's values, keyed like ``paper_values.TABLE1`` (the default).
    """
    paper_values = TABLE1 if paper_values is None else paper_values
    header = ["Setting", "Model"] + [
        f"{HEAD_TITLES[h]} {m}" for h in HEADS for m in ("DSC", "HD-95")
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows: list[dict[str, Any]] = []
    catalog = {"acdc": experiments.TABLE1, "la": experiments.TABLE7}[dataset]
    for setting, row, run in catalog.entries(settings):
        paper = paper_values.get((setting, run), {})
        cells = []
        for head in HEADS:
            if head not in row.heads:
                cells += ["–", "–"]
                continue
            empty = ended_empty(dataset, setting, run, head, seeds)
            c, r = measure(
                table,
                dataset,
                setting,
                run,
                head,
                seeds,
                paper.get(head, (None, None)),
                mark=f"{EMPTY_MARK}{empty}" if empty else "",
            )
            cells += c
            rows += [x | {"ended_empty": empty} for x in r]
        lines.append(
            f"| {SETTING_TITLES.get(setting, setting)} | {row.label} | " + " | ".join(cells) + " |"
        )
    if any(r["ended_empty"] for r in rows):
        lines += ["", EMPTY_NOTE]
    return "\n".join(lines) + "\n", rows


def headline(dataset: str, settings: list[str], seeds: list[int]) -> dict[str, Any]:
    """``reports/metrics.json``: the DSC/HD95 of ``experiments.HEADLINE`` (the KL+Ent student)
    per setting (shown by `dvc exp show`)."""
    out: dict[str, Any] = {}
    for setting, row, run in experiments.HEADLINE.entries(settings):
        head = row.heads[0]
        sums = load_summaries(dataset, setting, run, seeds)
        for metric in ("dsc", "hd95"):
            agg = aggregate(sums, head, metric)
            if agg is not None:
                out.setdefault(setting, {})[f"{run}_{head}_{metric}"] = round(agg[0], 3)
    return {dataset: out}
