"""The only place that builds artefact paths.

All paths are relative to the project root (the directory holding ``dvc.yaml``), which is the
working directory of every DVC stage.

Two homes for a run's outputs: ``data/`` holds what DVC caches (data, weights, wall-clock
timings: large or different on every execution; git ignores it), ``results/`` what git tracks
(``cache: false`` outputs: small and byte-identical when a run is repeated), so a clone has
every run's evaluation, training history and qualitative slices, and ``make report`` needs
nothing else. ``tests/unit/test_dvc_yaml.py`` checks that the outputs
declared in the ``dvc.yaml`` files equal what these functions return.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path("data")
RESULTS = Path("results")
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
    """DVC-cached files of one training run: ``data/runs/<ds>/<setting>/<run>/seed<k>``."""
    return DATA / "runs" / dataset / setting / run / f"seed{seed}"


def model_file(dataset: str, setting: str, run: str, seed: int) -> Path:
    """The trained weights and resolved configuration of a run (DVC-cached)."""
    return run_dir(dataset, setting, run, seed) / "model.pt"


def timing_file(dataset: str, setting: str, run: str, seed: int) -> Path:
    """Wall-clock times of a run's last execution (DVC-cached; no report stage reads it, so a
    re-run that only changes the timings stales nothing downstream)."""
    return run_dir(dataset, setting, run, seed) / "timing.json"


def results_dir(dataset: str, setting: str, run: str, seed: int) -> Path:
    """Git-tracked results of one run: ``results/<ds>/<setting>/<run>/seed<k>``."""
    return RESULTS / dataset / setting / run / f"seed{seed}"


def train_summary(dataset: str, setting: str, run: str, seed: int) -> Path:
    """``train.json``: how training went (steps, device, images, the last logged record)."""
    return results_dir(dataset, setting, run, seed) / "train.json"


def live_dir(dataset: str, setting: str, run: str, seed: int) -> Path:
    """dvclive's directory of a run: ``metrics.json`` (the last value of each logged metric)
    and ``plots/metrics/{train,val}/<name>.tsv`` (columns ``step``, ``<name>``)."""
    return results_dir(dataset, setting, run, seed) / "live"


def live_plots_dir(dataset: str, setting: str, run: str, seed: int) -> Path:
    """The loss terms and validation scores of a run, one TSV per metric (``dvc plots``)."""
    return live_dir(dataset, setting, run, seed) / "plots" / "metrics"


def scratch_dir(dataset: str, setting: str, run: str, seed: int) -> Path:
    """Resumable checkpoint of an unfinished run. Not a DVC output: DVC deletes a stage's
    outputs before running it, which would throw away the state to resume from."""
    return DATA / "scratch" / dataset / setting / run / f"seed{seed}"


def eval_dir(dataset: str, setting: str, run: str, seed: int) -> Path:
    """Test-set evaluation of one run: ``cases.csv`` (per case and head), ``metrics.json`` and
    the qualitative figures' slices (``slices.npz``, ``slice_images.npz``: ``mixseg.slices``)."""
    return results_dir(dataset, setting, run, seed) / "eval"


def run_outputs(dataset: str, setting: str, run: str, seed: int) -> dict[str, list[Path]]:
    """The DVC outputs of a train stage: ``cached`` (weights, timings), ``git`` (``cache:
    false``) and ``plots`` (``cache: false``, ``x: step``). dvc.yaml lists them
    (``pipeline/make_dvc_yaml.py``); ``tests/unit/test_dvc_yaml.py`` checks it does."""
    where = (dataset, setting, run, seed)
    return {
        "cached": [model_file(*where), timing_file(*where)],
        "git": [eval_dir(*where), train_summary(*where), live_dir(*where) / "metrics.json"],
        "plots": [live_plots_dir(*where)],
    }


def eval_outputs(dataset: str, setting: str, run: str, seed: int) -> dict[str, list[Path]]:
    """The DVC outputs of an evaluation-only stage (``pipeline/evaluate.py``: a trained run's
    weights under another ``select_head``), in ``run_outputs``' kinds: git-tracked only, the
    evaluation and ``train.json`` (no weights, timings or training history of its own)."""
    where = (dataset, setting, run, seed)
    return {"cached": [], "git": [eval_dir(*where), train_summary(*where)], "plots": []}
