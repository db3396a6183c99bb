"""Registry of training methods: an explicit dict, no discovery, no import side effects."""

from mixseg.methods.base import Method
from mixseg.methods.dual import DECOUPLED, KL, KL_ENT
from mixseg.methods.full import LOWER, UPPER
from mixseg.methods.glmi import GLMI
from mixseg.methods.proposals import PROPOSALS
from mixseg.methods.single import SINGLE, SINGLE_ENT
from mixseg.methods.ssco import SSCO
from mixseg.methods.uamt import UAMT

METHODS: dict[str, Method] = {
    m.name: m
    for m in (LOWER, UPPER, SINGLE, SINGLE_ENT, DECOUPLED, KL, KL_ENT, PROPOSALS, UAMT, GLMI, SSCO)
}


def get_method(name: str) -> Method:
    """The registered method ``name``.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; known: {sorted(METHODS)}") from None
