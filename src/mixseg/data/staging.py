"""How the data stages build their outputs: never half-written, optionally in parallel.

- ``build_dir``: a directory is filled under a temporary sibling name and renamed into place
  only when complete; on any error the temporary directory is removed and nothing changes.
- ``map_jobs``: ``fn`` over ``jobs`` in order, in a process pool when ``workers > 1`` (the
  result never depends on ``workers``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

from mixseg import atomic

T = TypeVar("T")
R = TypeVar("R")


def build_dir(out_dir: Path, fill: Callable[[Path], R]) -> R:
    """Run ``fill(tmp)`` on a fresh temporary sibling of ``out_dir``, then replace ``out_dir``
    with it. Returns what ``fill`` returns."""
    with atomic.directory(out_dir) as tmp:
        return fill(tmp)


def map_jobs(fn: Callable[[T], R], jobs: Iterable[T], workers: int = 1) -> list[R]:
    """``[fn(j) for j in jobs]``, computed by ``workers`` processes when ``workers > 1``."""
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, jobs))
    return [fn(j) for j in jobs]
