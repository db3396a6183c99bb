"""The only place that builds artefact paths.

All paths are relative to the project root (the directory holding ``dvc.yaml``), which is the
working directory of every DVC stage. ``tests/unit/test_dvc_yaml.py`` checks that the outputs
declared in the ``dvc.yaml`` files equal what these functions return.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path("data")
REPORTS = Path("reports")


def raw_dir(dataset: str) -> Path:
    """Raw data in its distribution format, e.g. ``data/raw/acdc`` (output of ``download``)."""
    return DATA / "raw" / dataset


def processed_dir(dataset: str) -> Path:
    """Canonical per-case files and split files (output of ``preprocess``)."""
    return DATA / "processed" / dataset


def cases_dir(dataset: str) -> Path:
    """One ``<case_id>.npz`` per case: image, label, spacing."""
    return processed_dir(dataset) / "cases"


def case_file(dataset: str, case_id: str) -> Path:
    return cases_dir(dataset) / f"{case_id}.npz"


def splits_file(dataset: str) -> Path:
    """Patient-level train/val/test split and the Set-N selections (JSON)."""
    return processed_dir(dataset) / "splits.json"


def weak_dir(dataset: str) -> Path:
    """Partial labels, one ``<case_id>.npz`` per training case (output of ``erode-labels``)."""
    return DATA / "weak" / dataset


def weak_file(dataset: str, case_id: str) -> Path:
    return weak_dir(dataset) / f"{case_id}.npz"


def run_dir(dataset: str, setting: str, run: str, seed: int) -> Path:
    """Directory of one training run: ``data/runs/<ds>/<setting>/<run>/seed<k>``."""
    return DATA / "runs" / dataset / setting / run / f"seed{seed}"


def scratch_dir(dataset: str, setting: str, run: str, seed: int) -> Path:
    """Resumable checkpoint of an unfinished run. Not a DVC output: DVC deletes a stage's
    outputs before running it, which would throw away the state to resume from."""
    return DATA / "scratch" / dataset / setting / run / f"seed{seed}"


def eval_dir(dataset: str, setting: str, run: str, seed: int) -> Path:
    """Evaluation of one run: ``cases.csv`` (per case and head) and ``metrics.json``."""
    return DATA / "eval" / dataset / setting / run / f"seed{seed}"
