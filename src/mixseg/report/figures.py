"""Report figures (matplotlib, PNG): Fig. 2 (analytic), the figure manifest and saving.
``curves.py`` draws Figs. 3, 5, 6, 7 from run logs, ``qualitative.py`` Figs. 8 and 9.

Every figure function returns a ``FigureInfo`` (what the stage writes to ``figures.json`` and the
report README lists).

Fig. 2 (paper section 3.6): for a two-class distribution (p, 1 - p) obtained by a softmax,
(a) the Shannon entropy H(p) = -p log p - (1 - p) log(1 - p) and the min-entropy
-log max(p, 1 - p); (b) their derivatives with respect to the logit z_k of the class of
probability p: dH/dz_k = -p (log p + H(p)); for the min-entropy, -(1 - p) where that class is
the arg-max (p > 1/2) and p where it is not (pseudo-label cross-entropy pushes the arg-max up).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcdefaults()  # a user matplotlibrc must not change the committed PNGs
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mixseg import atomic  # noqa: E402


@dataclasses.dataclass(frozen=True)
class FigureInfo:
    """One entry of ``figures.json``: a figure that was drawn or why it was not."""

    name: str  # e.g. "fig6"
    file: str  # PNG file name in reports/figures ("" when not produced)
    title: str
    caption: str
    produced: bool
    missing: list[str]  # runs left out of a produced figure, or needed by an unproduced one
    needs: str = ""  # why an unproduced figure is not there yet


def entropy_curves(p: np.ndarray) -> dict[str, np.ndarray]:
    """Entropy, min-entropy and their logit derivatives for two-class distributions (p, 1-p)."""
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log(p), 0.0) + np.where(q > 0, q * np.log(q), 0.0))
        dh = -np.where(p > 0, p * (np.log(p) + h), 0.0)
    hmin = -np.log(np.maximum(p, q))
    dmin = np.where(p > 0.5, -(1.0 - p), p)
    return {"entropy": h, "min_entropy": hmin, "d_entropy": dh, "d_min_entropy": dmin}


def fig2(out: Path) -> None:
    """Fig. 2: entropy vs min-entropy (a) and their derivatives w.r.t. the logit (b)."""
    p = np.linspace(0.0, 1.0, 401)
    c = entropy_curves(p)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    axes[0].plot(p, c["entropy"], label="Entropy")
    axes[0].plot(p, c["min_entropy"], "r", label="Min-Entropy")
    axes[0].set(xlabel="p", title="(a) H(p, 1-p) and min-entropy")
    axes[1].plot(p, c["d_entropy"], label="Entropy")
    axes[1].plot(p, c["d_min_entropy"], "r", label="Min-Entropy")
    axes[1].axhline(0, color="k", lw=0.5)
    axes[1].set(xlabel="p", title="(b) derivative w.r.t. the logit of class k")
    for ax in axes:
        ax.legend()
    fig.tight_layout()
    save(fig, out)


def save(fig: plt.Figure, out: Path) -> None:
    """Save as PNG atomically (``atomic.replacing``) and close."""
    with atomic.replacing(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def draw_fig2(out_dir: Path) -> FigureInfo:
    name = "fig2_entropy.png"
    fig2(out_dir / name)
    return FigureInfo(
        "fig2",
        name,
        "Fig. 2: entropy vs min-entropy",
        "Analytic curves (section 3.6); no run involved.",
        True,
        [],
    )


# Figures of the paper that need what no stage makes yet (always listed, never drawn).
NOT_PRODUCED = [
    FigureInfo(
        "fig4",
        "",
        "Fig. 4: failure cases of the pseudo-labels",
        "",
        False,
        [],
        "needs the pseudo-masks of the proposals runs (no stage writes them yet)",
    ),
    FigureInfo(
        "fig10",
        "",
        "Fig. 10: qualitative results on LA",
        "",
        False,
        [],
        "the LA runs exist (Table 7); no figure code renders their 3D predictions yet",
    ),
]


def write_manifest(infos: list[FigureInfo], path: Path) -> None:
    """``figures.json``: every figure of the report, drawn or not (atomic write)."""
    atomic.write_text(path, json.dumps([dataclasses.asdict(i) for i in infos], indent=1) + "\n")


def read_manifest(path: Path) -> list[FigureInfo] | None:
    """The entries of ``figures.json``, or None if the figures stage has not written it."""
    if not path.exists():
        return None
    return [FigureInfo(**d) for d in json.loads(path.read_text())]
