"""Tables 2, 3 and Appendix B.4-B.6: our model against proposals and semi-supervised methods.

The runs these tables read do not all exist yet. Each row names the run it reads, so that when a
run lands under the name below its row fills in with no change to this code; until then the
cell says "not run" (never the paper's number). Run names (``data/eval/<ds>/<setting>/<run>/``):

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

Seeds (``params.yaml``): Tables 2, 3 and the default runs of B.4-B.6 read ``runs.compare_seeds``,
the other B cells ``runs.sweep_seeds``; self-training (Fig. 5) runs at ``runs.selftrain.settings``
for iterations I2..IK (K = ``runs.selftrain.iterations``; I1 is ``proposals-kl``); Table 7 (LA)
reads ``runs.la_seeds``. Until params.yaml has a key, ``DEFAULTS`` gives its value.

Swept values are spelled in run names as DVC renders ``${item.x}`` of the YAML lists: Python's
``str`` of the number, ints without ``.0`` (``glmi-lgmi1-llmi0.05``, ``uamt-lc10``).
"""

from __future__ import annotations

from typing import Any

from mixseg.report import paper_values as pv
from mixseg.report.tables import SETTING_TITLES, measure

SSCO_HEAD = "ensemble"  # the mean of its two co-trained networks (see above)
PROPOSAL_ROWS = [
    ("proposals-lower", "Proposals (Lower bound)", "teacher"),
    ("proposals-kl", "Proposals (KL)", "teacher"),
    ("kl_ent", "Ours (KL+Ent)", "student"),
]
SSL_ROWS = [
    ("lower", "Lower bound", "teacher"),
    ("uamt", "UA-MT (Yu et al., 2019)", "teacher"),
    ("glmi", "GLMI (Peng et al., 2021)", "teacher"),
    ("ssco", "SSCO (Wang et al., 2021)", SSCO_HEAD),
    ("kl_ent", "Ours (KL+Ent)", "student"),
]
# The default (paper-chosen) values of the Appendix B sweeps.
UAMT_DEFAULT = 0.1
GLMI_DEFAULT = (1, 0.1)
SSCO_DEFAULT = (0.5, 4)
# Values of the ``runs`` keys of these runs while params.yaml does not define them.
DEFAULTS: dict[str, Any] = {
    "compare_seeds": [0],
    "la_seeds": [0],
    "selftrain": {"iterations": 5, "settings": ["set3"]},
}


def compare_seeds(runs: dict) -> list[int]:
    """Seeds of Tables 2, 3, Figs. 3, 5 and the default runs of B.4-B.6 (``runs.compare_seeds``)."""
    return [int(s) for s in runs.get("compare_seeds", DEFAULTS["compare_seeds"])]


def la_seeds(runs: dict) -> list[int]:
    """Seeds of the LA runs of Table 7 (``runs.la_seeds``)."""
    return [int(s) for s in runs.get("la_seeds", DEFAULTS["la_seeds"])]


def selftrain_runs(runs: dict) -> tuple[list[str], list[str]]:
    """(settings, run of iteration I1..IK) of self-training (``runs.selftrain``): I1 is
    ``proposals-kl``, It (t >= 2) ``selftrain-it<t>``, trained on the pseudo-labels of It-1."""
    st = {**DEFAULTS["selftrain"], **runs.get("selftrain", {})}
    its = ["proposals-kl"] + [f"selftrain-it{t}" for t in range(2, int(st["iterations"]) + 1)]
    return list(st["settings"]), its


def _md(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body]) + "\n"


def table2(dataset: str, settings: list[str], seeds: list[int]) -> tuple[str, list[dict]]:
    """Table 2 (one row per setting, one column pair per model) as markdown and CSV rows."""
    header = ["Setting"] + [f"{t} {m}" for _, t, _ in PROPOSAL_ROWS for m in ("DSC", "HD-95")]
    body, rows = [], []
    for setting in settings:
        line = [SETTING_TITLES.get(setting, setting)]
        for run, _, head in PROPOSAL_ROWS:
            paper = pv.TABLE2.get(setting, {}).get(run, (None, None))
            c, r = measure("2", dataset, setting, run, head, seeds, paper)
            line += c
            rows += r
        body.append(line)
    return _md(header, body), rows


