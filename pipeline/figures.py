"""Stage `figures`: the report figures (PNG, matplotlib Agg) and figures.json listing every
figure of the paper, drawn or not yet (the README of the report is made from it).

Reads params: runs (settings, seeds and sweep lists; compare_seeds: Fig. 3 its first seed,
Fig. 5 all; selftrain.settings and selftrain.iterations: Fig. 5; studies: the convergence
figure), divergence (label of the default run of Fig. 6), settings.default_ratio (the default
run of Fig. 7), preset and presets.<preset>.<ds>.train.steps (the convergence figure's line).
Reads files: the committed results/acdc and results/la only (live/: Figs. 3, 6 and the
convergence figure; eval/metrics.json: Figs. 5, 7; eval/slice*.npz: Figs. 8, 9), so
`make report` needs no DVC cache. Writes: reports/figures/.
"""

import argparse
import logging

from mixseg import config
from mixseg.report import curves, figures, outputs, qualitative, studies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default=str(config.PARAMS_FILE))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    raw = config.read_params(args.params)
    params = {
        "runs": config.lookup(raw, "runs"),
        "divergence": config.lookup(raw, "divergence"),
        "settings": {"default_ratio": config.lookup(raw, "settings.default_ratio")},
    }
    out = outputs.FIGURES_DIR
    infos = [figures.draw_fig2(out)]
    infos.append(curves.fig3(out, params))
    infos.append(curves.fig5(out, params))
    infos.append(curves.fig6(out, params))
    infos.append(curves.fig7(out, params))

    # Figs. 8 and 9: the first setting (Set-3) and the first seed of Table 1.
    setting, seed = params["runs"]["settings"][0], int(params["runs"]["seeds"][0])
    infos += qualitative.draw(out, "acdc", setting, seed)
    infos += figures.NOT_PRODUCED
    infos.sort(key=lambda i: int(i.name[3:]))
    # Not a figure of the paper: last. Its line at each dataset's preset steps.
    infos.append(studies.convergence_figure(out, params, studies.preset_steps(raw)))
    figures.write_manifest(infos, outputs.FIGURES_MANIFEST)
    for i in infos:
        logging.info("%s: %s", i.name, i.file if i.produced else f"not produced ({i.needs})")


if __name__ == "__main__":
    main()
