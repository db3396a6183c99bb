"""Sweep tables (Tables 4, 5, 6 and Appendix A.1-A.3): one row per value of one hyper-parameter.

The row of the default value is the default run (trained once, shared with Table 1); the other
rows are the sweep runs ``<method>-<tag><value>`` (the sweeps and their runs:
``mixseg.experiments.SWEEPS``). Rows follow the paper's tables: its values first, then any extra
value configured in ``params.yaml``.
"""

from __future__ import annotations

from typing import Any

from mixseg.config import lookup
from mixseg.experiments import Sweep, group, same_value, sweep_run
from mixseg.report import paper_values as pv
from mixseg.report.tables import SETTING_TITLES, _cell, aggregate, load_summaries

# The paper's values of each sweep table (rows: swept value -> setting -> (DSC, HD95)).
PAPER = {
    "table4": pv.TABLE4,
    "table5": pv.TABLE5,
    "table6": pv.TABLE6,
    "tableA1": pv.TABLE_A1,
    "tableA2": pv.TABLE_A2,
    "tableA3": pv.TABLE_A3,
}


def sweep_rows(sw: Sweep, params: dict) -> list[tuple[Any, str, str]]:
    """(value, group, run name) of every row, paper order first, of a one-key sweep."""
    (key,) = sw.keys
    default = lookup(params, sw.defaults.get(key, key))
    values = list(lookup(params, group(sw.groups[0]).sweep[key]))
    out: list[tuple[Any, str, str]] = []
    for v in list(PAPER.get(sw.table, {})) + values + [default] + list(sw.extra):
        if any(same_value(v, o[0]) for o in out):
            continue
        extra = next((g for e, g in sw.extra.items() if same_value(v, e)), None)
        if extra is None and not same_value(v, default):  # spelled as params.yaml has it
            v = next((x for x in values if same_value(v, x)), v)
        name = extra or (sw.default if same_value(v, default) else sw.groups[0])
        out.append((v, name, sweep_run(sw, params, {key: v})))
    return out


def sweep_table(sw: Sweep, dataset: str, params: dict) -> tuple[str, list[dict]]:
    """Markdown and long-format CSV rows of one sweep table; each row read at its group's seeds
    (the default row: the default run's)."""
    (key,) = sw.keys
    settings = lookup(params, group(sw.groups[0]).settings)
    default = lookup(params, sw.defaults.get(key, key))
    header = [key] + [f"{SETTING_TITLES.get(s, s)} {m}" for s in settings for m in ("DSC", "HD-95")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows: list[dict] = []
    paper_rows = PAPER.get(sw.table, {})
    for value, name, run in sweep_rows(sw, params):
        seeds = [int(s) for s in lookup(params, group(name).seeds)]
        paper = next((p for k, p in paper_rows.items() if same_value(k, value)), {})
        cells = []
        for setting in settings:
            sums = load_summaries(dataset, setting, run, seeds)
            for metric, k in (("dsc", 0), ("hd95", 1)):
                agg = aggregate(sums, sw.head, metric)
                p = paper.get(setting, (None, None))[k]
                cells.append(_cell(agg, p, True))
                rows.append(
                    {
                        "table": sw.table,
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
        label = f"**{value}** (default)" if same_value(value, default) else str(value)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n", rows
