"""Registry of training methods: an explicit table of name -> (module, attribute), no discovery.

A method's module is imported when the method is looked up, not when this package is: a stage
imports its own method's module only, so its DVC deps (``mixseg.deps``, read statically) name
that file alone and adding or editing a method re-runs no other stage.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from mixseg.methods.base import Method

# A new method: its file, and one line here.
REGISTRY: dict[str, tuple[str, str]] = {
    "lower": ("mixseg.methods.full", "LOWER"),
    "upper": ("mixseg.methods.full", "UPPER"),
    "single": ("mixseg.methods.single", "SINGLE"),
    "single_ent": ("mixseg.methods.single", "SINGLE_ENT"),
    "decoupled": ("mixseg.methods.dual", "DECOUPLED"),
    "kl": ("mixseg.methods.dual", "KL"),
    "kl_ent": ("mixseg.methods.dual", "KL_ENT"),
    "proposals": ("mixseg.methods.proposals", "PROPOSALS"),
    "uamt": ("mixseg.methods.uamt", "UAMT"),
    "glmi": ("mixseg.methods.glmi", "GLMI"),
    "ssco": ("mixseg.methods.ssco", "SSCO"),
}


def method_module(name: str) -> str:
    """The module (dotted) that defines method ``name``.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    try:
        return REGISTRY[name][0]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; known: {sorted(REGISTRY)}") from None


def get_method(name: str) -> Method:
    """The registered method ``name``, importing its module.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    method = getattr(importlib.import_module(method_module(name)), REGISTRY[name][1])
    assert method.name == name, (name, method.name)
    return method


class _Methods(Mapping[str, Method]):
    """name -> Method, each imported on first access (iterating gives the names only)."""

    def __getitem__(self, name: str) -> Method:
        if name not in REGISTRY:
            raise KeyError(name)
        return get_method(name)

    def __iter__(self) -> Iterator[str]:
        return iter(REGISTRY)

    def __len__(self) -> int:
        return len(REGISTRY)


METHODS: Mapping[str, Method] = _Methods()
