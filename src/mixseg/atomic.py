"""Outputs are never half-written (Kervadec's rule): a file or directory is written under a
temporary name in its destination's folder, then renamed over the destination with ``os.replace``
(atomic within one file system); on any error the temporary is removed and the destination is left
as it was. A stage killed mid-write therefore never leaves a truncated output for DVC or a resumed
run to trust.

Temporary names: ``.<name>.tmp-<pid><suffix>`` for a file (hidden; the pid keeps two processes
apart; ``suffix`` repeats the extension for writers that pick the format from it, e.g. nibabel's
``.nii.gz``) and ``<name>.tmp-<pid>`` for a directory. Keep them: ``torch.save`` names the records
inside its zip after the file name up to its last dot (``.model.pt/data.pkl``), so another
temporary name would change the bytes of every saved model.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def replacing(path: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path to write; it replaces ``path`` when the block ends without error.

    Example::

        with replacing(out / "mask.nii.gz", suffix=".nii.gz") as tmp:
            nib.save(image, tmp)

    The parent folder is created. On an error the temporary file is removed and the error
    propagates; ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # nothing left after a successful replace


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (``indent=1``, a final newline) to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=1) + "\n")


def torch_save(obj: Any, path: Path) -> None:
    """``torch.save(obj, path)`` atomically."""
    import torch  # here: the data stages use this module without torch

    with replacing(path) as tmp:
        torch.save(obj, tmp)


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Compressed ``.npz`` of ``arrays``, atomically, with reproducible bytes.

    ``np.savez_compressed`` stamps the current time into every zip member, so the same arrays
    give different bytes and DVC would see a changed output on every run. Members here carry a
    fixed timestamp instead.
    """
    with (
        replacing(path) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
    ):
        for name, value in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(value), allow_pickle=False)


@contextlib.contextmanager
def directory(out_dir: Path) -> Iterator[Path]:
    """A fresh, empty temporary directory to fill; it replaces ``out_dir`` (whole) when the
    block ends without error, and is removed on an error (``out_dir`` untouched). A stale
    temporary of the same process (an earlier crash) is cleared first."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