def table3(dataset: str, settings: list[str], seeds: list[int]) -> tuple[str, list[dict]]:
    """Table 3 (one row per setting and model) as markdown and CSV rows."""
    body, rows = [], []
    for setting in settings:
        for run, title, head in SSL_ROWS:
            paper = pv.TABLE3.get(setting, {}).get(run, (None, None))
            c, r = measure("3", dataset, setting, run, head, seeds, paper)
            body.append([SETTING_TITLES.get(setting, setting), f"{title} (`{run}`)", *c])
            rows += r
    return _md(["Setting", "Model (run)", "DSC", "HD-95"], body), rows


def uamt_run(lambda_c: float) -> str:
    """Run of UA-MT at λc (``uamt`` at the paper's value)."""
    return "uamt" if lambda_c == UAMT_DEFAULT else f"uamt-lc{lambda_c}"


def glmi_run(lambda_global: float, lambda_local: float) -> str:
    """Run of GLMI at (λglobalMI, λlocalMI) (``glmi`` at the paper's values)."""
    if (lambda_global, lambda_local) == GLMI_DEFAULT:
        return "glmi"
    return f"glmi-lgmi{lambda_global}-llmi{lambda_local}"


def ssco_run(lambda_1: float, lambda_2: float) -> str:
    """Run of SSCO at (λ1, λ2) (``ssco`` at the paper's values)."""
    return "ssco" if (lambda_1, lambda_2) == SSCO_DEFAULT else f"ssco-lsp{lambda_1}-lsc{lambda_2}"


def table_b4(
    dataset: str, setting: str, seeds: list[int], sweep_seeds: list[int]
) -> tuple[str, list[dict]]:
    """Table B.4: λc of UA-MT (DSC and HD-95) on one setting (the paper: Set-3)."""
    body, rows = [], []
    for value, paper in pv.TABLE_B4.items():
        run = uamt_run(value)
        default = run == "uamt"
        c, r = measure(
            "B4",
            dataset,
            setting,
            run,
            "teacher",
            seeds if default else sweep_seeds,
            paper if setting == "set3" else (None, None),
            value=value,
        )
        label = f"**λc = {value}** (default)" if default else f"λc = {value}"
        body.append([f"{label} (`{run}`)", *c])
        rows += r
    return _md(["λc (run)", "DSC", "HD-95"], body), rows


def _grid(
    table: str,
    dataset: str,
    setting: str,
    seeds: list[int],
    sweep_seeds: list[int],
    paper: dict,
    name,
    names: tuple[str, str],
    default: str,
    head: str,
) -> tuple[str, list[dict]]:
    """A DSC grid of two hyper-parameters (rows: the first, columns: the second) of ``head``."""
    row_values = list(dict.fromkeys(a for a, _ in paper))
    col_values = list(dict.fromkeys(b for _, b in paper))
    body, rows = [], []
    for a in row_values:
        line = [f"{names[0]} = {a}"]
        for b in col_values:
            run = name(a, b)
            p = paper[(a, b)] if setting == "set3" else None
            c, r = measure(
                table,
                dataset,
                setting,
                run,
                head,
                seeds if run == default else sweep_seeds,
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
    dataset: str, setting: str, seeds: list[int], sweep_seeds: list[int]
) -> tuple[str, list[dict]]:
    """Table B.5: λglobalMI (rows) x λlocalMI (columns) of GLMI, DSC."""
    return _grid(
        "B5",
        dataset,
        setting,
        seeds,
        sweep_seeds,
        pv.TABLE_B5,
        glmi_run,
        ("λglobalMI", "λlocalMI"),
        "glmi",
        "teacher",
    )


def table_b6(
    dataset: str, setting: str, seeds: list[int], sweep_seeds: list[int]
) -> tuple[str, list[dict]]:
    """Table B.6: λ1 (rows) x λ2 (columns) of SSCO, DSC of the ensemble (as Table 3)."""
    return _grid(
        "B6",
        dataset,
        setting,
        seeds,
        sweep_seeds,
        pv.TABLE_B6,
        ssco_run,
        ("λ1", "λ2"),
        "ssco",
        SSCO_HEAD,
    )
