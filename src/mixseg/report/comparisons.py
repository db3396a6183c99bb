"""Tables 2, 3 and Appendix B.4-B.6: our model against proposals and semi-supervised methods.

The runs these tables read do not all exist yet. Each row names the run it reads, so that when a
run lands under the name below its row fills in with no change to this code; until then the
cell says "not run" (never the paper's number). Run names (``results/<ds>/<setting>/<run>/``):

- ``proposals-lower``, ``proposals-kl``: a single network retrained on the fully labelled images
  plus the pseudo-masks of the Lower bound / KL model on the partially labelled ones (Table 2);
  ``selftrain-it<t>`` (t >= 2) the self-training iterations after ``proposals-kl`` (Fig. 5).
- ``uamt``, ``glmi``, ``ssco``: the semi-supervised baselines at the paper's chosen
  hyper-parameters (Table 3); their sweeps (Set-3) are ``uamt-lc<λc>``,
  ``glmi-lgmi<λglobalMI>-llmi<λlocalMI>`` and ``ssco-lsp<λ1>-lsc<λ2>`` (λ1 weighs the self-paced
  co-training loss, λ2 the self-consistency loss). The row of the paper's chosen value reads the
  default run (``uamt``, ``glmi``, ``ssco``), as the sweeps of ``sweeps.py`` do.

Single-network runs are read from their only head, ``teacher``; ours from ``student``. SSCO
co-trains two networks (heads ``teacher`` = network 1, ``student`` = network 2). Table 3 gives
one number per method, and the prediction of a co-training method is that of its networks
together, so SSCO's rows (Table 3, and Table B.6 whose default cell is the same run) read
``ensemble``, the mean of the two softmax maps; either network alone would be half the method.

The rows, their runs, heads and labels, and the seeds keys are the experiment catalog's
(``mixseg.experiments``: ``TABLE2``, ``TABLE3`` and the sweeps ``tableB4``-``tableB6``); the
default value of a swept key is params.yaml's (the paper's chosen value). Seeds: Tables 2, 3 and
the default runs of B.4-B.6 read ``runs.compare_seeds``, the other B cells ``runs.sweep_seeds``.

Swept values are spelled in run names as DVC renders ``${item.x}`` of the YAML lists: Python's
``str`` of the number, ints without ``.0`` (``glmi-lgmi1-llmi0.05``, ``uamt-lc10``).
"""

from __future__ import annotations

from typing import Any

from mixseg import experiments
from mixseg.experiments import sweep_run
from mixseg.report import paper_values as pv
from mixseg.report.tables import SETTING_TITLES, measure


def _md(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body]) + "\n"


def table2(dataset: str, settings: list[str], seeds: list[int]) -> tuple[str, list[dict]]:
    """Table 2 (one row per setting, one column pair per model) as markdown and CSV rows."""
    rows2 = experiments.TABLE2.rows
    header = ["Setting"] + [f"{r.label} {m}" for r in rows2 for m in ("DSC", "HD-95")]
    body, rows = [], []
    for setting in settings:
        line = [SETTING_TITLES.get(setting, setting)]
        for _, row, run in experiments.TABLE2.entries([setting]):
            paper = pv.TABLE2.get(setting, {}).get(run, (None, None))
            c, r = measure("2", dataset, setting, run, row.heads[0], seeds, paper)
            line += c
            rows += r
        body.append(line)
    return _md(header, body), rows


def table3(dataset: str, settings: list[str], seeds: list[int]) -> tuple[str, list[dict]]:
    """Table 3 (one row per setting and model) as markdown and CSV rows."""
    body, rows = [], []
    for setting, row, run in experiments.TABLE3.entries(settings):
        paper = pv.TABLE3.get(setting, {}).get(run, (None, None))
        c, r = measure("3", dataset, setting, run, row.heads[0], seeds, paper)
        body.append([SETTING_TITLES.get(setting, setting), f"{row.label} (`{run}`)", *c])
        rows += r
    return _md(["Setting", "Model (run)", "DSC", "HD-95"], body), rows


def table_b4(
    dataset: str, setting: str, seeds: list[int], sweep_seeds: list[int], params: dict[str, Any]
) -> tuple[str, list[dict]]:
    """Table B.4: λc of UA-MT (DSC and HD-95) on one setting (the paper: Set-3)."""
    sw = experiments.sweep("tableB4")
    (key,) = sw.keys
    default_run = experiments.group(sw.default).run
    body, rows = [], []
    for value, paper in pv.TABLE_B4.items():
        run = sweep_run(sw, params, {key: value})
        default = run == default_run
        c, r = measure(
            "B4",
            dataset,
            setting,
            run,
            sw.head,
            seeds if default else sweep_seeds,
            paper if setting == "set3" else (None, None),
            value=value,
        )
        label = f"**λc = {value}** (default)" if default else f"λc = {value}"
        body.append([f"{label} (`{run}`)", *c])
        rows += r
    return _md(["λc (run)", "DSC", "HD-95"], body), rows


def _grid(
    sw: experiments.Sweep,
    dataset: str,
    setting: str,
    seeds: list[int],
    sweep_seeds: list[int],
    params: dict[str, Any],
    paper: dict,
    names: tuple[str, str],
) -> tuple[str, list[dict]]:
    """A DSC grid of the two keys of ``sw`` (rows: the first, columns: the second)."""
    row_values = list(dict.fromkeys(a for a, _ in paper))
    col_values = list(dict.fromkeys(b for _, b in paper))
    default_run = experiments.group(sw.default).run
    body, rows = [], []
    for a in row_values:
        line = [f"{names[0]} = {a}"]
        for b in col_values:
            run = sweep_run(sw, params, dict(zip(sw.keys, (a, b), strict=True)))
            p = paper[(a, b)] if setting == "set3" else None
            c, r = measure(
                sw.table[len("table") :],
                dataset,
                setting,
                run,
                sw.head,
                seeds if run == default_run else sweep_seeds,
                (p, None),
                ("dsc",),
                value=f"{a}/{b}",
            )
            line.append(f"{c[0]} (`{run}`)")
            rows += r
        body.append(line)
    return _md(
        [f"{names[0]} \\ {names[1]}"] + [f"{names[1]} = {b}" for b in col_values], body
    ), rows


def table_b5(
    dataset: str, setting: str, seeds: list[int], sweep_seeds: list[int], params: dict[str, Any]
) -> tuple[str, list[dict]]:
    """Table B.5: λglobalMI (rows) x λlocalMI (columns) of GLMI, DSC."""
    sw = experiments.sweep("tableB5")
    names = ("λglobalMI", "λlocalMI")
    return _grid(sw, dataset, setting, seeds, sweep_seeds, params, pv.TABLE_B5, names)


def table_b6(
    dataset: str, setting: str, seeds: list[int], sweep_seeds: list[int], params: dict[str, Any]
) -> tuple[str, list[dict]]:
    """Table B.6: λ1 (rows) x λ2 (columns) of SSCO, DSC of the ensemble (as Table 3)."""
    sw = experiments.sweep("tableB6")
    return _grid(sw, dataset, setting, seeds, sweep_seeds, params, pv.TABLE_B6, ("λ1", "λ2"))
