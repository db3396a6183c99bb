"""Report I/O: atomic text files (``mixseg.atomic``), long-format CSV, and the validation curves
that train.py leaves in a run's dvclive directory."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from mixseg.atomic import write_text  # noqa: F401  (the report's one text writer)


def to_csv(rows: list[dict]) -> str:
    """CSV text of dict rows; the header is the union of their keys, in first-seen order."""
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_curve(plots_dir: Path, head: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Validation DSC of one head against the training step, from the run's dvclive TSV.

    dvclive writes ``<plots_dir>/val/dsc_<head>.tsv`` (``paths.live_plots_dir``) with the
    columns ``step`` and ``dsc_<head>`` (train.py logs ``val/dsc_<head>``). Returns None if the
    file is absent.
    """
    f = plots_dir / "val" / f"dsc_{head}.tsv"
    if not f.exists():
        return None
    with f.open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    steps = np.array([float(r["step"]) for r in rows])
    values = np.array([float(r[f"dsc_{head}"]) for r in rows])
    return steps, 100.0 * values
