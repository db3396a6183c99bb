"""A training run = a method, a setting, a seed and explicit overrides of Eq. 5's
hyper-parameters. Everything not overridden is inherited from the top-level keys of
``params.yaml`` (the paper's names), and a run's DVC stage must declare exactly the keys it
inherits (``inherited_keys``): then ``dvc exp run -S lambda_kd=10`` re-runs exactly the runs
that use the default λkd. ``tests/unit/test_dvc_yaml.py`` checks every stage against this.

The run contract: ``resolve_run`` is the one place that turns a command line's (dataset, method,
setting, seed, overrides, pseudo-mask source) and ``params.yaml`` into a ``Run``, the fully
resolved run that ``train.fit`` trains and whose ``config()`` is saved in ``model.pt`` (and read
back by ``mixseg segment``). The stage script and the benchmarks build their runs with it.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from mixseg import __version__, config, paths
from mixseg.methods import get_method
from mixseg.methods.base import (
    IDLE_DECODERS,
    LOSS_CONVENTIONS,
    MIXED_FORWARD,
    REFERENCE_KD,
    UPPER_BATCH,
    WEIGHT_KEYS,
    HyperParams,
    KDParams,
    Method,
    parse_divergence,
)

# Overridable keys and their short tag in run names (kl_ent-lkd10, single-lw0.1, kl_ent-r3,
# uamt-lc1, glmi-lgmi2-llmi0.05, ssco-lsp1-lsc8; the studies: single-lw0-mfjoint, lower-n1500).
# ``mixed_forward`` and ``loss_convention`` override the top-level keys of those names (the
# studies' kl_ent-mfjoint-lossreference); ``steps`` and ``select_head`` the preset's
# ``train.select_head`` (decoupled-sheach); ``steps`` the preset's
# ``train.steps`` (and sets ``epochs`` to None). New keys go last: existing names stay as they are.
TAGS = {
    "lambda_w": "lw",
    "lambda_kd": "lkd",
    "lambda_ent": "lent",
    "divergence": "",
    "ratio": "r",
    "lambda_c": "lc",
    "lambda_gmi": "lgmi",
    "lambda_lmi": "llmi",
    "lambda_cons": "lcons",
    "lambda_sp": "lsp",
    "lambda_sc": "lsc",
    "mixed_forward": "mf",
    "steps": "n",
    "loss_convention": "loss",
    "select_head": "sh",
    "idle_decoders": "id",
}


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line arguments that name a run (``pipeline/train.py``, ``pipeline/evaluate.py``):
    ``--dataset``, ``--method``, ``--setting``, ``--seed``."""
    parser.add_argument("--dataset", required=True, choices=["acdc", "la"])
    parser.add_argument("--method", required=True)
    parser.add_argument("--setting", required=True, help="set3 | set5 | set10 | all")
    parser.add_argument("--seed", required=True, type=int)


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``["lambda_kd=10", "ratio=3"]`` -> ``{"lambda_kd": "10", "ratio": "3"}`` (strings kept
    verbatim: they name the run directory exactly as dvc.yaml spells it).

    Raises:
        ValueError: malformed pair or a key that cannot be overridden.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not value:
            raise ValueError(f"override must be key=value, got {pair!r}")
        if key not in TAGS:
            raise ValueError(f"cannot override {key!r}; overridable: {sorted(TAGS)}")
        out[key] = value
    return out


def run_name(method: str, overrides: dict[str, str]) -> str:
    """``kl_ent`` + ``{"lambda_kd": "10"}`` -> ``kl_ent-lkd10`` (keys in ``TAGS`` order)."""
    parts = [method] + [f"{TAGS[k]}{overrides[k]}" for k in TAGS if k in overrides]
    return "-".join(parts)


def proposal_run_name(pseudo_from: str) -> str:
    """Name of a run trained on the pseudo-masks of run ``pseudo_from`` (same setting, seed).

    ``lower`` -> ``proposals-lower`` and ``kl`` -> ``proposals-kl`` (Table 2); self-training
    (Fig. 5) continues the chain: ``proposals-kl`` is iteration 1, ``selftrain-it2`` is trained
    on its masks, ``selftrain-it<t+1>`` on those of ``selftrain-it<t>``.
    """
    if pseudo_from == "proposals-kl":
        return "selftrain-it2"
    if pseudo_from.startswith("selftrain-it") and pseudo_from[len("selftrain-it") :].isdigit():
        return f"selftrain-it{int(pseudo_from[len('selftrain-it') :]) + 1}"
    return f"proposals-{pseudo_from}"


def stage_run_name(method: str, overrides: dict[str, str], pseudo_from: str | None) -> str:
    """The run directory name of a train stage's command line."""
    if (method == "proposals") != (pseudo_from is not None):
        raise ValueError("--pseudo-from is required by, and only by, the proposals method")
    return proposal_run_name(pseudo_from) if pseudo_from else run_name(method, overrides)


