"""Training data in memory and the mixed-batch sampler (2D: slices of the canonical cases).

The sampler is a *pure function of (seed, step)*: the fully labelled rows of step t come from
the permutation of epoch ``t // steps_per_epoch`` (every image once per epoch, as a shuffled
DataLoader), the partially labelled rows from a fresh random draw per step (as the reference
code's ``next(iter(weak_loader))``). No sampler state has to be checkpointed, so a resumed run
sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

import dataclasses
import json
import numpy as np
import torch

from mixseg import paths
from mixseg.data.canonical import load_case
from mixseg.methods.base import IGNORE, Batch


@dataclasses.dataclass(frozen=True)
class Pool:
    """Stacked 2D training images. images float32 (N, H, W); labels uint8 (N, H, W) {0, 1}."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def read_splits(dataset: str) -> dict:
    """The ``splits.json`` written by ``preprocess``."""
    return json.loads(paths.splits_file(dataset).read_text())


def patients_of(meta: dict, setting: str, pool: str, ratio: int) -> tuple[list[str], list[str]]:
    """(fully labelled patients, partially labelled patients) of a setting.

    Args:
        pool: ``full`` or ``full+partial`` (upper bounds: every patient is fully labelled).

    Raises:
        ValueError: unknown setting or a ratio that ``preprocess`` did not prepare.
    """
    if setting not in meta["settings"]:
        raise ValueError(f"unknown setting {setting!r}; known: {sorted(meta['settings'])}")
    sel = meta["settings"][setting]
    partial = []
    if setting != "all":
        if str(ratio) not in sel["partial"]:
            raise ValueError(f"{setting} has no ratio {ratio} selection (see params: settings)")
        partial = sel["partial"][str(ratio)]
    if pool == "full+partial":
        return sorted(sel["full"] + partial), []
    return list(sel["full"]), list(partial)


def load_pool(dataset: str, meta: dict, patients: list[str], weak: bool) -> Pool:
    """All slices of all cases of ``patients``; labels are full masks or partial labels."""
    images, labels = [], []
    for pid in patients:
        for cid in meta["patients"][pid]["cases"]:
            case = load_case(paths.case_file(dataset, cid))
            images.append(case.image)
            if weak:
                with np.load(paths.weak_file(dataset, cid)) as z:
                    labels.append(z["weak"])
            else:
                labels.append(case.label)
    if not images:
        return Pool(np.zeros((0, 1, 1), np.float32), np.zeros((0, 1, 1), np.uint8))
    return Pool(np.concatenate(images), np.concatenate(labels))


def _full_indices(step: int, seed: int, n: int, size: int) -> np.ndarray:
    per_epoch = max(n // size, 1)
    epoch, slot = divmod(step, per_epoch)
    rng = np.random.default_rng([seed, 0, epoch])
    if n < size:
        return rng.choice(n, size, replace=True)
    return rng.permutation(n)[slot * size : (slot + 1) * size]


def _weak_indices(step: int, seed: int, n: int, size: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 1, step])
    return rng.choice(n, size, replace=n < size)


def steps_per_epoch(n_full: int, batch_full: int) -> int:
    """Iterations per epoch as the reference loop counts them (incomplete batches dropped)."""
    return max(n_full // batch_full, 1)


def make_batch(
    step: int, seed: int, full: Pool, weak: Pool | None, batch_full: int, batch_weak: int
) -> Batch:
    """The batch of ``step``: ``batch_full`` fully labelled rows, then ``batch_weak`` partial rows."""
    fi = _full_indices(step, seed, len(full), batch_full)
    images = [full.images[fi]]
    masks = [full.labels[fi].astype(np.int64)]
    weaks = [np.full_like(masks[0], IGNORE)]
    if weak is not None and batch_weak > 0:
        wi = _weak_indices(step, seed, len(weak), batch_weak)
        images.append(weak.images[wi])
        w = weak.labels[wi].astype(np.int64)
        masks.append(np.full_like(w, IGNORE))
        # Only the eroded foreground is labelled (class 1); every other pixel is unlabelled.
        weaks.append(np.where(w > 0, 1, IGNORE))
    image = torch.from_numpy(np.concatenate(images))[:, None]
    is_full = torch.zeros(image.shape[0], dtype=torch.bool)
    is_full[: len(fi)] = True
    return Batch(
        image=image,
        mask=torch.from_numpy(np.concatenate(masks)),
        weak=torch.from_numpy(np.concatenate(weaks)),
        is_full=is_full,
    )


def val_cases(dataset: str, meta: dict, split: str = "val") -> list:
    """Canonical cases of a split (``val`` or ``test``), in patient order."""
    return [
        load_case(paths.case_file(dataset, cid))
        for pid in meta[split]
        for cid in meta["patients"][pid]["cases"]
    ]
