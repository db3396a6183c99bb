"""File names of the report (under ``paths.REPORTS``): one place, read by the stages and by
``tests/unit/report/test_stages.py``, which checks them against the outs in ``dvc.yaml``."""

from __future__ import annotations

from pathlib import Path

from mixseg import paths

TABLES_DIR = paths.REPORTS / "tables"
FIGURES_DIR = paths.REPORTS / "figures"
README = paths.REPORTS / "README.md"
METRICS = paths.REPORTS / "metrics.json"
FIGURES_MANIFEST = FIGURES_DIR / "figures.json"
# Written by hand, read by the stage `tables`: claim id -> why the claim fails (one sentence).
DIAGNOSES = paths.REPORTS / "diagnoses.yaml"
# Written by the stage `tables`, in report order (Table 8 comes from the stage `complexity`).
TABLE_NAMES = [
    "table1",
    "table2",
    "table3",
    "table4",
    "table5",
    "table6",
    "table7",
    "tableA1",
    "tableA2",
    "tableA3",
    "tableB4",
    "tableB5",
    "tableB6",
    "ablation",  # the studies behind the cpu preset (report/studies.py)
    "selection",
    "convergence",
]
COMPLEXITY_NAME = "table8"


def table_files() -> list[Path]:
    """Files the stage ``tables`` writes besides ``README`` and ``METRICS``."""
    return [TABLES_DIR / f"{n}.{ext}" for n in TABLE_NAMES for ext in ("md", "csv")]


def complexity_files() -> list[Path]:
    """(markdown, csv) of Table 8, written by the stage ``complexity``."""
    return [TABLES_DIR / f"{COMPLEXITY_NAME}.{ext}" for ext in ("md", "csv")]
