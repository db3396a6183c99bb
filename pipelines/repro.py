"""`make repro`: `dvc repro` of the whole project, with independent stage groups run side by side.

DVC runs one stage at a time, and at the cpu preset a stage is a small network on a small batch:
two torch threads make it only ~1.2x faster than one, and a third of a stage is single-threaded
start-up (interpreter, imports, DVC bookkeeping). Two `dvc repro <pipeline>` processes of one
thread each use the two cores far better. DVC supports this: it releases the project lock while a
stage's command runs and guards the stage's deps and outs with per-path locks
(https://dvc.org/doc/command-reference/repro#parallel-stage-execution); `--wait-for-lock` makes
a process wait for the short bookkeeping lock instead of failing.

The groups below never share a stage: within a phase no pipeline depends on a stage of another
pipeline of the same phase (``tests/unit/test_repro_plan.py`` checks it on the DVC graph). Each
process runs its pipeline's stages only (``dvc repro -s``, in file order, which the generator
writes upstream first; the test checks that too): without ``-s`` each would also check the
data stages upstream, and DVC takes write locks on a checked stage's outs even when it skips it,
which fails against the read lock the other process's running stage holds on them. Each
phase starts when the previous one is done; a final plain `dvc repro`, with all the threads, runs
whatever is left (the report stages) and, if anything were missed, would run it too. With
``--jobs 1`` this is exactly `dvc repro`.

Threads: each process gets its share of the cores (``OMP_NUM_THREADS``); the cpu and tiny
presets pin ``train.threads: 1`` anyway: floating-point sums split among threads round
differently for each thread count, and training amplifies that to differences as large as the
seed-to-seed spread. Pinned, a stage gives the same numbers whether `make repro`, a plain
`dvc repro` or `dvc exp run` runs it.

Usage: python pipelines/repro.py [--jobs N] [--dry]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

# Phases of pipelines that may run side by side. train-compare needs the Lower bound
# (train-baselines) and KL (train-ours) runs for its proposals, hence its later phase.
DATA = ["download", "preprocess", "erode-labels"]
PHASES = [
    [DATA],
    [["pipelines/train-baselines/dvc.yaml"], ["pipelines/train-ours/dvc.yaml"]],
    [["pipelines/train-compare/dvc.yaml"], ["pipelines/train-la/dvc.yaml"]],
]


def _dvc(targets: list[str], single: bool = False) -> list[str]:
    """`dvc repro` of ``targets``; ``single``: their stages only, in file order (``-s``)."""
    return [sys.executable, "-m", "dvc", "--wait-for-lock", "repro", *(["-s"] * single), *targets]


def _run_phase(groups: list[list[str]], jobs: int, env: dict[str, str]) -> None:
    """Run each group's `dvc repro`, ``jobs`` at a time; raise if any fails."""

    def run(targets: list[str]) -> int:
        print(f"[repro] start: dvc repro {' '.join(targets)}", flush=True)
        return subprocess.run(_dvc(targets, single=True), env=env).returncode

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        codes = list(pool.map(run, groups))
    failed = [targets for targets, code in zip(groups, codes, strict=True) if code != 0]
    if failed:
        raise SystemExit(f"[repro] dvc repro failed for: {failed}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parser.add_argument(
        "--jobs", type=int, default=min(2, cores or 1), help="dvc repro processes side by side"
    )
    parser.add_argument("--dry", action="store_true", help="print the plan, run nothing")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    env = dict(os.environ)
    if args.jobs > 1 and "OMP_NUM_THREADS" not in env:
        # Each process one share of the cores: more threads than cores only fight.
        env["OMP_NUM_THREADS"] = str(max(1, (cores or 1) // args.jobs))
    if args.dry:
        for i, groups in enumerate(PHASES, 1):
            print(f"phase {i}: " + " | ".join(" ".join(g) for g in groups))
        print("then: dvc repro")
        return
    start = time.monotonic()
    if args.jobs > 1:
        for groups in PHASES:
            _run_phase(groups, args.jobs, env)
            print(f"[repro] phase done at {time.monotonic() - start:.0f} s", flush=True)
    # The report stages alone: all the cores (Table 8 times inference).
    result = subprocess.run(_dvc([]))
    if result.returncode != 0:
        raise SystemExit(result.returncode)
    print(f"[repro] done in {time.monotonic() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
