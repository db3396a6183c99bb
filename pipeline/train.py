"""Stage `train-*@...`: fit one (dataset, method, setting, seed, overrides) run, then evaluate
it on the test cases (DSC and HD95 of every head, ``mixseg.evaluate``).

Training and evaluation share one process and one DVC stage: a separate evaluation stage per run
cost ~3.5 s of interpreter start, imports and DVC bookkeeping for ~1.5 s of work (9 of the
pipeline's 69 minutes), and bought no granularity, because training already depends on the
metric and inference code through its validation.

Reads: preset, presets.<preset>.<ds>.train, and the top-level keys the run inherits
(mixseg.runs.inherited_keys); proposals also the model.pt of the --pseudo-from run.
Writes (mixseg.paths.run_outputs): data/runs/<ds>/<setting>/<run>/seed<k>/ (model.pt,
timing.json: DVC-cached) and results/<ds>/<setting>/<run>/seed<k>/ (train.json, live/,
eval/{cases.csv, metrics.json, slices.npz, slice_images.npz}: git-tracked).
"""

import argparse
import logging

from mixseg import config, runs
from mixseg.evaluate import evaluate_run, write_outputs
from mixseg.train import fit


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    runs.add_run_arguments(parser)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override one of {sorted(runs.TAGS)} for this run",
    )
    parser.add_argument(
        "--pseudo-from",
        metavar="RUN",
        help="proposals: the run (same setting and seed) giving the pseudo-masks",
    )
    parser.add_argument("--params", default=str(config.PARAMS_FILE))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run = runs.resolve_run(
        config.read_params(args.params),
        dataset=args.dataset,
        method=args.method,
        setting=args.setting,
        seed=args.seed,
        overrides=runs.parse_overrides(args.set),
        pseudo_from=args.pseudo_from,
    )
    logging.info("%s: %s", run.name, fit(run))
    rows, metrics, kept = evaluate_run(run.dataset, run.out_dir / "model.pt")
    write_outputs(rows, metrics, kept, run.eval_dir)
    logging.info("%s %s seed %d, test: %s", run.setting, run.name, run.seed, metrics["heads"])


if __name__ == "__main__":
    main()
