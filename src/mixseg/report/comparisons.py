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

Single-network runs are read from their only head, ``teacher``; ours from ``student``.
"""

from __future__ import annotations

from mixseg.report import paper_values as pv
from mixseg.report.tables import SETTING_TITLES, measure

PROPOSAL_ROWS = [
    ("proposals-lower", "Proposals (Lower bound)", "teacher"),
    ("proposals-kl", "Proposals (KL)", "teacher"),
    ("kl_ent", "Ours (KL+Ent)", "student"),
]
SSL_ROWS = [
    ("lower", "Lower bound", "teacher"),
    ("uamt", "UA-MT (Yu et al., 2019)", "teacher"),
    ("glmi", "GLMI (Peng et al., 2021)", "teacher"),
    ("ssco", "SSCO (Wang et al., 2021)", "teacher"),
    ("kl_ent", "Ours (KL+Ent)", "student"),
]
# The default (paper-chosen) values of the Appendix B sweeps.
UAMT_DEFAULT = 0.1
GLMI_DEFAULT = (1, 0.1)
SSCO_DEFAULT = (0.5, 4)


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
    return "uamt" if lambda_c == UAMT_DEFAULT else f"uamt-lc{lambda_c}"


def glmi_run(lambda_global: float, lambda_local: float) -> str:
    if (lambda_global, lambda_local) == GLMI_DEFAULT:
        return "glmi"
    return f"glmi-lgmi{lambda_global}-llmi{lambda_local}"


def ssco_run(lambda_1: float, lambda_2: float) -> str:
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
) -> tuple[str, list[dict]]:
    """A DSC grid of two hyper-parameters (rows: the first, columns: the second)."""
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
                "teacher",
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
    )


def table_b6(
    dataset: str, setting: str, seeds: list[int], sweep_seeds: list[int]
) -> tuple[str, list[dict]]:
    """Table B.6: λ1 (rows) x λ2 (columns) of SSCO, DSC."""
    return _grid(
        "B6", dataset, setting, seeds, sweep_seeds, pv.TABLE_B6, ssco_run, ("λ1", "λ2"), "ssco"
    )
