"""Every report table (``outputs.TABLE_NAMES``), with its title and the note above it: preset,
data source, what a cell is and which runs it reads."""

from __future__ import annotations

import dataclasses

from mixseg import experiments
from mixseg.config import lookup
from mixseg.report import comparisons, studies, sweeps
from mixseg.report.paper_values import TABLE7
from mixseg.report.tables import table1


@dataclasses.dataclass(frozen=True)
class Table:
    name: str  # file stem in reports/tables
    title: str
    note: str  # preset, data source, cells, runs read
    markdown: str
    rows: list[dict]

    def text(self) -> str:
        return f"# {self.title}\n\n{self.note}\n\n{self.markdown}"


def _note(preset: str, dataset: str, source: str, seeds: str, runs: str, extra: str = "") -> str:
    return (
        f"Preset `{preset}`, dataset `{dataset}`, data source `{source}`. Cells: ours, mean ± std "
        f'over seeds {seeds} of the per-run test means, then (the paper\'s value); "not run": no '
        f"evaluation of that run exists yet. DSC in %, HD-95 in mm. Runs read: "
        f"`results/{dataset}/<setting>/<run>/seed<k>/eval/metrics.json`, {runs}.{extra}"
    )


def build_tables(params: dict) -> list[Table]:
    """Every table of ``outputs.TABLE_NAMES``, in order, from the evaluation summaries on disk.

    Reads ``params``: preset, data.acdc.source, data.la.source, runs, and the defaults of the
    swept keys (lambda_w, lambda_kd, lambda_ent, divergence, lambda_c, lambda_gmi, lambda_lmi,
    lambda_sp, lambda_sc). Seeds: Tables 1, 4-6 and A.1-A.3
    ``runs.seeds`` (sweeps ``runs.sweep_seeds``); Tables 2, 3 and the default runs of B.4-B.6
    ``runs.compare_seeds`` (the other B cells ``runs.sweep_seeds``); Table 7 ``runs.la_seeds``.
    The studies' tables also read ``mixed_forward`` and the preset's ``train.steps`` of each
    dataset (``report/studies.py``).
    """
    preset, r = params["preset"], params["runs"]
    acdc, la = params["data"]["acdc"]["source"], params["data"]["la"]["source"]
    settings = list(r["settings"])

    def seeds_of(key: str) -> list[int]:
        return [int(s) for s in lookup(params, key)]

    seeds, la_seeds = seeds_of(experiments.TABLE1.seeds), seeds_of(experiments.TABLE7.seeds)
    cmp_seeds = seeds_of(experiments.TABLE2.seeds)
    # The seeds of the B sweeps' runs other than the default ones.
    sweep_seeds = seeds_of(experiments.group(experiments.sweep("tableB4").groups[0]).seeds)
    # Appendix B sweeps: Set-3 in the paper (the first setting of the sweeps here).
    b_setting = r["sweeps"]["settings"][0]
    out = []
    md, rows = table1("acdc", settings, seeds)
    out.append(
        Table(
            "table1",
            "Table 1: ACDC (LV), test set",
            _note(
                preset, "acdc", acdc, str(seeds), "run names in `runs.py` (`lower`, `single`, ...)"
            ),
            md,
            rows,
        )
    )
    md, rows = comparisons.table2("acdc", settings, cmp_seeds)
    out.append(
        Table(
            "table2",
            "Table 2: retraining on proposals vs ours (ACDC)",
            _note(
                preset,
                "acdc",
                acdc,
                str(cmp_seeds),
                _runs_read(experiments.TABLE2),
            ),
            md,
            rows,
        )
    )
    md, rows = comparisons.table3("acdc", settings, cmp_seeds)
    out.append(
        Table(
            "table3",
            "Table 3: semi-supervised methods vs ours (ACDC)",
            _note(
                preset,
                "acdc",
                acdc,
                str(cmp_seeds),
                "the run named in each row (single networks: head teacher; SSCO: head ensemble, "
                "the mean of its two networks; ours: head student)",
            ),
            md,
            rows,
        )
    )
    for name in ("table4", "table5", "table6"):
        out.append(_sweep(experiments.sweep(name), params, preset, acdc))
    md, rows = table1("la", settings, la_seeds, TABLE7, table="7")
    out.append(
        Table(
            "table7",
            "Table 7: Left Atrium, test set",
            _note(
                preset,
                "la",
                la,
                str(la_seeds),
                "the run names of Table 1",
            ),
            md,
            rows,
        )
    )
    for name in ("tableA1", "tableA2", "tableA3"):
        out.append(_sweep(experiments.sweep(name), params, preset, acdc))
    for name, fn in (
        ("tableB4", comparisons.table_b4),
        ("tableB5", comparisons.table_b5),
        ("tableB6", comparisons.table_b6),
    ):
        sw = experiments.sweep(name)
        md, rows = fn("acdc", b_setting, cmp_seeds, sweep_seeds, params)
        out.append(
            Table(
                name,
                f"{sw.title}, {b_setting}",
                _note(
                    preset,
                    "acdc",
                    acdc,
                    f"{sweep_seeds} (the default run: {cmp_seeds})",
                    f"the run named in each cell (head {sw.head}); the paper's values: Set-3 only",
                ),
                md,
                rows,
            )
        )
    return out + _studies(params, preset, acdc, la)


