"""Inference: 2D networks applied slice by slice, stacked back into the patient volume.

Heads: ``teacher`` (decoder 0; the only one of a single-branch model), ``student``
(decoder 1) and ``ensemble`` (the mean of the two softmax maps, paper Table 1).
"""

from __future__ import annotations

import numpy as np
import torch

HEAD_DECODERS = {"teacher": (0,), "student": (1,), "ensemble": (0, 1)}


@torch.no_grad()
def predict_probs(
    model: torch.nn.Module, volume: np.ndarray, head: str, batch_size: int = 32
) -> np.ndarray:
    """Foreground probability of every voxel of a (Z, H, W) volume.

    Args:
        model: a 2D network whose ``forward(x, heads)`` returns a list of (B, C, H, W) logits.
        volume: float32 (Z, H, W), preprocessed like the training images.
        head: ``teacher``, ``student`` or ``ensemble``.

    Returns:
        float32 (Z, H, W) probability of class 1.
    """
    decoders = HEAD_DECODERS[head]
    if max(decoders) >= model.n_decoders:
        raise ValueError(f"head {head!r} needs {max(decoders) + 1} decoders, model has {model.n_decoders}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(volume), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(volume[start : start + batch_size]))[:, None]
        x = x.to(device).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, enabled=device.type == "cuda"):
            logits = model(x, heads=decoders)
        probs = torch.stack([torch.softmax(lg.float(), dim=1) for lg in logits]).mean(0)
        out.append(probs[:, 1].cpu().numpy())
    model.train(was_training)
    return np.concatenate(out).astype(np.float32)


def predict_labels(model: torch.nn.Module, volume: np.ndarray, head: str) -> np.ndarray:
    """Arg-max segmentation (uint8 {0, 1}) of a (Z, H, W) volume; ties go to background."""
    return (predict_probs(model, volume, head) > 0.5).astype(np.uint8)
