"""Stage `tables`: the report tables (ours beside the paper's) and the headline metrics.

Reads: preset, data.acdc.source, runs (the run lists), lambda_w, lambda_kd, lambda_ent,
divergence (to label the default rows of the sweeps). Writes: reports/tables/, reports/metrics.json.
"""

import argparse
import json

from mixseg import config, paths
from mixseg.report import sweeps, tables


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default=str(config.PARAMS_FILE))
    args = parser.parse_args(argv)
    params = config.read_params(args.params)
    preset = config.lookup(params, "preset")
    source = config.lookup(params, "data.acdc.source")
    settings = list(config.lookup(params, "runs.settings"))
    seeds = [int(s) for s in config.lookup(params, "runs.seeds")]
    md, rows = tables.table1("acdc", settings, seeds)
    title = (
        "# Table 1: ACDC (LV), test set\n\n"
        f"Preset `{preset}`, data source `{source}`. Cells: ours, mean ± std over seeds "
        f"{seeds} of the per-run test means, then (the paper's value). DSC in %, HD-95 in mm.\n\n"
    )
    out = paths.REPORTS / "tables"
    tables.write_text(out / "table1.md", title + md)
    tables.write_text(out / "table1.csv", tables.to_csv(rows))
    for sw in sweeps.SWEEPS:
        md, rows = sweeps.sweep_table(sw, "acdc", params)
        head = (
            f"# {sw.title}\n\nPreset `{preset}`, data source `{source}`. Cells: ours, mean ± std "
            "over seeds (runs.sweep_seeds; the default row: runs.seeds), then (the paper's value). "
            "DSC in %, HD-95 in mm.\n\n"
        )
        tables.write_text(out / f"{sw.name}.md", head + md)
        tables.write_text(out / f"{sw.name}.csv", tables.to_csv(rows))
    metrics = tables.headline("acdc", settings, seeds)
    tables.write_text(paths.REPORTS / "metrics.json", json.dumps(metrics, indent=1) + "\n")


if __name__ == "__main__":
    main()
