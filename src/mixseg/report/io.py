"""Writing report artefacts: atomic text files (``mixseg.atomic``) and long-format CSV."""

from __future__ import annotations

import csv
import io

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
