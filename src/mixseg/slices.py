"""The qualitative slices of a run (paper Figs. 8-10): a few test slices, their image and
ground truth, and the foreground probability of the run's inference head there
(``heads.inference_head``: the student of a two-output model, the one output of a single
network; what the figures show). A run's evaluation saves them in its git-tracked
``paths.eval_dir``, so the report draws these figures from the committed results, without the
model or the preprocessed data.

Which slices: the first case (ACDC: the ED frame) of each of the first ``N_PATIENTS`` test
patients of ``splits.json``, at the slice (axis 0) with the largest ground-truth area (ACDC:
the mid-ventricle; LA: the widest axial section of the atrium).

Two files, reproducible bytes (``atomic.save_npz``), one array per slice since LA slices differ
in size: ``IMAGES`` holds ``case``, ``z``, ``image_<i>`` (H, W) float16 and ``label_<i>`` uint8,
the same bytes for every run of a dataset, so git stores them once; ``FILE`` holds ``case``,
``z``, ``head`` and ``probs_<i>`` uint8 = round(255 p): q >= 128 exactly when p >= 0.5, so
thresholding q / 255 at 0.5 gives the evaluated prediction (but where p is 0.5 exactly).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from mixseg import atomic

N_PATIENTS = 3
FILE = "slices.npz"
IMAGES = "slice_images.npz"


@dataclasses.dataclass(frozen=True)
class Slices:
    """S slices of one run, each (H, W) (sizes may differ between cases)."""

    names: list[str]  # "<case id> z=<slice>"
    image: list[np.ndarray]  # float32
    label: list[np.ndarray]  # uint8
    head: str
    probs: list[np.ndarray]  # float32 in [0, 1], of ``head``


def chosen_cases(meta: dict) -> list[str]:
    """Case ids whose slices are kept: the first case of each of the first test patients."""
    return [meta["patients"][pid]["cases"][0] for pid in meta["test"][:N_PATIENTS]]


def largest_slice(label: np.ndarray) -> int:
    """Index along axis 0 of the slice of ``label`` (Z, H, W) with the most foreground."""
    return int(np.argmax(label.reshape(len(label), -1).sum(1)))


def pick(case_id: str, image: np.ndarray, label: np.ndarray, head: str, probs: np.ndarray) -> dict:
    """The record of one case: its ``largest_slice`` of the image, the label and the
    probabilities of ``head`` (each (Z, H, W))."""
    z = largest_slice(label)
    return {
        "case": case_id,
        "z": z,
        "image": image[z],
        "label": label[z],
        "head": head,
        "probs": probs[z],
    }


def save(out_dir: Path, records: list[dict]) -> None:
    """``records`` of ``pick`` (all of one head) as ``IMAGES`` and ``FILE`` in ``out_dir``,
    each atomically.

    Raises:
        ValueError: records of different heads.
    """
    heads = {r["head"] for r in records}
    if len(heads) > 1:
        raise ValueError(f"slices of one head expected, got {sorted(heads)}")
    head = heads.pop() if heads else ""
    where = {
        "case": np.array([r["case"] for r in records]),
        "z": np.array([r["z"] for r in records], dtype=np.int32),
    }
    images, probs = dict(where), dict(where, head=np.array(head))
    for i, r in enumerate(records):
        images[f"image_{i}"] = np.asarray(r["image"], np.float16)
        images[f"label_{i}"] = np.asarray(r["label"], np.uint8)
        probs[f"probs_{i}"] = np.rint(255 * np.asarray(r["probs"])).astype(np.uint8)
    atomic.save_npz(out_dir / IMAGES, **images)
    atomic.save_npz(out_dir / FILE, **probs)


def load(out_dir: Path) -> Slices | None:
    """The slices saved in ``out_dir``, or None if the run saved none."""
    if not (out_dir / FILE).exists():
        return None
    with np.load(out_dir / IMAGES) as im, np.load(out_dir / FILE) as pr:
        n = len(im["case"])
        return Slices(
            names=[f"{c} z={z}" for c, z in zip(im["case"], im["z"], strict=True)],
            image=[im[f"image_{i}"].astype(np.float32) for i in range(n)],
            label=[im[f"label_{i}"] for i in range(n)],
            head=str(pr["head"]),
            probs=[pr[f"probs_{i}"].astype(np.float32) / 255 for i in range(n)],
        )
