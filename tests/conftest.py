"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_acdc_patient


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: one torch thread is faster and immune to the other processes' load. Use
    with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def acdc_root(tmp_path: Path) -> Path:
    """Ten tiny patients in two groups."""
    root = tmp_path / "acdc"
    for pid in range(1, 11):
        write_acdc_patient(root, pid, group="DCM" if pid <= 5 else "NOR")
    return root
