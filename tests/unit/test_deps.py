"""mixseg.deps on a hand-made package: what a file can import, read statically."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixseg.deps import closure, dynamic_imports, imported_modules, stage_code


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = {
        "run.py": "import numpy\nimport mixseg.a.b\n",
        "src/mixseg/__init__.py": "",
        "src/mixseg/a/__init__.py": "",
        # relative imports, and one inside a function
        "src/mixseg/a/b.py": "from .d import x\nfrom .. import e\n\n\ndef f():\n"
        "    import mixseg.g\n",
        "src/mixseg/a/c.py": "",
        "src/mixseg/a/d.py": "x = 1\n",
        "src/mixseg/e.py": "from mixseg.a import c, name\n",
        "src/mixseg/g.py": "",
        "src/mixseg/unused.py": "",
        "src/mixseg/lazy.py": "import importlib\n\nm = importlib.import_module('mixseg.unused')\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_every_package_init_on_the_way_counts(root):
    src = root / "src"
    assert imported_modules(root / "run.py", src) == {"mixseg.a.b"}
    got = {str(f.relative_to(src)) for f in closure([root / "src/mixseg/a/__init__.py"], src)}
    assert got == {"mixseg/a/__init__.py"}


def test_relative_function_level_and_from_imports(root):
    src = root / "src"
    assert imported_modules(src / "mixseg/a/b.py", src) == {
        "mixseg.a.d",
        "mixseg",
        "mixseg.e",
        "mixseg.g",
    }
    # ``name`` is not a module: only the package; ``c`` is one.
    assert imported_modules(src / "mixseg/e.py", src) == {"mixseg.a", "mixseg.a.c"}


def test_stage_code_follows_imports_transitively(root):
    assert stage_code("run.py", root=root) == [
        "run.py",
        "src/mixseg/__init__.py",
        "src/mixseg/a/__init__.py",
        "src/mixseg/a/b.py",
        "src/mixseg/a/c.py",
        "src/mixseg/a/d.py",
        "src/mixseg/e.py",
        "src/mixseg/g.py",
    ]


def test_a_lookup_by_name_is_a_root_of_its_own(root):
    assert "src/mixseg/unused.py" not in stage_code("src/mixseg/lazy.py", root=root)
    assert "src/mixseg/unused.py" in stage_code("src/mixseg/lazy.py", ["mixseg.unused"], root)
    assert dynamic_imports(root / "src/mixseg/lazy.py") == [3]
    assert dynamic_imports(root / "src/mixseg/a/b.py") == []
