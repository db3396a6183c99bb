"""The ``download`` stage's library: bring raw data into ``data/raw/<ds>`` from one of three
sources.

- ``synthetic`` (default): the offline generators write the real distribution format.
- ``url``: download with a progress bar, verify the SHA-256 given in ``params.yaml``, extract.
- ``local``: an archive (.zip, .tar, .tar.gz, .tgz) or a folder already on disk.

Extraction is safe: members with absolute paths, ``..`` components, links or device files are
refused (the whole archive is rejected, naming the member). Everything is assembled in a
temporary sibling directory and renamed into place at the end, so a failure leaves no
half-written ``data/raw/<ds>``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from mixseg import atomic
from mixseg.config import DataSource
from mixseg.data.errors import DataError
from mixseg.data.staging import build_dir

log = logging.getLogger(__name__)
CHUNK = 1 << 20
# First bytes of the formats ``extract`` opens (plain tar has "ustar" at byte 257 instead).
MAGIC = {b"PK\x03\x04": "zip", b"PK\x05\x06": "zip", b"\x1f\x8b": "gzip", b"BZh": "bzip2",
         b"\xfd7zXZ\x00": "xz"}  # fmt: skip


def sha256sum(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: Path, sha256: str | None, timeout: float = 30.0) -> None:
    """Download ``url`` to ``dest`` and verify its SHA-256.

    Raises:
        DataError: no checksum was configured, the machine is offline or the server refused, or
            the checksum does not match (the partial file is removed in every case).
    """
    if not sha256:
        raise DataError(
            dest,
            f"no sha256 configured for {url}: set data.<ds>.sha256 to the archive's checksum "
            "(the ACDC server publishes none; compute it once with `sha256sum`), or use "
            "source: local",
        )
    with atomic.replacing(dest) as part:  # removed on any error below
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(part, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
                    for block in iter(lambda: resp.read(CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DataError(
                url,
                f"download failed ({exc}). If this machine is offline, download the archive "
                "elsewhere and set `source: local` and `local: /path/to/archive` in params.yaml",
            ) from exc
        actual = sha256sum(part)
        if actual != sha256.lower():
            raise DataError(url, f"sha256 mismatch: expected {sha256}, got {actual}")


def _check_member(archive: Path, name: str) -> None:
    """Refuse absolute paths and ``..`` components (path traversal)."""
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise DataError(archive, f"unsafe member path {name!r} (absolute or with '..')")


def _looks_like(archive: Path) -> str | None:
    """The archive format ``archive``'s first bytes announce (zip, gzip, bzip2, xz, tar), if any:
    a file that starts like an archive but cannot be opened is truncated or corrupt, not "not
    an archive"."""
    with open(archive, "rb") as fh:
        head = fh.read(262)
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    return "tar" if head[257:262] == b"ustar" else None


def extract(archive: Path, dest: Path) -> None:
    """Safely extract a zip or tar archive into ``dest``.

    Raises:
        DataError: unknown, truncated or corrupt archive, or a member that is absolute,
            contains ``..``, is a (hard or symbolic) link or a device file.
    """
    archive = Path(archive)
    again = "download or copy it again"
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member(archive, info.filename)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise DataError(archive, f"member {info.filename!r} is a symbolic link")
                zf.extractall(dest)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                for m in tf.getmembers():
                    _check_member(archive, m.name)
                    if not (m.isfile() or m.isdir()):
                        raise DataError(archive, f"member {m.name!r} is a link or special file")
                tf.extractall(dest, filter="data")
        elif kind := _looks_like(archive):
            raise DataError(archive, f"truncated or corrupt {kind} archive: it starts like one "
                                     f"but cannot be opened; {again}")  # fmt: skip
        else:
            raise DataError(archive, "not a zip or tar archive (.zip, .tar, .tar.gz, .tgz)")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise DataError(archive, f"truncated or corrupt archive ({exc}); {again}") from exc


def fetch(dataset: str, src: DataSource, out_dir: Path) -> None:
    """Fill ``out_dir`` with the raw data of ``dataset`` from the configured source.

    Raises:
        DataError: the source cannot be read, or holds no case of ``dataset`` in a layout its
            reader accepts (the message names the source the user gave, not ``out_dir``);
            ``out_dir`` is left as it was.
    """

    def fill(tmp: Path) -> None:
        if src.source == "synthetic":
            _synthetic(dataset, src, tmp)
        elif src.source == "url":
            if not src.url:
                raise DataError("params.yaml", f"data.{dataset}.url is empty")
            name = PurePosixPath(src.url.split("?")[0]).name or "archive"
            archive = tmp.parent / f".{tmp.name}-{name}"
            try:
                download(src.url, archive, src.sha256)
                extract(archive, tmp)
            finally:
                archive.unlink(missing_ok=True)
            _check_holds_cases(dataset, tmp, src.url)
        elif src.source == "local":
            _local(dataset, src.local, tmp)
            _check_holds_cases(dataset, tmp, Path(src.local).expanduser())
        else:  # config validation makes this unreachable
            raise AssertionError(src.source)

    build_dir(out_dir, fill)


def _check_holds_cases(dataset: str, tmp: Path, source: Path | str) -> None:
    """Refuse now, naming ``source``, what ``preprocess`` would refuse later naming
    ``data/raw/<ds>``: a copy or archive without one case folder its reader can find."""
    from mixseg.data import acdc, la

    find = {"acdc": acdc.find_patients, "la": la.find_cases}[dataset]
    try:
        find(tmp)
    except DataError as exc:
        layout = {"acdc": "training/patientXXX/Info.cfg", "la": f"{la.TRAINING_DIR}/<ID>/"}
        problem = (f"no {dataset} case found in this source given as data.{dataset} in "
                   f"params.yaml (expected {layout[dataset]} inside; it is empty or another "
                   "layout)")  # fmt: skip
        raise DataError(source, problem) from exc


def _local(dataset: str, local: str | None, tmp: Path) -> None:
    if not local:
        raise DataError("params.yaml", f"data.{dataset}.local is empty (source: local)")
    path = Path(local).expanduser()
    if path.is_dir():
        shutil.copytree(path, tmp, dirs_exist_ok=True, symlinks=False)
    elif path.is_file():
        extract(path, tmp)
    else:
        raise DataError(path, "no such file or folder (data.<ds>.local)")


def _synthetic(dataset: str, src: DataSource, tmp: Path) -> None:
    cfg = src.synthetic
    # The generators write into a root that must not exist yet; give each its own sub-root.
    target = tmp / "gen"
    if dataset == "acdc":
        from mixseg.data.synthetic_acdc import write_acdc

        write_acdc(target, n_patients=cfg.n_cases, seed=cfg.seed, workers=cfg.workers)
    elif dataset == "la":
        from mixseg.data.synthetic_la import write_la

        write_la(target, n_cases=cfg.n_cases, seed=cfg.seed, workers=cfg.workers)
    else:
        raise ValueError(f"no synthetic generator for dataset {dataset!r}")
    for child in target.iterdir():
        os.replace(child, tmp / child.name)
    target.rmdir()
