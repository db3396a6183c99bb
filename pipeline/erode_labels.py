"""Stage `erode-labels@<ds>`: partial labels of every training case by iterative erosion.

Reads: presets.<preset>.<ds>.weak. Writes: data/weak/<ds>/.
"""

import argparse
import json
import logging

from mixseg import config, paths
from mixseg.data.errors import report_errors
from mixseg.data.weak_labels import write_weak_labels

TO_FIX = (
    "fix presets.<preset>.<dataset>.weak in params.yaml, or rebuild data/processed with "
    "`dvc repro preprocess@<dataset>`"
)

DIMS = {"acdc": 2, "la": 3}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True, choices=sorted(DIMS))
    parser.add_argument("--params", default=str(config.PARAMS_FILE))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = config.read_params(args.params)
    key = config.preset_key(params, args.dataset, "weak")
    weak = config.load_section(params, key, config.WeakParams)
    if weak.connectivity > DIMS[args.dataset]:
        raise config.ConfigError(f"{key}.connectivity: {weak.connectivity} for a "
                                 f"{DIMS[args.dataset]}D erosion (1 = cross ... "
                                 f"{DIMS[args.dataset]} = full)")  # fmt: skip
    meta = json.loads(paths.splits_file(args.dataset).read_text())
    case_ids = [c for p in meta["train"] for c in meta["patients"][p]["cases"]]
    n = write_weak_labels(
        paths.cases_dir(args.dataset),
        case_ids,
        paths.weak_dir(args.dataset),
        DIMS[args.dataset],
        weak.iterations,
        weak.connectivity,
        weak.per_object,
    )
    logging.info("wrote partial labels of %d cases (%d labelled pixels)", len(case_ids), n)


if __name__ == "__main__":
    report_errors(main, TO_FIX)
