"""The qualitative slices of a run (paper Figs. 8-10): a few test slices, their image and
ground truth, and each head's foreground probability there. A run's evaluation saves them as a
small git-tracked ``slices.npz`` (``paths.eval_dir``), so the report draws these figures from
the committed results, without the model or the preprocessed data.

Which slices: the first case (ACDC: the ED frame) of each of the first ``N_PATIENTS`` test
patients of ``splits.json``, at the slice (axis 0) with the largest ground-truth area (ACDC:
the mid-ventricle; LA: the widest axial section of the atrium).

Storage (``save``, reproducible bytes): ``case`` (S,) names, ``z`` (S,) slice indices, then per
slice i (shapes differ between LA cases) ``image_<i>`` (H, W) float16, ``label_<i>`` uint8 and
``probs_<head>_<i>`` uint8 = round(255 p): q >= 128 exactly when p >= 0.5, so thresholding
q / 255 at 0.5 gives the evaluated prediction (but where p is 0.5 exactly).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from mixseg import atomic

N_PATIENTS = 3
FILE = "slices.npz"


@dataclasses.dataclass(frozen=True)
class Slices:
    """S slices of one run (each (H, W), sizes may differ). ``probs``: head -> S maps in [0, 1]."""

    names: list[str]  # "<case id> z=<slice>"
    image: list[np.ndarray]  # float32
    label: list[np.ndarray]  # uint8
    probs: dict[str, list[np.ndarray]]  # float32


def chosen_cases(meta: dict) -> list[str]:
    """Case ids whose slices are kept: the first case of each of the first test patients."""
    return [meta["patients"][pid]["cases"][0] for pid in meta["test"][:N_PATIENTS]]


def largest_slice(label: np.ndarray) -> int:
    """Index along axis 0 of the slice of ``label`` (Z, H, W) with the most foreground."""
    return int(np.argmax(label.reshape(len(label), -1).sum(1)))


def pick(
    case_id: str, image: np.ndarray, label: np.ndarray, probs: dict[str, np.ndarray]
) -> dict[str, np.ndarray | str | int]:
    """The record of one case: its ``largest_slice`` of the image, label and every head's
    probabilities (each (Z, H, W))."""
    z = largest_slice(label)
    return {"case": case_id, "z": z, "image": image[z], "label": label[z]} | {
        f"probs_{h}": p[z] for h, p in probs.items()
    }


def save(path: Path, records: list[dict]) -> None:
    """``records`` of ``pick`` (same heads each) as one ``.npz``, atomically and byte-stable."""
    arrays: dict[str, np.ndarray] = {
        "case": np.array([r["case"] for r in records]),
        "z": np.array([r["z"] for r in records], dtype=np.int32),
    }
    for i, r in enumerate(records):
        arrays[f"image_{i}"] = np.asarray(r["image"], np.float16)
        arrays[f"label_{i}"] = np.asarray(r["label"], np.uint8)
        for k in r:
            if k.startswith("probs_"):
                arrays[f"{k}_{i}"] = np.rint(255 * np.asarray(r[k])).astype(np.uint8)
    atomic.save_npz(path, **arrays)


def load(path: Path) -> Slices | None:
    """The slices saved at ``path``, or None if there is no such file."""
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as f:
        n = len(f["case"])
        heads = [k[len("probs_") : -len("_0")] for k in f.files if k.startswith("probs_")]
        heads = [h for h in heads if f"probs_{h}_0" in f.files]
        return Slices(
            names=[f"{c} z={z}" for c, z in zip(f["case"], f["z"], strict=True)],
            image=[f[f"image_{i}"].astype(np.float32) for i in range(n)],
            label=[f[f"label_{i}"] for i in range(n)],
            probs={
                h: [f[f"probs_{h}_{i}"].astype(np.float32) / 255 for i in range(n)] for h in heads
            },
        )
