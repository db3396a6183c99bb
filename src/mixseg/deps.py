"""The project code a Python file can run, read statically from its imports: the code
dependencies of a DVC stage.

Every ``import``/``from`` statement of a file counts, wherever it is (inside functions and
``if`` blocks too: a stage *can* run them), and is followed transitively through the project
package. Importing ``a.b.c`` executes ``a/__init__.py``, ``a/b/__init__.py`` and ``a/b/c.py``,
so all three are dependencies. Imports of other packages (torch, numpy, ...) are not followed:
``requirements.txt`` pins them.

A dynamic lookup (``importlib.import_module``) is invisible here on purpose: the method registry
(``mixseg.methods``) imports one method's module by name, and a stage adds that module as a root
of its own (``closure([script, method_module])``), so adding a method re-runs nothing else.
``dynamic_imports`` finds such lookups so a test can allow them in the registry only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "mixseg"
ROOT = Path(__file__).resolve().parents[2]  # the repository: stage deps are relative to it
SRC = ROOT / "src"


def module_file(module: str, src: Path = SRC) -> Path | None:
    """The file of the project module ``module`` (dotted), or None if it is not one."""
    base = src.joinpath(*module.split("."))
    for f in (base.with_suffix(".py"), base / "__init__.py"):
        if f.is_file():
            return f
    return None


def _executed(module: str, src: Path) -> list[Path]:
    """The files that ``import module`` executes: each package's __init__ on the way, then the
    module itself (nothing if it is not a project module)."""
    parts = module.split(".")
    files = [module_file(".".join(parts[: i + 1]), src) for i in range(len(parts))]
    return [f for f in files if f is not None]


def _package_of(file: Path, src: Path) -> list[str]:
    """The package a project file's relative imports start from, as a list of names."""
    # a/b/c.py and a/b/__init__.py both import relative to a.b
    return list(file.relative_to(src).parts[:-1])


def imported_modules(file: Path, src: Path = SRC) -> set[str]:
    """Every project module (dotted) that ``file`` imports, in any scope. ``from p import x``
    counts ``p`` and, when ``x`` is a submodule, ``p.x``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the file's own package
                pkg = _package_of(file, src)
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, *([base] if base else [])])
            found.add(base)
            found.update(
                f"{base}.{a.name}" for a in node.names if module_file(f"{base}.{a.name}", src)
            )
    return {m for m in found if m.split(".")[0] == PACKAGE}


def closure(files: Iterable[Path], src: Path = SRC) -> set[Path]:
    """``files`` and every project file they can import, directly or not."""
    todo, seen = list(files), set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        for module in imported_modules(f, src):
            todo.extend(_executed(module, src))
    return seen


def stage_code(script: str, modules: Iterable[str] = (), root: Path = ROOT) -> list[str]:
    """The code deps of a stage running ``script`` (a path relative to ``root``) that also
    looks up ``modules`` by name (a method's module): sorted paths relative to ``root``."""
    src = root / "src"
    roots = [root / script] + [_executed(m, src)[-1] for m in modules]
    return sorted(str(f.relative_to(root)) for f in closure(roots, src))


def dynamic_imports(file: Path) -> list[int]:
    """Lines of ``file`` that import by name at run time (``importlib.import_module``,
    ``__import__``): imports ``closure`` cannot see."""
    lines = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            if name in ("import_module", "__import__"):
                lines.append(node.lineno)
    return lines
