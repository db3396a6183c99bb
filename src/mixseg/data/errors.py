"""The error raised for bad input data: it always names the offending file."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Bad input data. ``str(err)`` is ``"<path>: <problem>"``."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self):
        # Exceptions cross process boundaries (ProcessPoolExecutor) by pickling; rebuild from
        # (path, problem), not from the formatted message.
        return (type(self), (self.path, self.problem))
