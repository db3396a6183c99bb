"""Sweep tables (Tables 4, 5, 6 and Appendix A.1-A.3): one row per value of one hyper-parameter.

The row of the default value is the default run (trained once, shared with Table 1); the other
rows are the sweep runs ``<method>-<tag><value>``. Rows follow the paper's tables: its values
first, then any extra value configured in ``params.yaml``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mixseg import runs
from mixseg.report import paper_values as pv
from mixseg.report.tables import SETTING_TITLES, _cell, aggregate, load_summaries


@dataclasses.dataclass(frozen=True)
class Sweep:
    name: str  # file name in reports/tables
    title: str
    method: str
    key: str  # the swept hyper-parameter (a runs.TAGS key)
    values_key: str  # runs.sweeps.<values_key> lists the swept values
    settings_key: str | None  # runs.sweeps.<settings_key>, or None for runs.settings
    head: str
    paper: dict
    extra: dict  # value -> (method, overrides) of rows that are another method's run


SWEEPS = [
    Sweep(
        "table4",
        "Table 4: impact of λKL on KL+Ent (student)",
        "kl_ent",
        "lambda_kd",
        "t4_lambda_kd",
        "settings",
        "student",
        pv.TABLE4,
        {},
    ),
    Sweep(
        "table5",
        "Table 5: impact of λw on KL+Ent (student)",
        "kl_ent",
        "lambda_w",
        "t5_lambda_w",
        "settings",
        "student",
        pv.TABLE5,
        {},
    ),
    Sweep(
        "table6",
        "Table 6: divergences for the Lkd term, KL+Ent (student)",
        "kl_ent",
        "divergence",
        "t6_divergence",
        "t6_settings",
        "student",
        pv.TABLE6,
        {},
    ),
    Sweep(
        "tableA1",
        "Table A.1: impact of λw on Single",
        "single",
        "lambda_w",
        "a1_lambda_w",
        "settings",
        "teacher",
        pv.TABLE_A1,
        {},
    ),
    Sweep(
        "tableA2",
        "Table A.2: impact of λKL on KL (student)",
        "kl",
        "lambda_kd",
        "a2_lambda_kd",
        "settings",
        "student",
        pv.TABLE_A2,
        {},
    ),
    Sweep(
        "tableA3",
        "Table A.3: impact of λEnt on Single + Ent",
        "single_ent",
        "lambda_ent",
        "a3_lambda_ent",
        "a3_settings",
        "teacher",
        pv.TABLE_A3,
        {0.0: ("single", {})},
    ),
]


def _same(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def sweep_rows(sw: Sweep, params: dict) -> list[tuple[Any, str, str]]:
    """(value, method, run name) of every row, paper order first."""
    default = params[sw.key]
    values = list(params["runs"]["sweeps"][sw.values_key])
    out: list[tuple[Any, str, str]] = []
    for v in list(sw.paper) + values + [default] + list(sw.extra):
        if any(_same(v, o[0]) for o in out):
            continue
        if any(_same(v, e) for e in sw.extra):
            method, ov = next(sw.extra[e] for e in sw.extra if _same(v, e))
            out.append((v, method, runs.run_name(method, ov)))
        elif _same(v, default):
            out.append((v, sw.method, sw.method))
        elif any(_same(v, x) for x in values):
            x = next(x for x in values if _same(v, x))
            out.append((x, sw.method, runs.run_name(sw.method, {sw.key: str(x)})))
        else:  # a paper row whose value is not configured: shown as not run
            out.append((v, sw.method, runs.run_name(sw.method, {sw.key: str(v)})))
    return out


def sweep_table(sw: Sweep, dataset: str, params: dict) -> tuple[str, list[dict]]:
    """Markdown and long-format CSV rows of one sweep table."""
    settings = (
        params["runs"]["sweeps"][sw.settings_key] if sw.settings_key else params["runs"]["settings"]
    )
    default = params[sw.key]
    seeds_main = [int(s) for s in params["runs"]["seeds"]]
    seeds_sweep = [int(s) for s in params["runs"]["sweep_seeds"]]
    header = [sw.key] + [
        f"{SETTING_TITLES.get(s, s)} {m}" for s in settings for m in ("DSC", "HD-95")
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows: list[dict] = []
    for value, _method, run in sweep_rows(sw, params):
        is_default = _same(value, default) or any(_same(value, e) for e in sw.extra)
        seeds = seeds_main if is_default else seeds_sweep
        paper = next((p for k, p in sw.paper.items() if _same(k, value)), {})
        cells = []
        for setting in settings:
            sums = load_summaries(dataset, setting, run, seeds)
            for metric, k in (("dsc", 0), ("hd95", 1)):
                agg = aggregate(sums, sw.head, metric)
                p = paper.get(setting, (None, None))[k]
                cells.append(_cell(agg, p, True))
                rows.append(
                    {
                        "table": sw.name,
                        "value": value,
                        "run": run,
                        "setting": setting,
                        "head": sw.head,
                        "metric": metric,
                        "ours_mean": None if agg is None else round(agg[0], 3),
                        "ours_std": None if agg is None else round(agg[1], 3),
                        "n_seeds": 0 if agg is None else agg[2],
                        "paper": p,
                    }
                )
        label = f"**{value}** (default)" if _same(value, default) else str(value)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n", rows
