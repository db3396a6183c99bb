"""The error raised for bad input data (it always names the offending file), and how a command
reports it: one line, no traceback.

A data problem is the user's to fix, so ``report_errors`` (the ``__main__`` of every data stage
script; ``mixseg`` uses ``one_line``) prints it as one line, ``<command>: error: <file>:
<problem>. To fix: <what to do>``, and exits with status 1. Anything else is a bug and keeps its
traceback. A ``DataError`` raised in a worker of a process pool (``staging.map_jobs``) reaches
the parent as itself (``__reduce__`` below), with the worker's traceback as its cause: only the
error itself is printed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

EXIT_EXPECTED = 1


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


def expected_errors() -> tuple[type[Exception], ...]:
    """The errors a user fixes (bad data, bad ``params.yaml``), reported without traceback."""
    from mixseg.config import ConfigError  # not at import: config pulls in yaml

    return (DataError, ConfigError)


def one_line(command: str, exc: BaseException, to_fix: str = "") -> str:
    """``<command>: error: <message>[. To fix: <to_fix>]`` with every whitespace run (the
    newlines of a library's message included) collapsed to one space."""
    text = f"{command}: error: {exc}"
    if to_fix:
        text = f"{text.rstrip('. ')}. To fix: {to_fix}"
    return " ".join(text.split())


def report_errors(main: Callable[[], object], to_fix: str) -> NoReturn:
    """Run a command's ``main()`` and exit: 0 on success; ``EXIT_EXPECTED`` after one line on
    stderr (``one_line``) for an expected error; any other exception propagates (traceback).

    Args:
        main: the command, reading its own arguments.
        to_fix: what the user should do, appended to the message (the stage knows, the
            reader that raised does not: e.g. "repair or replace the file, then dvc repro").
    """
    try:
        main()
    except expected_errors() as exc:
        print(one_line(Path(sys.argv[0]).stem, exc, to_fix), file=sys.stderr)
        raise SystemExit(EXIT_EXPECTED) from None
    raise SystemExit(0)
