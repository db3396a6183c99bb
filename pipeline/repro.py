"""`make repro`: `dvc repro` of the whole project, with independent stage groups run side by side.

DVC runs one stage at a time, and at the cpu preset a stage is a small network on a small batch:
two torch threads make it only ~1.2x faster than one, and a third of a stage is single-threaded
start-up (interpreter, imports, DVC bookkeeping). Two `dvc repro` processes of one thread each
use the two cores far better. DVC supports this: it releases the project lock while a stage's
command runs and guards the stage's deps and outs with per-path locks
(https://dvc.org/doc/command-reference/repro#parallel-stage-execution); `--wait-for-lock` makes
a process wait for the short bookkeeping lock instead of failing.

``PLAN`` cuts the stages into items (lists of `dvc repro` targets), each to be run after the
items it names. ``--jobs`` workers take items as they free up: each the first item of the list
whose prerequisites are done, so the long items start first and the short ones fill the gaps
(fixed pairs of pipelines, run side by side, left one core idle for ~10 min). An item needs nothing
from an item it does not (transitively) come after, and no stage is in two items
(``tests/unit/test_repro_plan.py`` checks both on the DVC graph). Each process runs its item's
stages only (``dvc repro -s``, in file order, which the generator writes upstream first; the
test checks that too): without ``-s`` each would also check the stages upstream, and DVC takes
write locks on a checked stage's outs even when it skips it, which fails against the read lock
the other process's running stage holds on them
(https://github.com/iterative/dvc/issues/5795). After a failure no new item starts. A final
plain `dvc repro`, with all the threads, runs whatever is left (the report stages) and, if
anything were missed, would run it too. With ``--jobs 1`` this is exactly `dvc repro`.

Threads: each process gets its share of the cores (``OMP_NUM_THREADS``); the cpu and tiny
presets pin ``train.threads: 1`` anyway: floating-point sums split among threads round
differently for each thread count, and training amplifies that to differences as large as the
seed-to-seed spread. Pinned, a stage gives the same numbers whether `make repro`, a plain
`dvc repro` or `dvc exp run` runs it.

Usage: python pipeline/repro.py [--jobs N] [--dry]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mixseg import config, experiments

ROOT = Path(__file__).resolve().parents[1]
GROUPS_DIR = "pipeline/groups"


@dataclass(frozen=True)
class Item:
    name: str
    targets: tuple[str, ...]  # `dvc repro -s` targets: stage names, files, file:group
    after: tuple[str, ...] = ("data",)  # items that must be done first


def _file(name: str) -> str:
    return f"{GROUPS_DIR}/{name}/dvc.yaml"


def _runs(g: experiments.Group, params: dict) -> int:
    """How many runs a group trains (its matrix size)."""
    return len(g.runs(params))


def make_plan(params: dict) -> list[Item]:
    """The items, from the experiment catalog: one per stage group (a DVC matrix), but the
    Table 1 rows of the baselines and of ours, whose Lower-bound and KL models the proposals
    need, and the studies' convergence runs per dataset and ablation, each one item.

    In the order workers take them (when ready), longest first so that the short ones fill the
    gaps at the end: the LA convergence runs (~10x the preset's steps), the Table 1 rows, the LA
    rows (dual-branch first), the proposals as soon as their models exist, the studies, the
    semi-supervised baselines, every sweep, most runs first, then the evaluation-only stages
    (``Group.evaluates``: the studies' ``decoupled-sheach``, Table 1's Decoupled runs under
    ``select_head: each``). Small items pack two cores
    better than whole files: the last full re-run, with one item per file, left one core idle
    for its last ~8 minutes while the `ours` file (53 min) finished.
    """
    # A group with an empty matrix (e.g. ``runs.sweeps.b_settings: []``) has no stage to name.
    groups = [g for g in experiments.groups(params) if _runs(g, params)]

    def targets(gs: list[experiments.Group]) -> tuple[str, ...]:
        return tuple(f"{_file(g.file)}:{g.stage}" for g in gs)

    def of(file: str) -> list[experiments.Group]:
        return [g for g in groups if g.file == file]

    compare, studies = of("train-compare"), of("train-studies")
    evaluations = [g for g in groups if g.evaluates is not None]
    studies = [g for g in studies if g.evaluates is None]
    convergence = {
        ds: [g for g in studies if "steps" in g.sweep and g.dataset == ds] for ds in ("acdc", "la")
    }
    ablation = [g for g in studies if "steps" not in g.sweep]
    rows = {f: [g for g in of(f) if not g.sweep] for f in ("train-baselines", "train-ours")}
    sweeps = [g for f in ("train-baselines", "train-ours") for g in of(f) if g.sweep]
    sweeps += [g for g in compare if g.sweep]
    la = sorted(of("train-la"), key=lambda g: g.method not in ("kl_ent", "kl", "decoupled"))
    return [
        Item("data", ("download", "preprocess", "erode-labels"), ()),
        Item("convergence-la", targets(convergence["la"])),
        Item("ours", targets(rows["train-ours"])),
        Item("baselines", targets(rows["train-baselines"])),
        *(Item(g.stage, targets([g])) for g in la),
        # Table 2 retrains on the pseudo-masks of the Lower bound (baselines) and KL (ours).
        Item(
            "proposals",
            targets([g for g in compare if g.pseudo_from]),
            ("baselines", "ours"),
        ),
        Item("convergence-acdc", targets(convergence["acdc"])),
        # The mixed-batch ablation: independent runs at the preset's steps.
        Item("ablation", targets(ablation)),
        Item("semi-supervised", targets([g for g in compare if not (g.sweep or g.pseudo_from)])),
        *(Item(g.stage, targets([g])) for g in sorted(sweeps, key=lambda g: -_runs(g, params))),
        # Evaluation only (seconds per run), of Table 1's Decoupled runs (baselines): last, to
        # fill a gap at the end.
        *([Item("evaluations", targets(evaluations), ("baselines",))] if evaluations else []),
    ]


PLAN = make_plan(config.read_params(ROOT / "params.yaml"))


def _dvc(targets: Sequence[str], single: bool = False) -> list[str]:
    """`dvc repro` of ``targets``; ``single``: their stages only, in file order (``-s``)."""
    return [sys.executable, "-m", "dvc", "--wait-for-lock", "repro", *(["-s"] * single), *targets]


def _run_plan(items: Sequence[Item], jobs: int, run: Callable[[Item], int]) -> None:
    """Run every item with ``run`` (its exit code), ``jobs`` at a time, each once all its
    ``after`` items succeeded: a free worker takes the first ready item in list order. After a
    failure no new item starts; raise once the running ones are done."""
    names = {it.name for it in items}
    unknown = {a for it in items for a in it.after} - names
    if unknown:
        raise ValueError(f"items come after unknown items: {sorted(unknown)}")
    pending, done, failed = list(items), set(), []
    running = 0
    cond = threading.Condition()

    def worker() -> None:
        nonlocal running
        while True:
            with cond:
                while True:
                    if failed or not pending:
                        return
                    item = next((it for it in pending if set(it.after) <= done), None)
                    if item is not None:
                        pending.remove(item)
                        running += 1
                        break
                    if not running:  # nothing will ever make an item ready
                        return
                    cond.wait()
            code = run(item)
            with cond:
                running -= 1
                if code == 0:
                    done.add(item.name)
                else:
                    failed.append(item.name)
                cond.notify_all()

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise SystemExit(f"[repro] dvc repro failed for: {failed}")
    if pending:  # only if an item waits for itself, directly or not
        raise SystemExit(f"[repro] never ready: {[it.name for it in pending]}")


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
        for it in PLAN:
            after = f" (after {', '.join(it.after)})" if it.after else ""
            print(f"{it.name}{after}: dvc repro -s {' '.join(it.targets)}")
        print("then: dvc repro")
        return
    start = time.monotonic()

    def run(item: Item) -> int:
        print(f"[repro] {time.monotonic() - start:.0f} s: start {item.name}", flush=True)
        code = subprocess.run(_dvc(item.targets, single=True), env=env).returncode
        print(f"[repro] {time.monotonic() - start:.0f} s: {item.name} done", flush=True)
        return code

    if args.jobs > 1:
        _run_plan(PLAN, args.jobs, run)
    # The report stages alone: all the cores (Table 8 times inference).
    result = subprocess.run(_dvc([]))
    if result.returncode != 0:
        raise SystemExit(result.returncode)
    print(f"[repro] done in {time.monotonic() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
