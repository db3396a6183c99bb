"""Typed, validated view of ``params.yaml``.

``params.yaml`` is the single source of experiment values. Every section maps onto a frozen
dataclass whose fields have no defaults: a missing key is an error and so is an unknown key
(nanoGPT's rule), so a typo in ``params.yaml`` fails loudly instead of silently using a default.

Only the sections a caller asks for are validated (``load_section``), so a stage never reads,
and therefore never silently depends on, a section it does not declare in ``dvc.yaml``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml

PARAMS_FILE = Path("params.yaml")


class ConfigError(ValueError):
    """A section of ``params.yaml`` is missing, has unknown keys or a value of the wrong type."""


# --------------------------------------------------------------------------------------------
# Data sections
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SyntheticSource:
    """Offline generator settings (``data.<ds>.synthetic``)."""

    n_cases: int
    seed: int
    workers: int


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where the raw data of one dataset comes from (``data.<ds>``).

    ``source`` selects one of: ``synthetic`` (generated offline, real on-disk format),
    ``url`` (download ``url`` and verify ``sha256``), ``local`` (an archive or folder at
    ``local``).
    """

    source: Literal["synthetic", "url", "local"]
    synthetic: SyntheticSource
    url: str | None
    sha256: str | None
    local: str | None


@dataclasses.dataclass(frozen=True)
class SplitParams:
    """Patient-level split (``split``): fractions of train/val/test and the seed."""

    train: float
    val: float
    test: float
    seed: int


@dataclasses.dataclass(frozen=True)
class PreprocessParams:
    """Resampling of one dataset at one preset (``presets.<p>.<ds>.preprocess``).

    ``mode``: ``resize`` stretches every slice to ``size`` (the paper: 256x256 slices);
    ``crop`` first resamples in-plane to ``spacing_mm`` and then centre-crops/pads to ``size``
    (the CPU preset: keeps the anatomy's proportions at a small input size).
    ``percentiles``: intensities are clipped to these per-volume percentiles and scaled to [0, 1]
    (``[0, 100]`` is the plain min-max of the paper's pipeline).
    """

    mode: Literal["resize", "crop"]
    size: tuple[int, int]
    spacing_mm: float | None
    percentiles: tuple[float, float]


@dataclasses.dataclass(frozen=True)
class WeakParams:
    """Partial-label generation (``presets.<p>.<ds>.weak``), see ``data/weak_labels.py``."""

    iterations: int
    connectivity: Literal[1, 2, 3]  # 1 = cross ... ndim = full square/cube (scipy)
    per_object: bool


@dataclasses.dataclass(frozen=True)
class SettingsParams:
    """Set-N selections (``settings``): numbers of fully labelled patients and ratios."""

    n_full: tuple[int, ...]
    ratios: tuple[int, ...]
    default_ratio: int


@dataclasses.dataclass(frozen=True)
class TrainParams:
    """Scale of training for one dataset at one preset (``presets.<p>.<ds>.train``).

    Exactly one of ``steps`` (a fixed number of iterations for every run: the CPU preset) and
    ``epochs`` (the paper: 500 epochs of the fully labelled images, batch ``batch_full``; the
    Upper bound's batch under ``upper_batch: mixed`` is ``batch_full + batch_weak``) is set.
    ``patch`` and ``stride`` (D, H, W) are the 3D training patch and the sliding-window stride
    at test time (Left Atrium); ``null`` for 2D data. ``threads``: torch's intra-op threads for
    the stage (``null``: torch's default). Sums over a batch split among threads round
    differently for each thread count, so a fixed count makes a run's numbers the same however
    it is launched (``make repro`` runs two pipelines side by side, one thread each).
    ``select``: which weights the run keeps: ``best``, those of the validation with the highest
    Dice of the run's inference head (the student of a dual-branch run; the reference code
    keeps the best epoch of its bottom branch), or ``last``, those after the last step.
    ``select_head``: with ``select: best``, whose best validation decides: ``evaluated``, the
    inference head's, and every head is reported with those weights (the reference code's one
    checkpoint); ``each``, every head is reported with the network's weights at its own best
    validation. A dual-branch run keeps one copy per head in ``model.pt`` under either rule
    (``selection.EachHead``), so the rule decides only its evaluation, and a run can be
    evaluated under the other without training (``pipeline/evaluate.py``). Networks with one
    head and co-trained networks (selected on their ensemble) keep one set either way.
    ``select: last`` keeps the last weights for every head: ``each`` with it is rejected as
    inconsistent. ``select_ties``: of equal best validation scores, ``last`` keeps the later
    weights (the more trained; a head whose validation never moves, such as the Left Atrium's
    Decoupled student, then keeps the last ones) and ``first`` the earlier (the reference
    code saves on a strict improvement only).
    ``precision``: ``mixed``, the forward pass under autocast (CUDA: float16 with a gradient
    scaler; CPU: bfloat16 where the CPU has native bfloat16 instructions, float32 elsewhere;
    losses in float32 either way) or ``float32`` throughout. Inference is float32 on the CPU.
    """

    base: int  # channels of the first encoder block (64 in the paper)
    padding: Literal["valid", "same"]
    batch_full: int  # fully labelled rows per batch (the Upper bound: see ``upper_batch``)
    batch_weak: int  # partially labelled (or pseudo-labelled) rows per batch
    batch_unlabeled: int  # unlabelled rows per batch of the semi-supervised baselines
    patch: tuple[int, int, int] | None
    stride: tuple[int, int, int] | None
    steps: int | None
    epochs: int | None
    optimizer: Literal["adam", "sgd"]
    lr: float
    lr_schedule: Literal["constant", "cosine"]
    weight_decay: float
    log_every: int
    val_every: int
    checkpoint_every: int
    threads: int | None
    select: Literal["best", "last"]
    select_head: Literal["evaluated", "each"]
    select_ties: Literal["last", "first"]
    precision: Literal["mixed", "float32"]

    def __post_init__(self) -> None:
        if self.select == "last" and self.select_head == "each":
            raise ConfigError(
                "select_head: each picks each head's best validation, but select: last keeps"
                " the last weights: set select: best, or select_head: evaluated"
            )


