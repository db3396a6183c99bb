"""Qualitative panels: Fig. 8 (segmentations of the Table 1 models) and Fig. 9 (probability
maps of the KL and KL+Ent students), on test slices of one setting and seed.

Everything comes from the runs' committed slices (``mixseg.slices``: which slices, the image,
the ground truth and the inference head's probabilities, saved by the run's evaluation), so no
model is loaded; a run without them leaves a "not run" panel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap

from mixseg import experiments, paths, slices
from mixseg.metrics import dice
from mixseg.report.figures import FigureInfo, plt, save

GT_CMAP, PRED_CMAP = ListedColormap(["lime"]), ListedColormap(["red"])
# (run, title, head): the models of Table 1, as in the paper's Fig. 8; Fig. 9: ours.
MODELS = [(run, r.label, r.heads[0]) for _, r, run in experiments.FIG8.entries(["-"])]
OURS = [(run, r.label) for _, r, run in experiments.FIG9.entries(["-"])]


def load(
    dataset: str, setting: str, seed: int, models=MODELS
) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], dict[str, list[np.ndarray] | None]]:
    """(slices, probabilities) of the models' runs: slices are (name, image (H, W), label
    (H, W)) as the first run found saved them (every run of a dataset saves the same ones);
    probabilities map each run to its head's S maps (H, W), or None if it has no slices.

    Raises:
        ValueError: a run saved another head than the figure shows (a run saves its
            inference head, ``heads.inference_head``).
    """
    shown: list[tuple[str, np.ndarray, np.ndarray]] = []
    out: dict[str, list[np.ndarray] | None] = {}
    for run, _, head in models:
        saved = slices.load(paths.eval_dir(dataset, setting, run, seed))
        if saved is not None and saved.head != head:
            raise ValueError(f"{run} saved the slices of its {saved.head} head, not {head}")
        out[run] = None if saved is None else saved.probs
        if saved is not None and not shown:
            shown = list(zip(saved.names, saved.image, saved.label, strict=True))
    return shown, out


def _blank(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=8, transform=ax.transAxes)


def _grid(n_rows: int, n_cols: int):
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(1.6 * n_cols, 1.7 * n_rows + 0.5),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes


def fig8(out: Path, shown: list, probs: dict, setting: str, seed: int) -> FigureInfo:
    """Fig. 8: image, ground truth and each model's segmentation (red), one slice per row."""
    fig, axes = _grid(max(len(shown), 1), 2 + len(MODELS))
    for i, (name, image, label) in enumerate(shown):
        axes[i, 0].imshow(image, cmap="gray")
        axes[i, 0].set_ylabel(name, fontsize=6)
        axes[i, 1].imshow(image, cmap="gray")
        axes[i, 1].imshow(np.ma.masked_equal(label, 0), cmap=GT_CMAP, alpha=0.5)
        for j, (run, _, _) in enumerate(MODELS):
            ax = axes[i, 2 + j]
            if probs[run] is None:
                _blank(ax, "not run")
                continue
            pred = (probs[run][i] > 0.5).astype(np.uint8)
            ax.imshow(image, cmap="gray")
            ax.imshow(np.ma.masked_equal(pred, 0), cmap=PRED_CMAP, alpha=0.5)
            ax.set_xlabel(f"DSC {100 * dice(pred, label):.0f}", fontsize=6)
    for j, title in enumerate(["Image", "Ground truth"] + [m[1] for m in MODELS]):
        axes[0, j].set_title(title, fontsize=7)
    missing = [run for run, _, _ in MODELS if probs[run] is None]
    fig.suptitle(
        f"Fig. 8: test slices, {setting}, seed {seed}"
        + (f" (not run: {', '.join(missing)})" if missing else ""),
        fontsize=8,
    )
    save(fig, out)
    return FigureInfo(
        "fig8",
        out.name,
        "Fig. 8: qualitative results of the Table 1 models",
        f"Test slices, {setting}, seed {seed}; ground truth in green, prediction in red, "
        "slice DSC below.",
        True,
        missing,
    )


def fig9(out: Path, shown: list, probs: dict, setting: str, seed: int) -> FigureInfo:
    """Fig. 9: foreground probability maps of the KL and KL+Ent students."""
    runs = OURS
    fig, axes = _grid(max(len(shown), 1), 2 + len(runs))
    im = None
    for i, (name, image, label) in enumerate(shown):
        axes[i, 0].imshow(image, cmap="gray")
        axes[i, 0].set_ylabel(name, fontsize=6)
        axes[i, 1].imshow(label, cmap="gray", vmin=0, vmax=1)
        for j, (run, _) in enumerate(runs):
            if probs.get(run) is None:
                _blank(axes[i, 2 + j], "not run")
                continue
            im = axes[i, 2 + j].imshow(probs[run][i], cmap="jet", vmin=0, vmax=1)
    for j, title in enumerate(["Image", "Ground truth"] + [r[1] for r in runs]):
        axes[0, j].set_title(title, fontsize=7)
    if im is not None:
        fig.colorbar(im, ax=axes[:, -1].tolist(), fraction=0.05, label="p(foreground)")
    missing = [run for run, _ in runs if probs.get(run) is None]
    fig.suptitle(
        f"Fig. 9: probability maps, {setting}, seed {seed}"
        + (f" (not run: {', '.join(missing)})" if missing else ""),
        fontsize=8,
    )
    save(fig, out)
    return FigureInfo(
        "fig9",
        out.name,
        "Fig. 9: probability maps of the KL and KL+Ent students",
        f"Test slices, {setting}, seed {seed}.",
        True,
        missing,
    )


def draw(out_dir: Path, dataset: str, setting: str, seed: int) -> list[FigureInfo]:
    """Figs. 8 and 9 on the same slices (the runs' saved slices, ``load``)."""
    shown, probs = load(dataset, setting, seed)
    return [
        fig8(out_dir / "fig8_qualitative.png", shown, probs, setting, seed),
        fig9(out_dir / "fig9_probability_maps.png", shown, probs, setting, seed),
    ]
