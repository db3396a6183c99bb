"""``mixseg segment``: apply a trained 2D ACDC run to new NIfTI scans.

A scan goes through exactly the preprocessing of its run's training images, read from the
checkpoint's resolved configuration (``config["preprocess"]``, see ``data/canonical.py``):
per-volume percentile normalisation, then in-plane resampling to the training grid (``resize``,
or ``crop``: resample to ``spacing_mm``, then centre-crop/pad). Slices are segmented with
``infer.predict_probs``; the foreground probability is mapped back to the scan's own grid
(inverse crop/pad, then linear zoom) and thresholded at 0.5, so the mask has the scan's
(x, y, z) shape and is written with its affine and header.

The head is the run's inference head unless asked otherwise; a run trained with
``train.select_head: each`` segments with the weights kept for the head asked for, a run with
``evaluated`` with its usual weights for every head, as its evaluation did
(``use_head_weights``).

Voxel axes are used as stored, without reorientation, as in training: a scan must be a stack of
short-axis slices along its third axis, like ACDC. Arrays are (z, y, x) inside this module (the
project's order), (x, y, z) in NIfTI files.

Every problem with a file raises ``DataError`` naming the file. Outputs are written to a
temporary name in the output folder and renamed, so a failure never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import torch

from mixseg import __version__, atomic, config, paths, scans
from mixseg.data.canonical import (
    _center_crop_or_pad,
    _zoom_slices,
    normalize_intensity,
    resample_inplane,
)
from mixseg.data.errors import DataError
from mixseg.evaluate import load_model
from mixseg.heads import heads_of, inference_head
from mixseg.infer import predict_probs
from mixseg.selection import own_weights

SUPPORTED_DATASETS = ("acdc",)
MONTAGE_SLICES = 6


@dataclasses.dataclass(frozen=True)
class Result:
    """What ``segment_file`` wrote: the mask (and overlay) and the foreground's size."""

    path: Path
    mask_file: Path
    png_file: Path | None
    voxels: int
    ml: float


def pick_device(name: str | None) -> torch.device:
    """``cuda`` when present unless ``name`` says otherwise.

    Raises:
        ValueError: ``name`` is ``cuda`` and CUDA is not available.
    """
    if name is None:
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: CUDA is not available on this machine")
    return torch.device(name)


def resolve_model_file(run: str, dataset: str, setting: str, seed: int) -> Path:
    """The ``model.pt`` that ``run`` designates: a ``model.pt`` file, a run directory holding
    one, or a run name looked up as ``paths.run_dir(dataset, setting, run, seed)`` (relative to
    the current directory, i.e. the project root).

    Raises:
        DataError: nothing there; for a run name the message lists the trained runs.
    """
    path = Path(run)
    if path.is_file():
        return path
    if path.is_dir():
        if (path / "model.pt").is_file():
            return path / "model.pt"
        raise DataError(path, "no model.pt in this run directory (has its training finished?)")
    if len(path.parts) > 1 or path.suffix == ".pt":
        raise DataError(path, "no such run directory or model file")
    model_file = paths.run_dir(dataset, setting, run, seed) / "model.pt"
    if model_file.is_file():
        return model_file
    root = model_file.parents[3]  # data/runs/<dataset>
    found = sorted(str(p.parent.relative_to(root)) for p in root.glob("*/*/seed*/model.pt"))
    if not found:
        known = f"no trained runs under {root}/ (`make repro` trains them)"
    else:
        more = f", ... ({len(found) - 30} more)" if len(found) > 30 else ""
        known = f"trained runs under {root}/: {', '.join(found[:30])}{more}"
    raise DataError(model_file, f"no run {run!r} (setting {setting}, seed {seed}); {known}")


