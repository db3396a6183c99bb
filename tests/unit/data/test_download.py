"""download: safe extraction, checksum, offline error, atomic output."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mixseg.config import DataSource, SyntheticSource
from mixseg.data.download import download, extract, fetch, sha256sum
from mixseg.data.errors import DataError


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _src(source: str, **kw) -> DataSource:
    base = dict(
        source=source,
        synthetic=SyntheticSource(n_cases=5, seed=0, workers=1),
        url=None,
        sha256=None,
        local=None,
    )
    base.update(kw)
    return DataSource(**base)


def test_extract_zip(tmp_path):
    arc = _zip(tmp_path / "a.zip", {"database/training/patient001/Info.cfg": b"ED: 1\n"})
    extract(arc, tmp_path / "out")
    assert (tmp_path / "out/database/training/patient001/Info.cfg").read_bytes() == b"ED: 1\n"


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt"])
def test_zip_path_traversal_refused(tmp_path, name):
    arc = _zip(tmp_path / "bad.zip", {"ok.txt": b"1", name: b"x"})
    with pytest.raises(DataError, match="unsafe member path") as err:
        extract(arc, tmp_path / "out")
    assert "bad.zip" in str(err.value)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "ok.txt").exists()


def test_tar_symlink_refused(tmp_path):
    arc = tmp_path / "bad.tar.gz"
    with tarfile.open(arc, "w:gz") as tf:
        info = tarfile.TarInfo("link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(DataError, match="link or special file"):
        extract(arc, tmp_path / "out")


def test_tar_traversal_refused(tmp_path):
    arc = tmp_path / "bad.tar"
    with tarfile.open(arc, "w") as tf:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(DataError, match="unsafe member path"):
        extract(arc, tmp_path / "out")


def test_not_an_archive(tmp_path):
    p = tmp_path / "x.zip"
    p.write_bytes(b"hello")
    with pytest.raises(DataError, match="not a zip or tar"):
        extract(p, tmp_path / "out")


def _archives(tmp_path: Path) -> dict[str, Path]:
    """The same member (1000 incompressible bytes) as zip, tar and tar.gz."""
    data = np.random.default_rng(0).bytes(1000)
    out = {"zip": _zip(tmp_path / "a.zip", {"training/patient001/Info.cfg": data})}
    for mode, name in (("w", "a.tar"), ("w:gz", "a.tar.gz")):
        with tarfile.open(tmp_path / name, mode) as tf:
            info = tarfile.TarInfo("training/patient001/Info.cfg")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        out[name] = tmp_path / name
    return out


@pytest.mark.parametrize("kind", ["zip", "a.tar", "a.tar.gz"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_archive_says_truncated(tmp_path, kind, keep):
    arc = _archives(tmp_path)[kind]
    data = arc.read_bytes()
    # A plain tar is padded with zeros to 10 KiB: cut inside the member (after its 512-byte
    # header), as a cut in the padding loses nothing and the archive is rightly read.
    cut = 512 + int(1000 * keep) if kind == "a.tar" else int(len(data) * keep)
    arc.write_bytes(data[:cut])
    out = tmp_path / "raw" / "acdc"
    with pytest.raises(DataError, match="truncated") as err:
        fetch("acdc", _src("local", local=str(arc)), out)
    assert err.value.path == arc
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw").iterdir())


@pytest.mark.parametrize("content", ["empty", "no_patient", "zip_no_patient"])
@pytest.mark.parametrize("dataset", ["acdc", "la"])
def test_local_source_without_cases_is_refused_naming_it(tmp_path, content, dataset):
    src = tmp_path / "my data"
    src.mkdir()
    if content == "no_patient":
        (src / "notes.txt").write_text("nothing here")
        (src / "patients").mkdir()
    elif content == "zip_no_patient":
        src = _zip(tmp_path / "mine.zip", {"readme.txt": b"x", "images/a.nii.gz": b"y"})
    out = tmp_path / "raw" / dataset
    with pytest.raises(DataError, match=f"no {dataset} case found") as err:
        fetch(dataset, _src("local", local=str(src)), out)
    assert err.value.path == src
    assert sorted((tmp_path / "raw").iterdir()) == []  # no data/raw/<ds>, no temporary left


def test_download_file_url_checksum(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(b"abc" * 1000)
    good = sha256sum(src)
    download(src.as_uri(), tmp_path / "ok.bin", good)
    assert (tmp_path / "ok.bin").read_bytes() == src.read_bytes()
    with pytest.raises(DataError, match="sha256 mismatch"):
        download(src.as_uri(), tmp_path / "bad.bin", "0" * 64)
    assert not list(tmp_path.glob("bad.bin*"))
    with pytest.raises(DataError, match="no sha256 configured"):
        download(src.as_uri(), tmp_path / "none.bin", None)


def test_offline_error_says_how_to_use_local(tmp_path):
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    with pytest.raises(DataError, match="source: local"):
        download("http://127.0.0.1:9/acdc.zip", tmp_path / "a.zip", "0" * 64, timeout=5)


def test_fetch_local_archive_and_failure_leaves_nothing(tmp_path):
    arc = _zip(tmp_path / "acdc.zip", {"training/patient001/Info.cfg": b"ED: 1\nES: 2\n"})
    out = tmp_path / "raw" / "acdc"
    fetch("acdc", _src("local", local=str(arc)), out)
    assert (out / "training/patient001/Info.cfg").exists()
    bad = _zip(tmp_path / "bad.zip", {"../x": b"1"})
    with pytest.raises(DataError):
        fetch("acdc", _src("local", local=str(bad)), tmp_path / "raw" / "other")
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["acdc"]


def test_fetch_local_missing_path(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        fetch("acdc", _src("local", local=str(tmp_path / "nope")), tmp_path / "raw")
