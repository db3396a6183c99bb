"""Run the benchmarks (``make bench``): one JSON file per group in ``--out`` and a markdown
summary ``README.md`` beside them.

    python benchmarks/run.py                 # every group, full repeats (tens of minutes)
    python benchmarks/run.py --quick         # few repeats, reduced sizes, DVC skipped
    python benchmarks/run.py --only metrics --only data --out /tmp/bench

Groups: train, infer, metrics, data, dvc, memory, profile, ttq (see each ``benchmarks/*.py``).
``--measured-repro-seconds``: the wall time of the last ``make repro``, which ttq reports beside
its projection of it.
The summary is rebuilt from every JSON file in ``--out``, so ``--only`` refreshes part of it.
Exit status 1 if a group failed (its JSON then holds the error; the others still run).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import common, report  # noqa: E402
from mixseg import atomic  # noqa: E402

GROUPS = {
    "train": "benchmarks.bench_train",
    "infer": "benchmarks.bench_infer",
    "metrics": "benchmarks.bench_metrics",
    "data": "benchmarks.bench_data",
    "dvc": "benchmarks.bench_dvc",
    "memory": "benchmarks.bench_memory",
    "profile": "benchmarks.profile_train",
    "ttq": "benchmarks.bench_ttq",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="few repeats and reduced sizes (seconds per group); skips DVC",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only this group (repeatable, or comma-separated): {', '.join(GROUPS)}",
    )
    parser.add_argument(
        "--out",
        default=str(ROOT / "reports" / "bench"),
        help="output folder (default: reports/bench)",
    )
    parser.add_argument(
        "--cwd",
        default=str(ROOT),
        help="project root in which the dvc group runs dvc (default: this repo)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads (default: torch's own choice)",
    )
    parser.add_argument(
        "--measured-repro-seconds",
        type=float,
        default=None,
        help="wall time of the last make repro (ttq: shown beside its 2-worker projection)",
    )
    args = parser.parse_args(argv)

    names = [n for item in args.only for n in item.split(",") if n] or list(GROUPS)
    unknown = sorted(set(names) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {unknown}; known: {list(GROUPS)}")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out)
    failed = []
    for name in names:
        print(f"[bench] {name} ({'quick' if args.quick else 'full'}) ...", flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(GROUPS[name])
            res = module.run(
                quick=args.quick,
                cwd=Path(args.cwd),
                measured_seconds=args.measured_repro_seconds,
            )
            results = res.pop("results")
            error = None
        except Exception as exc:  # recorded, and the run goes on with the next group
            traceback.print_exc()
            results, res, error = [], {}, f"{type(exc).__name__}: {exc}"
            failed.append(name)
        dt = time.perf_counter() - t0
        doc = common.document(name, args.quick, results, seconds=round(dt, 1), **res)
        if error:
            doc["error"] = error
        atomic.write_json(out / f"{name}.json", doc)
        for r in results:
            if "skipped" in r:
                print(f"  {r['name']}: skipped ({r['skipped']})")
            else:
                tgt = (
                    f"  [{r['target']}: {'ok' if r['meets_target'] else 'MISSED'}]"
                    if "target" in r
                    else ""
                )
                print(f"  {r['name']}: {r['median']:.4g} {r['unit']} (n={r['n']}){tgt}")
        print(f"[bench] {name}: {dt:.1f} s -> {out / (name + '.json')}", flush=True)
    readme = report.write_readme(out)
    print(f"[bench] summary: {readme}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