def load_checkpoint(model_file: Path, device: torch.device) -> tuple[torch.nn.Module, dict]:
    """Check that ``model_file`` is a 2D ACDC ``model.pt`` and rebuild its network.

    Returns:
        (model in eval mode on ``device``, resolved configuration of its run).

    Raises:
        DataError: unreadable file, not a mixseg checkpoint, another dataset's checkpoint, or a
            configuration without ``preprocess``.
    """
    try:  # mmap: reading the config does not load the weights twice
        state = torch.load(model_file, map_location="cpu", mmap=True, weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        raise DataError(model_file, f"not a readable PyTorch checkpoint ({exc})") from exc
    if not isinstance(state, dict) or not {"model", "config", "n_decoders"} <= set(state):
        raise DataError(model_file, "not a mixseg model.pt (keys model, config, n_decoders)")
    cfg = state["config"]
    if cfg.get("dataset") not in SUPPORTED_DATASETS:
        raise DataError(
            model_file,
            f"checkpoint of dataset {cfg.get('dataset')!r}: `mixseg segment` applies 2D ACDC "
            "models only (3D Left Atrium checkpoints do not exist yet)",
        )
    preprocess_params(cfg, model_file)
    del state
    try:
        return load_model(model_file, device)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise DataError(model_file, f"cannot rebuild the network ({exc})") from exc


def preprocess_params(cfg: dict, model_file: Path) -> config.PreprocessParams:
    """The training images' preprocessing, from a run's resolved configuration."""
    if "preprocess" not in cfg:
        raise DataError(model_file, "its configuration has no 'preprocess' entry")
    try:
        return config.build(config.PreprocessParams, cfg["preprocess"], "config.preprocess")
    except config.ConfigError as exc:
        raise DataError(model_file, str(exc)) from exc


def resolve_head(model: torch.nn.Module, head: str | None, model_file: Path) -> str:
    """``head``, or by default ``student`` (two decoders) / ``teacher`` (single branch).

    Raises:
        DataError: the run has no such head.
    """
    heads = heads_of(model.n_decoders)
    if head is None:
        return inference_head(model.n_decoders)
    if head not in heads:
        raise DataError(model_file, f"single-branch run: no {head} head (use --head teacher)")
    return head


def use_head_weights(model: torch.nn.Module, model_file: Path, head: str) -> torch.nn.Module:
    """``model`` holding the weights the run's evaluation used for ``head``: its own, from
    ``model.pt``'s ``head_weights``, if the run has ``train.select_head: each``
    (``selection.own_weights``), so that ``--head teacher`` segments with the weights its test
    scores were measured with; else the usual ones, left as they are.

    Raises:
        DataError: the head's weights do not fit the network, or are missing under ``each``.
    """
    state = torch.load(model_file, map_location="cpu", mmap=True, weights_only=True)
    try:
        own = own_weights(state)
    except ValueError as exc:
        raise DataError(model_file, str(exc)) from exc
    if head in own:
        try:
            model.load_state_dict(own[head])
        except RuntimeError as exc:
            raise DataError(model_file, f"cannot load the {head} head's weights ({exc})") from exc
    return model


def prepare_out_dir(out_dir: Path) -> Path:
    """Create ``out_dir`` if needed and check that files can be written there.

    Raises:
        DataError: it cannot be created or is not writable.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        raise DataError(out_dir, f"output folder is not writable ({exc.strerror or exc})") from exc
    return out_dir


def segment_volume(
    model: torch.nn.Module,
    image: np.ndarray,
    spacing: tuple[float, float, float],
    pre: config.PreprocessParams,
    head: str,
) -> np.ndarray:
    """Foreground probability of a raw scan, on the scan's own grid.

    Args:
        model: a 2D network (``infer.predict_probs``).
        image: (Z, Y, X) raw intensities, finite.
        spacing: (z, y, x) voxel size in mm.
        pre: the run's preprocessing.
        head: ``teacher``, ``student`` or ``ensemble``.

    Returns:
        float32 (Z, Y, X) probabilities in [0, 1].

    Raises:
        ValueError: in ``crop`` mode, a scan smaller than one pixel of the training grid.
    """
    _, ny, nx = image.shape
    if pre.mode == "crop" and min(ny * spacing[1], nx * spacing[2]) <= 0.5 * pre.spacing_mm:
        raise ValueError(f"{ny}x{nx} pixels at {spacing[1:]} mm: smaller than the training grid")
    norm = normalize_intensity(image.astype(np.float32, copy=False), pre.percentiles)
    dummy_label = np.zeros(image.shape, np.uint8)
    grid, _, grid_spacing = resample_inplane(
        norm, dummy_label, spacing, pre.mode, tuple(pre.size), pre.spacing_mm
    )
    probs = predict_probs(model, grid, head)  # (Z, H, W) on the training grid
    # The zoomed size before cropping follows from the output spacing (spacing * n / zoomed).
    zoomed = (round(spacing[1] * ny / grid_spacing[1]), round(spacing[2] * nx / grid_spacing[2]))
    probs = _center_crop_or_pad(probs, zoomed)  # a centre crop/pad is its own inverse
    probs = _zoom_slices(probs, (ny / zoomed[0], nx / zoomed[1]), order=1)
    assert probs.shape == image.shape, (probs.shape, image.shape)
    return np.clip(probs, 0.0, 1.0)


def segment_file(
    job: scans.Job,
    model: torch.nn.Module,
    pre: config.PreprocessParams,
    head: str,
    out_dir: Path,
    png: bool = False,
) -> Result:
    """Segment one scan and write ``<stem>_mask.nii.gz`` (uint8 {0, 1}, the scan's affine and
    header) and, with ``png``, ``<stem>_mask.png`` into ``out_dir``, each atomically.

    Raises:
        DataError: ``scans.read_scan``'s problems, a scan smaller than the training grid, or a
            write error (nothing is left in ``out_dir`` then).
    """
    image, spacing, src = scans.read_scan(job)
    try:
        probs = segment_volume(model, image, spacing, pre, head)
    except ValueError as exc:
        raise DataError(job.path, str(exc)) from exc
    mask = (probs > 0.5).astype(np.uint8)  # (z, y, x); ties go to background, as predict_labels

    hdr = src.header.copy()
    hdr.set_data_dtype(np.uint8)
    hdr["cal_min"], hdr["cal_max"] = 0, 1
    hdr["descrip"] = f"mixseg {__version__} {head} mask".encode()[:79]
    # The input's affine equals its header's best affine: nibabel keeps the header as is
    # (qform/sform codes included) instead of rewriting it from the affine.
    out_img = type(src)(np.ascontiguousarray(mask.transpose(2, 1, 0)), src.affine, hdr)
    mask_file = out_dir / f"{job.stem}_mask.nii.gz"
    png_file = out_dir / f"{job.stem}_mask.png" if png else None
    try:
        with contextlib.ExitStack() as stack:
            tmp_nii = stack.enter_context(atomic.replacing(mask_file, suffix=".nii.gz"))
            nib.save(out_img, tmp_nii)
            if png:
                tmp_png = stack.enter_context(atomic.replacing(png_file, suffix=".png"))
                norm = normalize_intensity(image, pre.percentiles)
                save_overlay(norm, mask, spacing, tmp_png, f"{job.path.name} ({head})")
    except OSError as exc:
        raise DataError(mask_file, f"cannot write the output ({exc})") from exc
    voxels = int(mask.sum())
    return Result(job.path, mask_file, png_file, voxels, voxels * float(np.prod(spacing)) / 1e3)


def save_overlay(
    image: np.ndarray, mask: np.ndarray, spacing: tuple[float, float, float], out: Path, title: str
) -> None:
    """A row of up to ``MONTAGE_SLICES`` slices of a (Z, Y, X) image in [0, 1] with the mask in
    red: evenly spaced over the slices holding foreground (over all slices if none does)."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no backend switch

    with_fg = np.flatnonzero(mask.any(axis=(1, 2)))
    pool = with_fg if len(with_fg) else np.arange(len(image))
    n = min(MONTAGE_SLICES, len(pool))
    picks = np.unique(pool[np.linspace(0, len(pool) - 1, n).round().astype(int)])
    fig = Figure(figsize=(2.4 * len(picks), 2.8), layout="constrained")
    aspect = spacing[1] / spacing[2]  # rows are y, columns x
    for ax, z in zip(fig.subplots(1, len(picks), squeeze=False)[0], picks, strict=True):
        ax.imshow(image[z], cmap="gray", vmin=0, vmax=1, aspect=aspect, interpolation="nearest")
        fg = np.ma.masked_equal(mask[z], 0)
        ax.imshow(fg, cmap="autumn", alpha=0.35, aspect=aspect, interpolation="nearest")
        if mask[z].any():
            ax.contour(mask[z], levels=[0.5], colors="red", linewidths=0.8)
        ax.set_title(f"slice {z}", fontsize=8)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=8)
    fig.savefig(out, format="png", dpi=90)
