"""Stage `download@<ds>`: raw data in its distribution format.

Reads: data.<ds> (source: synthetic | url | local). Writes: data/raw/<ds>/.
"""

import argparse
import logging

from mixseg import config, paths
from mixseg.data.download import fetch
from mixseg.data.errors import report_errors

TO_FIX = (
    "check data.<dataset> in params.yaml (source: synthetic | url with its sha256 | local "
    "path), then run `dvc repro download@<dataset>` again"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True, choices=["acdc", "la"])
    parser.add_argument("--params", default=str(config.PARAMS_FILE))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = config.read_params(args.params)
    src = config.load_section(params, f"data.{args.dataset}", config.DataSource)
    fetch(args.dataset, src, paths.raw_dir(args.dataset))


if __name__ == "__main__":
    report_errors(main, TO_FIX)
