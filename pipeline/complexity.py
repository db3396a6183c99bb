"""Stage `complexity`: Table 8, parameters at the paper's width and inference ms per sample.

Reads params: presets.paper.acdc.train.base, presets.paper.acdc.train.padding,
presets.paper.acdc.preprocess.size (the paper's network and input, whatever the preset).
Writes: reports/tables/table8.{md,csv}.
"""

import argparse
import logging

from mixseg import config
from mixseg.report import complexity, outputs
from mixseg.report.io import to_csv, write_text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default=str(config.PARAMS_FILE))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = config.read_params(args.params)
    base = int(config.lookup(params, "presets.paper.acdc.train.base"))
    padding = config.lookup(params, "presets.paper.acdc.train.padding")
    size = tuple(int(s) for s in config.lookup(params, "presets.paper.acdc.preprocess.size"))
    counts, ms, protocol = complexity.measure(base, padding, size)
    md, rows = complexity.table8(counts, ms, protocol)
    head = (
        f"# Table 8: model complexity\n\nParameters counted on the networks at the paper's "
        f"width (base {base}, padding `{padding}`, 2 classes). Inference time: {protocol}. "
        "The paper's times are on an NVIDIA Titan RTX.\n\n"
    )
    md_file, csv_file = outputs.complexity_files()
    write_text(md_file, head + md)
    write_text(csv_file, to_csv(rows))
    logging.info("Table 8: %s", rows)


if __name__ == "__main__":
    main()
