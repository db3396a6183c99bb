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
from mixseg.methods.base import HyperParams, KDParams, parse_divergence

# Overridable keys and their short tag in run names (kl_ent-lkd10, single-lw0.1, kl_ent-r3).
TAGS = {"lambda_w": "lw", "lambda_kd": "lkd", "lambda_ent": "lent", "divergence": "", "ratio": "r"}


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


def inherited_keys(method: Method, overrides: dict[str, str]) -> frozenset[str]:
    """Top-level keys of params.yaml that a run reads: what its method reads, minus overrides."""
    return method.reads - set(overrides)


def resolve_hyper(params: dict[str, Any], method: Method, overrides: dict[str, str]) -> HyperParams:
    """Eq. 5 values of a run. Values the method does not read are ``None``, so an objective that
    reads an undeclared value fails instead of silently depending on it."""
    values: dict[str, Any] = {}
    for key in ("lambda_w", "lambda_kd", "lambda_ent"):
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
    values["kd"] = (
        config.load_section(params, "kd", KDParams) if "kd" in method.reads else None
    )
    values["entropy_on"] = (
        config.lookup(params, "entropy_on") if "entropy_on" in method.reads else None
    )
    if values["entropy_on"] not in (None, "partial", "all"):
        raise config.ConfigError(f"entropy_on must be partial or all, got {values['entropy_on']!r}")
    return HyperParams(**values)


@dataclasses.dataclass(frozen=True)
class _Number:
    value: float
