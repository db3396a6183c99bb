"""How the data stages build their outputs: never half-written, optionally in parallel.

- ``build_dir``: a directory is filled under a temporary sibling name and renamed into place
  only when complete; on any error the temporary directory is removed and nothing changes.
- ``map_jobs``: ``fn`` over ``jobs`` in order, in a process pool when ``workers > 1`` (the
  result never depends on ``workers``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def build_dir(out_dir: Path, fill: Callable[[Path], R]) -> R:
    """Run ``fill(tmp)`` on a fresh temporary sibling of ``out_dir``, then replace ``out_dir``
    with it. Returns what ``fill`` returns."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        result = fill(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return result


def map_jobs(fn: Callable[[T], R], jobs: Iterable[T], workers: int = 1) -> list[R]:
    """``[fn(j) for j in jobs]``, computed by ``workers`` processes when ``workers > 1``."""
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, jobs))
    return [fn(j) for j in jobs]
