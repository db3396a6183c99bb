"""A tiny copy of the project for end-to-end tests: the repository's files (not its data,
results or lock files) with ``tests/fixtures/params.tiny.yaml`` applied to ``params.yaml``, in a
git repository of its own; and ``run``, a command in it as `make` would run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from mixseg.report import outputs

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "params.tiny.yaml"
TIMEOUT = 1800  # seconds a command may take (the whole tiny pipeline takes ~4 min)


def apply_fixture(params: dict[str, Any], fixture: Path = FIXTURE) -> dict[str, Any]:
    """``params`` with each dotted key of ``fixture`` set (in place, and returned).

    Raises:
        KeyError: a key that params.yaml does not have (a typo would otherwise test nothing),
            unless it is a new preset (``presets.<name>``).
    """
    for dotted, value in yaml.safe_load(fixture.read_text()).items():
        *parents, leaf = dotted.split(".")
        node = params
        for p in parents:
            node = node[p]
        if leaf not in node and parents != ["presets"]:
            raise KeyError(f"{fixture.name}: {dotted} is not a key of params.yaml")
        node[leaf] = value
    return params


def env() -> dict[str, str]:
    """The environment commands of a tiny project run in: this interpreter's venv first on PATH
    (as `make` does), no analytics or Studio, and a git identity for DVC's commits."""
    env = dict(os.environ, DVC_NO_ANALYTICS="1", DVC_STUDIO_OFFLINE="1")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@t",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@t",
    )
    return env


def call(args: list[str], cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``args`` in ``cwd`` (in :func:`env`, stdin closed, output captured as text), whatever
    its exit status (the caller judges it). Fails the test, with the output's tail, after
    ``timeout`` seconds (the command is killed: a hung command must fail the suite, not stall
    it)."""
    try:
        return subprocess.run(
            args,
            cwd=cwd,
            env=env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        out = b"\n".join(x[-3000:] for x in (e.stdout, e.stderr) if x).decode(errors="replace")
        raise AssertionError(f"{args} still running after {timeout:.0f} s (killed):\n{out}") from e


def run(args: list[str], cwd: Path, returncode: int = 0, timeout: float = TIMEOUT) -> str:
    """:func:`call`, then its stdout; fails the test, with the output's tail, on an exit status
    other than ``returncode``."""
    proc = call(args, cwd, timeout)
    assert proc.returncode == returncode, (
        f"{args} exited with {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


def commit(repo: Path, message: str) -> None:
    """``git add -A`` and commit (an empty commit if nothing changed)."""
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "--allow-empty", "-m", message], repo)


def clone(repo: Path, dst: Path) -> Path:
    """A fresh git clone of ``repo`` at ``dst``: what git holds, no data/ and no DVC cache."""
    run(["git", "clone", "-q", str(repo), str(dst)], repo.parent)
    return dst


def make(dst: Path) -> Path:
    """Copy the project into ``dst`` (an empty folder), tiny, committed to a new git repository."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in files:
        # Results and lock files of the real pipeline stay behind: the tiny run starts afresh
        # (the hand-written diagnoses come along: the stage tables reads them).
        keep = f == str(outputs.DIAGNOSES)
        if not keep and (
            f.startswith(("data/", "results/", "reports/", "docs/")) or f.endswith("dvc.lock")
        ):
            continue
        if (ROOT / f).is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dst / f)
    params = apply_fixture(yaml.safe_load((dst / "params.yaml").read_text()))
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], dst)
    run(["git", "add", "-A"], dst)
    run(["git", "commit", "-qm", "tiny"], dst)
    return dst
