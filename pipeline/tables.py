"""Stage `tables`: the report tables (ours beside the paper's), the headline metrics and the
report README, the last report stage (it embeds Table 8 and lists the figures).

Reads params: preset, data.acdc.source, data.la.source, runs (seeds: Tables 1, 4-6, A.1-A.3 and
the headline metrics; compare_seeds: Tables 2, 3 and the default runs of B.4-B.6; sweep_seeds:
the other sweep cells; la_seeds: Table 7), lambda_w, lambda_kd, lambda_ent, divergence,
lambda_c, lambda_gmi, lambda_lmi, lambda_sp, lambda_sc (the defaults of the sweeps: their row
reads the default run), mixed_forward (the ablation: which forward Table 1's runs are),
presets.<preset>.<ds>.train.steps (the convergence table), presets.<preset>.<ds>.train.select,
select_head, select_ties (the README says which weights the cells report). Reads files:
results/acdc, results/la (Table 7 and the convergence table; eval/metrics.json, live/, and the
claims' runs' eval/cases.csv), reports/tables/table8.{md,csv} (stage complexity),
reports/figures/figures.json (stage figures), reports/diagnoses.yaml (written by hand).
Writes: reports/tables/<name>.{md,csv} for outputs.TABLE_NAMES, reports/metrics.json,
reports/README.md.
"""

import argparse
import csv
import json

from mixseg import config
from mixseg.report import catalog, claims, figures, outputs, readme, tables
from mixseg.report.io import to_csv, write_text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default=str(config.PARAMS_FILE))
    args = parser.parse_args(argv)
    params = config.read_params(args.params)
    preset = config.lookup(params, "preset")
    sources = {ds: config.lookup(params, f"data.{ds}.source") for ds in ("acdc", "la")}
    settings = list(config.lookup(params, "runs.settings"))
    seeds = [int(s) for s in config.lookup(params, "runs.seeds")]

    built = catalog.build_tables(params)
    assert [t.name for t in built] == outputs.TABLE_NAMES
    for t in built:
        write_text(outputs.TABLES_DIR / f"{t.name}.md", t.text())
        write_text(outputs.TABLES_DIR / f"{t.name}.csv", to_csv(t.rows))
    metrics = tables.headline("acdc", settings, seeds)
    write_text(outputs.METRICS, json.dumps(metrics, indent=1) + "\n")

    md8, csv8 = outputs.complexity_files()
    rows8 = list(csv.DictReader(csv8.open())) if csv8.exists() else []
    by_name = {t.name: t for t in built}
    found = claims.evaluate_claims(
        by_name["table1"].rows,
        by_name["table4"].rows,
        claims.read_volumes("acdc", claims.claim_runs(params)),
        settings,
        list(config.lookup(params, "runs.sweeps.settings")),
        rows8,
        by_name["table7"].rows,
        claims.read_volumes("la", claims.la_claim_runs(params)),
    )
    texts = [t.text() for t in built[:7]]
    texts.append(
        md8.read_text() if md8.exists() else "# Table 8\n\nThe complexity stage has not run.\n"
    )
    texts += [t.text() for t in built[7:]]
    manifest = figures.read_manifest(outputs.FIGURES_MANIFEST)
    diagnoses = claims.read_diagnoses(outputs.DIAGNOSES)
    rules = ("select", "select_head", "select_ties")
    selection = {
        ds: {k: str(config.lookup(params, f"presets.{preset}.{ds}.train.{k}")) for k in rules}
        for ds in ("acdc", "la")
    }
    text = readme.render(preset, sources, found, texts, manifest, diagnoses, selection)
    write_text(outputs.README, text)


if __name__ == "__main__":
    main()