def check_overrides(method: Method, overrides: dict[str, str]) -> None:
    """Reject an override the method cannot use.

    Raises:
        ValueError: ``mixed_forward`` overridden for a method that does not read it (its
            batches hold one row group, or its objective runs the network itself), or
            ``loss_convention`` for one without Eq. 3.
    """
    for key in ("mixed_forward", "loss_convention", "idle_decoders"):
        if key in overrides and key not in method.params_read:
            raise ValueError(f"method {method.name!r} does not read {key}: it cannot be overridden")
    if "select_head" in overrides and (method.n_networks > 1 or len(method.heads()) < 2):
        raise ValueError(
            f"method {method.name!r} has no heads of one network to select apart: select_head "
            "cannot be overridden"
        )


def inherited_keys(method: Method, overrides: dict[str, str]) -> frozenset[str]:
    """Top-level keys of params.yaml that a run reads: what its method reads, minus overrides.

    Raises:
        ValueError: an override the method cannot use (``check_overrides``).
    """
    check_overrides(method, overrides)
    return method.params_read - set(overrides)


def resolve_hyper(params: dict[str, Any], method: Method, overrides: dict[str, str]) -> HyperParams:
    """Eq. 5 values of a run. Values the method does not read are ``None``, so an objective that
    reads an undeclared value fails instead of silently depending on it."""
    values: dict[str, Any] = {}
    for key in WEIGHT_KEYS:
        if key in overrides:
            values[key] = float(overrides[key])
        elif key in method.reads:
            values[key] = config.build(_Number, {"value": config.lookup(params, key)}, key).value
        else:
            values[key] = None
    if "divergence" in overrides or "divergence" in method.reads:
        spec = overrides.get("divergence") or config.lookup(params, "divergence")
        parse_divergence(str(spec))  # fail early on a bad spec
        values["divergence"] = str(spec)
    else:
        values["divergence"] = None
    values["kd"] = config.load_section(params, "kd", KDParams) if "kd" in method.reads else None
    values["entropy_on"] = (
        config.lookup(params, "entropy_on") if "entropy_on" in method.reads else None
    )
    if values["entropy_on"] not in (None, "partial", "all"):
        raise config.ConfigError(f"entropy_on must be partial or all, got {values['entropy_on']!r}")
    check_overrides(method, overrides)
    read = method.params_read
    if "mixed_forward" in overrides:
        values["mixed_forward"] = overrides["mixed_forward"]
    else:
        values["mixed_forward"] = (
            config.lookup(params, "mixed_forward") if "mixed_forward" in read else None
        )
    if values["mixed_forward"] not in (None, *MIXED_FORWARD):
        raise config.ConfigError(
            f"mixed_forward must be one of {MIXED_FORWARD}, got {values['mixed_forward']!r}"
        )
    values["idle_decoders"] = None
    if "idle_decoders" in read:
        idle = overrides.get("idle_decoders") or config.lookup(params, "idle_decoders")
        if idle not in IDLE_DECODERS:
            raise config.ConfigError(f"idle_decoders must be one of {IDLE_DECODERS}, got {idle!r}")
        values["idle_decoders"] = idle
    values["upper_batch"] = None
    if "upper_batch" in read:
        values["upper_batch"] = config.lookup(params, "upper_batch")
        if values["upper_batch"] not in UPPER_BATCH:
            raise config.ConfigError(
                f"upper_batch must be one of {UPPER_BATCH}, got {values['upper_batch']!r}"
            )
    values["loss_convention"] = None
    if "loss_convention" in read:
        conv = overrides.get("loss_convention") or config.lookup(params, "loss_convention")
        if conv not in LOSS_CONVENTIONS:
            raise config.ConfigError(
                f"loss_convention must be one of {LOSS_CONVENTIONS}, got {conv!r}"
            )
        values["loss_convention"] = conv
        if conv == "reference":  # the reference code's Eq. 3 options and Eq. 4 rows
            values["kd"] = REFERENCE_KD
            values["entropy_on"] = "all" if values["entropy_on"] is not None else None
    values["sections"] = {
        key: config.load_section(params, key, cls) for key, cls in method.sections
    }
    return HyperParams(**values)


