"""Pseudo-masks of a trained run (proposals, Table 2; self-training, Fig. 5).

A trained run labels images with the arg-max of its inference head: the student of a
dual-branch model (the branch the paper uses at test time), the only head of a single network.
The masks are dense {0, 1} targets: a network retrained on them "mimics full supervision".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mixseg.evaluate import load_model
from mixseg.heads import inference_head
from mixseg.infer import predict_labels


def pseudo_masks(model_file: Path, images: list[np.ndarray]) -> list[np.ndarray]:
    """Arg-max masks uint8 (Z, H, W) {0, 1} of the run ``model_file`` for each image volume."""
    model, cfg = load_model(Path(model_file))
    head = inference_head(model.n_decoders)
    tp = cfg["train"]
    return [
        predict_labels(model, im, head, window=tp.get("patch"), stride=tp.get("stride"))
        for im in images
    ]
