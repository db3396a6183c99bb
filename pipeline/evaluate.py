"""Stage `evaluate-*@...`: test-set DSC/HD95 of one trained run, for each of its heads.

Reads: no params (everything comes from the run's model.pt and splits.json).
Writes: data/eval/<ds>/<setting>/<run>/seed<k>/{cases.csv, metrics.json}.
"""

import argparse
import logging

from mixseg import paths, runs
from mixseg.evaluate import evaluate_run, write_outputs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True, choices=["acdc", "la"])
    parser.add_argument("--method", required=True)
    parser.add_argument("--setting", required=True)
    parser.add_argument("--seed", required=True, type=int)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--pseudo-from", metavar="RUN")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    name = runs.stage_run_name(args.method, runs.parse_overrides(args.set), args.pseudo_from)
    run = paths.run_dir(args.dataset, args.setting, name, args.seed)
    rows, summary = evaluate_run(args.dataset, run / "model.pt")
    write_outputs(rows, summary, paths.eval_dir(args.dataset, args.setting, name, args.seed))
    logging.info("%s %s seed %d: %s", args.setting, name, args.seed, summary["heads"])


if __name__ == "__main__":
    main()
