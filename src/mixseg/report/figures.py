"""Report figures (matplotlib, PNG). Fig. 2 is analytic; the others read run logs.

Fig. 2 (paper section 3.6): for a two-class distribution (p, 1 - p) obtained by a softmax,
(a) the Shannon entropy H(p) = -p log p - (1 - p) log(1 - p) and the min-entropy
-log max(p, 1 - p); (b) their derivatives with respect to the logit z_k of the class of
probability p: dH/dz_k = -p (log p + H(p)); for the min-entropy, -(1 - p) where that class is
the arg-max (p > 1/2) and p where it is not (pseudo-label cross-entropy pushes the arg-max up).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


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
    """Save atomically (temporary name, then rename) and close."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(out)
