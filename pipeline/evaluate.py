"""Stage `eval-*@...`: evaluate a trained run's weights under another ``train.select_head``,
without training: the run ``--method`` + ``--set select_head=<rule>`` would train is the run
``--weights-of`` (same dataset, setting and seed) already trained, step for step, because
``select_head`` only decides which of the weights it kept each head is evaluated with (a
dual-branch run keeps every head's own, ``selection.EachHead``). The studies' ``decoupled-sheach``
is Table 1's ``decoupled`` evaluated under ``each`` (``experiments.Group.evaluates``).

A stage of its own rather than ``pipeline/train.py --evaluate-only``: it imports the evaluation
code alone (no training loop, no dvclive), so it depends on that code only, and it reads no
params.yaml key: the rule is on the command line, and the weights' configuration in model.pt.

Reads: data/processed/<ds>, the --weights-of run's model.pt and train.json.
Writes (mixseg.paths.eval_outputs): results/<ds>/<setting>/<run>/seed<k>/ (eval/{cases.csv,
metrics.json, slices.npz, slice_images.npz}, train.json: the --weights-of run's with the
selected steps of the rule, what training the run would have written), git-tracked.
"""

import argparse
import json
import logging

from mixseg import atomic, paths, runs, selection
from mixseg.evaluate import evaluate_run, load_record, write_outputs
from mixseg.methods import get_method


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    runs.add_run_arguments(parser)
    parser.add_argument("--set", action="append", required=True, metavar="select_head=RULE")
    parser.add_argument("--weights-of", required=True, metavar="RUN", help="the trained run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    overrides = runs.parse_overrides(args.set)
    if set(overrides) != {"select_head"}:
        raise ValueError(f"evaluation overrides select_head only, got {sorted(overrides)}")
    runs.check_overrides(get_method(args.method), overrides)
    name = runs.run_name(args.method, overrides)
    where = (args.dataset, args.setting, args.weights_of, args.seed)
    model_file = paths.model_file(*where)
    cfg, head_steps = load_record(model_file)
    if (cfg["method"], cfg["run"]) != (args.method, args.weights_of) or cfg["overrides"]:
        raise ValueError(f"{model_file}: run {cfg['run']!r} of {cfg['method']!r}, overrides "
                         f"{cfg['overrides']}: not the trained run of {name!r}")  # fmt: skip
    rule = overrides["select_head"]
    rows, metrics, kept = evaluate_run(args.dataset, model_file, select_head=rule)
    metrics["run"] = name  # the run evaluated, not the one trained
    write_outputs(rows, metrics, kept, paths.eval_dir(args.dataset, args.setting, name, args.seed))
    summary = json.loads(paths.train_summary(*where).read_text())
    own = {k: v for k, v in summary["selected"].items() if k not in ("select_head", "heads")}
    summary["selected"] = selection.selected_record(rule, own, head_steps)
    atomic.write_json(paths.train_summary(args.dataset, args.setting, name, args.seed), summary)
    logging.info("%s %s seed %d, test: %s", args.setting, name, args.seed, metrics["heads"])


if __name__ == "__main__":
    main()
