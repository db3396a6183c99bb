"""What a training batch is: the contract between the samplers (``datasets``, ``patches``) and
the methods' objectives, so it lives in the data layer that builds it.

Batches carry their supervision explicitly: an objective selects rows by ``is_full``, never by
slicing magic indices. Axis order: images (B, 1, H, W) or (B, 1, D, H, W); label maps (B, H, W)
or (B, D, H, W).
"""

from __future__ import annotations

import dataclasses

import torch

IGNORE = 255  # label value of pixels without supervision (ignore_index of the losses)


@dataclasses.dataclass
class Batch:
    """One training batch; the first rows are the fully labelled images (``is_full``).

    Attributes:
        image: float (B, 1, *spatial).
        mask: int64 (B, *spatial) full ground truth, ``IGNORE`` on rows that have none.
        weak: int64 (B, *spatial) the other rows' targets: partial labels (the class on labelled
            pixels, ``IGNORE`` elsewhere), dense pseudo-masks, or ``IGNORE`` everywhere.
        is_full: bool (B,), True for fully labelled rows.
    """

    image: torch.Tensor
    mask: torch.Tensor
    weak: torch.Tensor
    is_full: torch.Tensor

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in dataclasses.astuple(self)))
