"""atomic: a destination is replaced whole or not at all, and no temporary is left behind."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

from mixseg import atomic


def test_writers_replace_the_destination(tmp_path):
    atomic.write_text(tmp_path / "a" / "t.txt", "old")
    atomic.write_text(tmp_path / "a" / "t.txt", "new")
    atomic.write_bytes(tmp_path / "b.bin", b"\x00\x01")
    atomic.write_json(tmp_path / "c.json", {"k": [1, 2]})
    assert (tmp_path / "a" / "t.txt").read_text() == "new"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "c.json").read_text() == json.dumps({"k": [1, 2]}, indent=1) + "\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b.bin", "c.json", "t.txt"]


def test_an_error_leaves_the_destination_and_no_temporary(tmp_path):
    dest = tmp_path / "out.nii.gz"
    dest.write_text("before")
    with pytest.raises(RuntimeError), atomic.replacing(dest, suffix=".nii.gz") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".nii.gz")
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert dest.read_text() == "before"
    assert [p.name for p in tmp_path.iterdir()] == ["out.nii.gz"]


def test_torch_save_names_its_records_after_the_destination(tmp_path):
    """The temporary name decides the zip's record prefix: it must not vary with the pid."""
    atomic.torch_save({"w": torch.ones(2)}, tmp_path / "model.pt")
    names = zipfile.ZipFile(tmp_path / "model.pt").namelist()
    assert "model.pt/data.pkl" in {n.lstrip(".") for n in names}
    assert torch.equal(torch.load(tmp_path / "model.pt", weights_only=True)["w"], torch.ones(2))


def test_save_npz_is_byte_reproducible(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    atomic.save_npz(tmp_path / "x.npz", a=a)
    first = (tmp_path / "x.npz").read_bytes()
    atomic.save_npz(tmp_path / "x.npz", a=a)
    assert (tmp_path / "x.npz").read_bytes() == first
    with np.load(tmp_path / "x.npz") as z:
        assert np.array_equal(z["a"], a)


def test_directory_is_replaced_whole_or_not_at_all(tmp_path):
    out = tmp_path / "cases"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(ValueError), atomic.directory(out) as tmp:
        (tmp / "new.txt").write_text("new")
        raise ValueError
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    with atomic.directory(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases"]
