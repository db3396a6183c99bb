"""Stage `preprocess@<ds>`: canonical per-case files, patient-level splits, Set-N selections.

Reads: presets.<preset>.<ds>.preprocess, split, settings. Writes: data/processed/<ds>/.
"""

import argparse
import json
import logging

from mixseg import config, paths
from mixseg.data.errors import report_errors
from mixseg.data.prepare import prepare_acdc
from mixseg.data.prepare_la import prepare_la

TO_FIX = (
    "repair or replace that file, or its source (data.<dataset> in params.yaml, then "
    "`dvc repro download@<dataset>`), and run `dvc repro` again"
)

PREPARE = {"acdc": prepare_acdc, "la": prepare_la}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True, choices=sorted(PREPARE))
    parser.add_argument("--params", default=str(config.PARAMS_FILE))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = config.read_params(args.params)
    key = config.preset_key(params, args.dataset, "preprocess")
    pre = config.load_section(params, key, config.PreprocessParams)
    split = config.load_section(params, "split", config.SplitParams)
    settings = config.load_section(params, "settings", config.SettingsParams)
    meta = PREPARE[args.dataset](
        paths.raw_dir(args.dataset),
        paths.processed_dir(args.dataset),
        pre,
        split,
        settings,
        workers=args.workers,
    )
    sizes = {k: len(meta[k]) for k in ("train", "val", "test")}
    logging.info("split (patients): %s", json.dumps(sizes))


if __name__ == "__main__":
    report_errors(main, TO_FIX)