def _studies(params: dict, preset: str, acdc: str, la: str) -> list[Table]:
    """The tables of the studies behind the cpu preset (``report/studies.py``)."""
    title, md, rows = studies.ablation_table(params)
    note = (
        f"Preset `{preset}`, dataset `acdc`, data source `{acdc}`. Cells: test DSC in %, mean ± "
        'std over the seeds of the per-run test means; "not run": no evaluation of that run '
        "exists yet; `–`: no such run. split = one forward pass per row group (each with its "
        "own BatchNorm statistics), joint = one pass. Runs read: "
        "`results/acdc/<setting>/<run>/seed<k>/eval/metrics.json`: `lower` (no mixed batches: "
        "both columns), `single-lw<λw>-mf<forward>`, and Table 1's `decoupled`, `kl_ent` "
        "(split) beside `decoupled-mfjoint`, `kl_ent-mfjoint` (joint); "
        "`kl_ent-mf<forward>-loss<convention>`: KL+Ent under `loss_convention` (reference: "
        'Eq. 3 and Eq. 4 normalised as the reference code, README "Ambiguities"; joint + '
        "reference is the reference code's training step)."
    )
    out = [Table("ablation", title, note, md, rows)]
    title, md, rows = studies.study_table(experiments.SELECTION, params)
    note = (
        f"Preset `{preset}`, dataset `acdc`, data source `{acdc}`. Cells: test DSC in %, mean ± "
        'std over the seeds of the per-run test means; "not run": no evaluation of that run '
        "exists yet. evaluated = every head of a run with the weights of the evaluated head's "
        "best validation step (the student's: the reference code's rule, `train.select_head: "
        "evaluated`, Table 1's `decoupled`); each = every head with the weights of its own best "
        "validation step (`decoupled-sheach`). `lower` has one head: both columns."
    )
    out.append(Table("selection", title, note, md, rows))
    title, md, rows = studies.convergence_table(params)
    note = (
        f"Preset `{preset}`, data sources: acdc `{acdc}`, la `{la}`. One long run per row (the "
        "studies' `<method>-n<steps>`), its evaluated head (the student for KL+Ent). Validation "
        "DSC in % from `results/<ds>/<setting>/<run>/seed<k>/live/plots/metrics/val/"
        'dsc_<head>.tsv`; test DSC from its `eval/metrics.json`; "not run": no such file yet.'
    )
    return out + [Table("convergence", title, note, md, rows)]


def _runs_read(table: experiments.Table) -> str:
    """``runs `a`, `b` (head teacher) and `c` (head student)``: a table's runs by head."""
    parts: list[tuple[list[str], str]] = []
    for row in table.rows:
        run, head = experiments.group(row.group, table.dataset).run, row.heads[0]
        if parts and parts[-1][1] == head:
            parts[-1][0].append(f"`{run}`")
        else:
            parts.append(([f"`{run}`"], head))
    text = [f"{', '.join(runs)} (head {head})" for runs, head in parts]
    return "runs " + ", ".join(text[:-1]) + (" and " if len(text) > 1 else "") + text[-1]


def _sweep(sw: experiments.Sweep, params: dict, preset: str, source: str) -> Table:
    md, rows = sweeps.sweep_table(sw, "acdc", params)
    seeds = lookup(params, experiments.group(sw.groups[0]).seeds)
    default_seeds = lookup(params, experiments.group(sw.default).seeds)
    note = _note(
        preset,
        "acdc",
        source,
        f"{[int(s) for s in seeds]} (the default row: {[int(s) for s in default_seeds]})",
        f"`{sw.method}` for the default row, `{sw.method}-<tag><value>` for the others",
    )
    return Table(sw.table, sw.title, note, md, rows)
