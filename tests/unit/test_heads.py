"""heads: one definition of the prediction heads, used by methods, inference and evaluation."""

from __future__ import annotations

import pytest

from mixseg import heads
from mixseg.methods import METHODS
from mixseg.methods.base import STUDENT, TEACHER, Method


def test_heads_of_outputs():
    assert heads.heads_of(1) == ("teacher",)
    assert heads.heads_of(2) == ("teacher", "student", "ensemble")
    assert (heads.inference_head(1), heads.inference_head(2)) == ("teacher", "student")
    with pytest.raises(ValueError):
        heads.heads_of(3)
    assert heads.OUTPUTS[heads.ENSEMBLE] == (TEACHER, STUDENT) == (0, 1)


def test_every_method_evaluates_the_heads_of_its_outputs():
    for method in METHODS.values():
        assert method.heads() == heads.heads_of(method.outputs()), method.name


def test_method_is_keyword_only():
    kl = METHODS["kl"]
    with pytest.raises(TypeError):
        Method(kl.name, kl.n_decoders, kl.full_pool, kl.other_rows, kl.reads, kl.objective)
    assert (METHODS["lower"].other_rows, kl.other_rows) == (None, "partial")
