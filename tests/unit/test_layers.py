"""The package's layers import downwards only: the data layer (``mixseg.data``) never imports the
training layer (methods, models, training loop), whose objectives consume its batches."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mixseg"
UPPER = ("mixseg.methods", "mixseg.models", "mixseg.train", "mixseg.report")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((SRC / "data").rglob("*.py")), ids=lambda p: p.name)
def test_data_layer_does_not_import_upwards(path):
    upward = {n for n in _imports(path) if n.startswith(UPPER)}
    assert not upward, f"{path.relative_to(SRC)} imports {sorted(upward)}"
