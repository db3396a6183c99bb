"""A training run = a method, a setting, a seed and explicit overrides of Eq. 5's
hyper-parameters. Everything not overridden is inherited from the top-level keys of
``params.yaml`` (the paper's names), and a run's DVC stage must declare exactly the keys it
inherits (``inherited_keys``): then ``dvc exp run -S lambda_kd=10`` re-runs exactly the runs
that use the default λkd. ``tests/unit/test_dvc_yaml.py`` checks every stage against this.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mixseg import config
from mixseg.methods import Method
from mixseg.methods.base import WEIGHT_KEYS, HyperParams, KDParams, parse_divergence

# Overridable keys and their short tag in run names (kl_ent-lkd10, single-lw0.1, kl_ent-r3,
# uamt-lc1, glmi-lgmi2-llmi0.05, ssco-lsp1-lsc8).
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
}


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


def inherited_keys(method: Method, overrides: dict[str, str]) -> frozenset[str]:
    """Top-level keys of params.yaml that a run reads: what its method reads, minus overrides."""
    return method.reads - set(overrides)


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
    values["sections"] = {
        key: config.load_section(params, key, cls) for key, cls in method.sections
    }
    return HyperParams(**values)


@dataclasses.dataclass(frozen=True)
class _Number:
    value: float
