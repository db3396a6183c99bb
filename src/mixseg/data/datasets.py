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
from typing import Literal

import numpy as np
import torch

from mixseg import paths
from mixseg.data.batch import IGNORE, Batch
from mixseg.data.canonical import load_case

# Spatial dimensions of each dataset's network: ACDC slices (UNet), Left-Atrium volumes (VNet).
DIMS = {"acdc": 2, "la": 3}


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


Labels = Literal["full", "partial", "none"]


def encode_partial(weak: np.ndarray) -> np.ndarray:
    """Partial labels as training targets: the eroded foreground is class 1, every other pixel
    is unlabelled (``IGNORE``): uint8 {1, IGNORE}."""
    return np.where(weak > 0, 1, IGNORE).astype(np.uint8)


def load_volumes(
    dataset: str, meta: dict, patients: list[str], labels: Labels
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Images and targets of every case of ``patients``, one (Z, H, W) array per case.

    Args:
        labels: ``full`` masks {0, 1}; ``partial`` labels (``encode_partial``); ``none``: every
            voxel ``IGNORE`` (the semi-supervised baselines never see any label of these).
    """
    images, targets = [], []
    for cid in case_ids(meta, patients):
        case = load_case(paths.case_file(dataset, cid))
        images.append(case.image)
        if labels == "full":
            targets.append(case.label)
        elif labels == "partial":
            with np.load(paths.weak_file(dataset, cid)) as z:
                targets.append(encode_partial(z["weak"]))
        else:
            targets.append(np.full(case.image.shape, IGNORE, np.uint8))
    return images, targets


def case_ids(meta: dict, patients: list[str]) -> list[str]:
    """The case IDs of ``patients`` (``splits.json``), in patient order."""
    return [cid for pid in patients for cid in meta["patients"][pid]["cases"]]


def load_images(dataset: str, meta: dict, patients: list[str]) -> list[np.ndarray]:
    """The images alone of every case of ``patients`` (proposals label them themselves)."""
    return [load_case(paths.case_file(dataset, cid)).image for cid in case_ids(meta, patients)]


def load_pool(dataset: str, meta: dict, patients: list[str], labels: Labels) -> Pool:
    """All slices of all cases of ``patients`` (``load_volumes``), stacked."""
    images, targets = load_volumes(dataset, meta, patients, labels)
    return stack_pool(images, targets)


def stack_pool(images: list[np.ndarray], targets: list[np.ndarray]) -> Pool:
    """Volumes (Z, H, W) of one in-plane size stacked into a 2D slice pool."""
    if not images:
        return Pool(np.zeros((0, 1, 1), np.float32), np.zeros((0, 1, 1), np.uint8))
    return Pool(np.concatenate(images), np.concatenate(targets))


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
    """The batch of ``step``: ``batch_full`` fully labelled rows, then ``batch_weak`` rows of the
    other pool, whose targets (partial, pseudo or none, see ``load_volumes``) go to ``weak``."""
    fi = _full_indices(step, seed, len(full), batch_full)
    images = [full.images[fi]]
    masks = [full.labels[fi].astype(np.int64)]
    weaks = [np.full_like(masks[0], IGNORE)]
    if weak is not None and batch_weak > 0:
        wi = _weak_indices(step, seed, len(weak), batch_weak)
        images.append(weak.images[wi])
        w = weak.labels[wi].astype(np.int64)
        masks.append(np.full_like(w, IGNORE))
        weaks.append(w)
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
    return [load_case(paths.case_file(dataset, cid)) for cid in case_ids(meta, meta[split])]
