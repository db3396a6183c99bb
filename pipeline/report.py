"""`make report`: every table, figure and reports/README.md from the committed results alone.

Runs the report stages' scripts (pipeline/figures.py, then pipeline/tables.py) on what git
holds: results/ (each run's evaluation, training history and qualitative slices), params.yaml,
reports/diagnoses.yaml (the hand-written diagnoses of failing claims) and Table 8
(reports/tables/table8.*, a timing measurement of the stage `complexity`, which this does not
repeat). No training, no DVC cache, no DVC bookkeeping: a few seconds.

With no run results in results/ (the report was made by runs whose results are DVC-cached
only, before results/ existed), regenerating would replace every number by "not run": then it
says so and writes nothing.

--check (CI): afterwards, fail listing the files under reports/ that differ from git's HEAD
(PNGs compare byte for byte too: the same pinned matplotlib, Agg backend and default rc
parameters draw the same bytes from the same inputs).

Usage: python pipeline/report.py [--check]
"""

import argparse
import logging
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS, REPORTS = ROOT / "results", ROOT / "reports"
SCRIPTS = ("pipeline/figures.py", "pipeline/tables.py")  # figures.json feeds the tables stage


def run_results() -> list[Path]:
    """The evaluation summaries under results/ (one per evaluated run)."""
    return sorted(RESULTS.glob("*/*/*/seed*/eval/metrics.json"))


def changed_reports() -> list[str]:
    """Files under reports/ that differ from HEAD (modified, deleted or new)."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "reports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line[3:] for line in out.splitlines()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if reports/ changed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    log = logging.getLogger("report")
    found = run_results()
    if not found:
        log.info(
            "make report: SKIPPED, no run results are committed yet (results/ holds no "
            "*/eval/metrics.json). The committed reports/ were made by runs whose results are "
            "DVC-cached only; the next full `make repro` commits them to results/, and from "
            "then on this regenerates, and CI checks, the whole report."
        )
        return 0
    log.info("make report: %d evaluated runs in results/", len(found))
    for script in SCRIPTS:
        subprocess.run([sys.executable, script], cwd=ROOT, check=True)
    if not args.check:
        return 0
    changed = changed_reports()
    if changed:
        log.error("make report does not reproduce the committed reports/; these files differ:")
        log.error("\n".join(f"  {f}" for f in changed))
        return 1
    log.info("make report reproduces the committed reports/ byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
