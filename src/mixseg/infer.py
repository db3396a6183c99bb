"""Inference: 2D networks slice by slice, 3D networks by sliding window over the whole volume.

Heads: ``teacher`` (output 0; the only one of a single-branch model), ``student`` (output 1) and
``ensemble`` (the mean of the two softmax maps, paper Table 1). The outputs are a dual model's
decoders or a co-training model's networks (``models.CoNets``). One forward pass gives every
head (``predict_heads``): validation and evaluation never run the network once per head (under
``train.select_head: each`` evaluation runs each head's own weights, one network per head).

3D (Left Atrium): windows of the training patch size, averaged softmax where they overlap
(UA-MT's ``test_single_case``; ``sliding.sliding_window``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mixseg.heads import OUTPUTS
from mixseg.sliding import sliding_window

WINDOWS_PER_PASS = 4  # 3D windows per forward pass (memory: 4 x 80x112x112 at paper scale)


def model_dims(model: torch.nn.Module) -> int:
    """2 for a 2D network, 3 for a 3D one (from its first convolution's weight)."""
    return next(model.parameters()).ndim - 2


def _check_heads(model: torch.nn.Module, heads: Sequence[str]) -> tuple[int, ...]:
    needed = sorted({d for h in heads for d in OUTPUTS[h]})
    if needed[-1] >= model.n_decoders:
        raise ValueError(
            f"heads {list(heads)} need {needed[-1] + 1} outputs, model has {model.n_decoders}"
        )
    return tuple(needed)


@torch.no_grad()
def predict_heads(
    model: torch.nn.Module,
    volume: np.ndarray,
    heads: Sequence[str],
    batch_size: int = 32,
    window: Sequence[int] | None = None,
    stride: Sequence[int] | None = None,
) -> dict[str, np.ndarray]:
    """Foreground probability of every voxel of a (Z, H, W) volume, for each head.

    Args:
        model: a network whose ``forward(x, heads)`` returns a list of (B, C, ...) logits.
        volume: float32 (Z, H, W), preprocessed like the training images.
        heads: names among ``teacher``, ``student``, ``ensemble``.
        batch_size: slices per forward pass (2D) or windows per pass (3D).
        window, stride: the sliding window (D, H, W) of a 3D network (required for 3D).

    Returns:
        head -> float32 (Z, H, W) probability of class 1.
    """
    outputs = _check_heads(model, heads)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    amp = device.type == "cuda"

    def forward(x: torch.Tensor) -> torch.Tensor:
        """(B, 1, ...) -> (B, len(outputs), ...) foreground probabilities."""
        if x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, enabled=amp):
            logits = model(x.to(device), heads=outputs)
        return torch.stack([torch.softmax(lg.float(), 1)[:, 1] for lg in logits], 1)

    if model_dims(model) == 3:
        if window is None or stride is None:
            raise ValueError("a 3D network needs the sliding window and stride")
        probs = sliding_window(
            forward,
            volume,
            tuple(window),
            tuple(stride),
            batch_size=min(batch_size, WINDOWS_PER_PASS),
            device=device,
        )
    else:
        chunks = []
        for start in range(0, len(volume), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(volume[start : start + batch_size]))
            chunks.append(forward(x[:, None]).cpu().numpy())
        probs = np.concatenate(chunks).transpose(1, 0, 2, 3)  # (outputs, Z, H, W)
    model.train(was_training)
    index = {d: i for i, d in enumerate(outputs)}
    return {
        h: np.mean([probs[index[d]] for d in OUTPUTS[h]], axis=0).astype(np.float32) for h in heads
    }


def predict_probs(model: torch.nn.Module, volume: np.ndarray, head: str, **kwargs) -> np.ndarray:
    """Foreground probability (Z, H, W) of one head (``predict_heads``)."""
    return predict_heads(model, volume, (head,), **kwargs)[head]


def to_labels(probs: np.ndarray) -> np.ndarray:
    """Arg-max segmentation (uint8 {0, 1}) of foreground probabilities; ties go to background."""
    return (probs > 0.5).astype(np.uint8)


def predict_labels(model: torch.nn.Module, volume: np.ndarray, head: str, **kwargs) -> np.ndarray:
    """Arg-max segmentation (uint8 {0, 1}) of a (Z, H, W) volume by one head."""
    return to_labels(predict_probs(model, volume, head, **kwargs))