def _steps(value: str) -> int:
    """An overridden ``steps``: a positive integer (``1500``)."""
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"steps must be a positive integer, got {value!r}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class _Number:
    value: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class Run:
    """One resolved training run: what ``train.fit`` needs, and where its outputs go.

    Attributes:
        method: the method's identifier (``recipe`` is its registered ``Method``).
        name: the run directory's name (``stage_run_name``), e.g. ``kl_ent-lkd10``.
        ratio: partially / fully labelled patients of the setting.
        overrides: the command line's ``--set`` values, verbatim.
        pseudo_from: the run (same setting and seed) whose pseudo-masks a proposals run uses.
        hp, tp: the resolved hyper-parameters and training settings.
        train_key: the dotted params key ``tp`` was read from (the preset's section).
        preprocess: how the images were preprocessed (``mixseg segment`` repeats it).
    """

    dataset: str
    method: str
    name: str
    setting: str
    seed: int
    ratio: int
    overrides: dict[str, str]
    pseudo_from: str | None
    hp: HyperParams
    tp: config.TrainParams
    train_key: str
    preprocess: config.PreprocessParams

    @property
    def recipe(self) -> Method:
        """The registered method this run trains (``methods.get_method``)."""
        return get_method(self.method)

    @property
    def out_dir(self) -> Path:
        return paths.run_dir(self.dataset, self.setting, self.name, self.seed)

    @property
    def scratch_dir(self) -> Path:
        return paths.scratch_dir(self.dataset, self.setting, self.name, self.seed)

    @property
    def eval_dir(self) -> Path:
        return paths.eval_dir(self.dataset, self.setting, self.name, self.seed)

    @property
    def results_dir(self) -> Path:
        """Git-tracked results (``paths.results_dir``): evaluation, train.json, live/."""
        return paths.results_dir(self.dataset, self.setting, self.name, self.seed)

    @property
    def live_dir(self) -> Path:
        return paths.live_dir(self.dataset, self.setting, self.name, self.seed)

    @property
    def pseudo_model(self) -> Path | None:
        """``model.pt`` of the ``pseudo_from`` run, if any."""
        if self.pseudo_from is None:
            return None
        return paths.run_dir(self.dataset, self.setting, self.pseudo_from, self.seed) / "model.pt"

    def config(self) -> dict[str, Any]:
        """The resolved configuration saved with the weights; its hash decides whether a
        scratch checkpoint may be resumed. Plain JSON-able data."""
        import torch  # here: naming runs (the DVC generator) needs no torch

        return {
            "dataset": self.dataset,
            # The strings as given (not the registry's): pickle shares equal objects, so this
            # keeps model.pt byte-identical to the files written before this function existed.
            "method": self.method,
            "run": self.name,
            "setting": self.setting,
            "seed": self.seed,
            "ratio": self.ratio,
            "overrides": self.overrides,
            "pseudo_from": self.pseudo_from,
            "hyper": _hyper_config(self.hp),
            "train": _train_config(self.tp),
            "train_key": self.train_key,
            "preprocess": dataclasses.asdict(self.preprocess),
            "versions": {"mixseg": __version__, "torch": str(torch.__version__)},
        }


def _hyper_config(hp: HyperParams) -> dict[str, Any]:
    """``hp`` as the resolved configuration records it: without ``upper_batch`` where the method
    does not read it (None: every method but the Upper bound), so that the configuration hash and
    ``model.pt`` of those runs stay as they were before the key existed."""
    hyper = dataclasses.asdict(hp)
    if hyper["upper_batch"] is None:
        del hyper["upper_batch"]
    return hyper


def _train_config(tp: config.TrainParams) -> dict[str, Any]:
    """``tp`` as the resolved configuration records it: without ``select_head`` at its default
    ``evaluated`` (the behaviour from before the key existed), so that the configuration hash
    and ``model.pt`` of every run that does not ask for ``each`` stay byte-identical."""
    train = dataclasses.asdict(tp)
    if train["select_head"] == "evaluated":
        del train["select_head"]
    return train


def resolve_run(
    params: dict[str, Any],
    *,
    dataset: str,
    method: str,
    setting: str,
    seed: int,
    overrides: dict[str, str] | None = None,
    pseudo_from: str | None = None,
) -> Run:
    """The run of a train stage's command line, resolved against ``params``.

    The training settings and preprocessing come from the selected preset's sections of
    ``dataset`` (an overridden ``steps`` replaces the preset's, with ``epochs`` None); the
    hyper-parameters from ``resolve_hyper``; the ratio from ``overrides`` or,
    by default, the one ``preprocess`` prepared (``splits.json``, so the data must exist).

    Raises:
        ValueError: unknown method, or ``pseudo_from`` given to a method other than proposals
            (or missing for it), a bad ``steps`` or an override the method cannot use
            (``check_overrides``); ``config.ConfigError``: a bad or missing params key.
    """
    overrides = dict(overrides or {})
    m = get_method(method)  # fails early on an unknown name
    train_key = config.preset_key(params, dataset, "train")
    pre_key = config.preset_key(params, dataset, "preprocess")
    if "ratio" in overrides:
        ratio = int(overrides["ratio"])
    else:
        from mixseg.data.datasets import read_splits  # reads data/processed/<dataset>

        ratio = int(read_splits(dataset)["default_ratio"])
    train = config.lookup(params, train_key)
    if "select_head" in overrides:  # validated as params.yaml's own value would be
        train = {**train, "select_head": overrides["select_head"]}
    tp = config.build(config.TrainParams, train, train_key)
    if "steps" in overrides:
        tp = dataclasses.replace(tp, steps=_steps(overrides["steps"]), epochs=None)
    return Run(
        dataset=dataset,
        method=method,
        name=stage_run_name(method, overrides, pseudo_from),
        setting=setting,
        seed=seed,
        ratio=ratio,
        overrides=overrides,
        pseudo_from=pseudo_from,
        hp=resolve_hyper(params, m, overrides),
        tp=tp,
        train_key=train_key,
        preprocess=config.load_section(params, pre_key, config.PreprocessParams),
    )