# --------------------------------------------------------------------------------------------
# Strict construction
# --------------------------------------------------------------------------------------------
def _convert(tp: Any, value: Any, where: str) -> Any:
    """Convert a YAML value to the annotated type ``tp``, raising ConfigError on mismatch."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{where}: {value!r} matches none of {tp}: {'; '.join(errors)}")
    if origin is Literal:
        if value not in get_args(tp):
            raise ConfigError(f"{where}: {value!r} is not one of {get_args(tp)}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} values, got {value!r}")
        return tuple(
            _convert(a, v, f"{where}[{i}]")
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if origin is dict:
        key_t, val_t = get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {
            _convert(key_t, k, where): _convert(val_t, v, f"{where}.{k}") for k, v in value.items()
        }
    if tp is float:
        # `dvc exp run -S lambda_kd=10` writes an int: accept ints where floats are expected.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise TypeError(f"unsupported annotation {tp} at {where}")  # programming error


def build(cls: type, raw: Any, where: str) -> Any:
    """Build dataclass ``cls`` from a mapping, rejecting missing and unknown keys.

    Raises:
        ConfigError: ``raw`` is not a mapping, lacks a field, has an unknown key, a value of
            the wrong type or values that contradict each other (the dataclass's
            ``__post_init__``). The message names the dotted path in ``params.yaml``.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(names))
    missing = [n for n in names if n not in raw]
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; expected {names}")
    if missing:
        raise ConfigError(f"{where}: missing key(s) {missing}")
    values = {n: _convert(hints[n], raw[n], f"{where}.{n}") for n in names}
    try:
        return cls(**values)
    except ConfigError as exc:  # a check across fields (``__post_init__``)
        raise ConfigError(f"{where}: {exc}") from exc


def read_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Read ``params.yaml`` as plain data.

    Raises:
        ConfigError: the file does not exist or is not a YAML mapping.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such parameters file") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return raw


def lookup(params: dict[str, Any], dotted: str) -> Any:
    """Return ``params[a][b][c]`` for ``dotted = "a.b.c"``, with a ConfigError naming the key."""
    node: Any = params
    for i, part in enumerate(dotted.split(".")):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"params.yaml: missing key {'.'.join(dotted.split('.')[: i + 1])}")
        node = node[part]
    return node


def load_section(params: dict[str, Any], dotted: str, cls: type) -> Any:
    """Validate and return section ``dotted`` of ``params`` as dataclass ``cls``."""
    return build(cls, lookup(params, dotted), dotted)


def preset_key(params: dict[str, Any], dataset: str, section: str) -> str:
    """Dotted key of ``section`` of ``dataset`` at the selected preset, e.g.
    ``presets.cpu.acdc.weak``."""
    preset = lookup(params, "preset")
    if not isinstance(preset, str):
        raise ConfigError(f"params.yaml: preset must be a string, got {preset!r}")
    return f"presets.{preset}.{dataset}.{section}"


def as_dict(obj: Any) -> dict[str, Any]:
    """A dataclass as plain JSON-able data (tuples become lists)."""
    return dataclasses.asdict(obj)
