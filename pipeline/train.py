"""Stage `train-*@...`: fit one (dataset, method, setting, seed, overrides) run, then evaluate
it on the test cases (DSC and HD95 of every head, ``mixseg.evaluate``).

Training and evaluation share one process and one DVC stage: a separate evaluation stage per run
cost ~3.5 s of interpreter start, imports and DVC bookkeeping for ~1.5 s of work (9 of the
pipeline's 69 minutes), and bought no granularity, because training already depends on the
metric and inference code through its validation.

Reads: preset, presets.<preset>.<ds>.train, and the top-level keys the run inherits
(mixseg.runs.inherited_keys); proposals also the model.pt of the --pseudo-from run.
Writes: data/runs/<ds>/<setting>/<run>/seed<k>/ (model.pt, train.json) and
data/eval/<ds>/<setting>/<run>/seed<k>/ (cases.csv, metrics.json).
"""

import argparse
import dataclasses
import logging

import torch

from mixseg import __version__, config, paths, runs
from mixseg.data.datasets import read_splits
from mixseg.evaluate import evaluate_run, write_outputs
from mixseg.methods import get_method
from mixseg.train import fit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True, choices=["acdc", "la"])
    parser.add_argument("--method", required=True)
    parser.add_argument("--setting", required=True, help="set3 | set5 | set10 | all")
    parser.add_argument("--seed", required=True, type=int)
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    params = config.read_params(args.params)
    method = get_method(args.method)
    overrides = runs.parse_overrides(args.set)
    tp_key = config.preset_key(params, args.dataset, "train")
    tp = config.load_section(params, tp_key, config.TrainParams)
    if tp.threads:
        torch.set_num_threads(tp.threads)
    pre_key = config.preset_key(params, args.dataset, "preprocess")
    pre = config.load_section(params, pre_key, config.PreprocessParams)
    hp = runs.resolve_hyper(params, method, overrides)
    ratio = int(overrides.get("ratio", read_splits(args.dataset)["default_ratio"]))
    name = runs.stage_run_name(args.method, overrides, args.pseudo_from)
    pseudo = None
    if args.pseudo_from:
        pseudo = paths.run_dir(args.dataset, args.setting, args.pseudo_from, args.seed) / "model.pt"
    resolved = {
        "dataset": args.dataset,
        "method": args.method,
        "run": name,
        "setting": args.setting,
        "seed": args.seed,
        "ratio": ratio,
        "overrides": overrides,
        "pseudo_from": args.pseudo_from,
        "hyper": dataclasses.asdict(hp),
        "train": dataclasses.asdict(tp),
        "train_key": tp_key,
        # How the images were preprocessed: `mixseg segment` applies the same to new scans.
        "preprocess": dataclasses.asdict(pre),
        "versions": {"mixseg": __version__, "torch": str(torch.__version__)},
    }
    out_dir = paths.run_dir(args.dataset, args.setting, name, args.seed)
    summary = fit(
        dataset=args.dataset,
        method=method,
        hp=hp,
        tp=tp,
        setting=args.setting,
        ratio=ratio,
        seed=args.seed,
        resolved=resolved,
        out_dir=out_dir,
        scratch_dir=paths.scratch_dir(args.dataset, args.setting, name, args.seed),
        pseudo_from=pseudo,
    )
    logging.info("%s: %s", name, summary)
    rows, metrics = evaluate_run(args.dataset, out_dir / "model.pt")
    write_outputs(rows, metrics, paths.eval_dir(args.dataset, args.setting, name, args.seed))
    logging.info("%s %s seed %d, test: %s", args.setting, name, args.seed, metrics["heads"])


if __name__ == "__main__":
    main()
