"""``mixseg segment``: tiny checkpoints in the ``model.pt`` format of ``train.fit``,
synthetic NIfTI files written with nibabel directly, with unusual headers."""

from __future__ import annotations

import dataclasses
import struct
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from torch import nn

from mixseg import __version__, config
from mixseg.cli import main
from mixseg.evaluate import load_model
from mixseg.models import build_model
from mixseg.segment import segment_volume

PREPROCESS = {"mode": "crop", "size": [32, 32], "spacing_mm": 4.0, "percentiles": [0.5, 99.5]}
TRAIN = {
    "base": 4,
    "padding": "same",
    "batch_full": 2,
    "batch_weak": 4,
    "batch_unlabeled": 2,
    "patch": None,
    "stride": None,
    "steps": 4,
    "epochs": None,
    "optimizer": "adam",
    "lr": 0.001,
    "lr_schedule": "cosine",
    "weight_decay": 0.0,
    "log_every": 2,
    "val_every": 2,
    "checkpoint_every": 2,
    "threads": None,
    "select": "last",
    "select_head": "evaluated",
    "select_ties": "last",
    "precision": "mixed",
}
# Rotation about z, a shear and a translation: nothing a diagonal-affine shortcut would survive.
ODD_AFFINE = np.array(
    [[0.0, -1.4, 0.3, 12.5], [1.6, 0.0, 0.0, -40.0], [0.0, 0.2, 7.5, 3.0], [0.0, 0.0, 0.0, 1.0]]
)


pytestmark = pytest.mark.usefixtures("one_thread")


def run_config(dataset: str = "acdc", preprocess: dict | None = None) -> dict:
    """A resolved configuration shaped like ``pipeline/train.py``'s."""
    tp = config.build(config.TrainParams, TRAIN, "train")
    pre = config.build(config.PreprocessParams, preprocess or PREPROCESS, "preprocess")
    return {
        "dataset": dataset,
        "method": "kl_ent",
        "run": "kl_ent",
        "setting": "set3",
        "seed": 0,
        "ratio": 5,
        "overrides": {},
        "train_key": f"presets.tiny.{dataset}.train",
        "hyper": {"lambda_w": 0.001, "lambda_kd": 50.0, "lambda_ent": 1.0, "divergence": "kl"},
        "train": dataclasses.asdict(tp),
        "preprocess": dataclasses.asdict(pre),
        "versions": {"mixseg": __version__, "torch": str(torch.__version__)},
    }


def save_run(run_dir: Path, n_decoders: int = 2, dataset: str = "acdc", dims: int = 2) -> Path:
    torch.manual_seed(0)
    model = build_model(dims, 4 if dims == 2 else 2, n_decoders, "same")
    run_dir.mkdir(parents=True, exist_ok=True)
    state = {"model": model.state_dict(), "config": run_config(dataset), "n_decoders": n_decoders}
    torch.save(state, run_dir / "model.pt")
    return run_dir


def disc_volume(shape: tuple[int, ...], centre: tuple[float, float], radius: float) -> np.ndarray:
    """A bright disc on every slice of an (x, y, z) volume, with mild noise."""
    x, y = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    disc = (np.hypot(x - centre[0], y - centre[1]) < radius).astype(np.float64)
    noise = np.random.default_rng(0).normal(0, 0.05, shape)
    return np.repeat(disc[:, :, None], shape[2], axis=2) * 300 + 100 + 10 * noise


def write_nifti(path: Path, data: np.ndarray, affine: np.ndarray, qform_only: bool = False) -> Path:
    img = nib.Nifti1Image(data, affine)
    if qform_only:
        img.set_qform(affine, code=1)
        img.set_sform(None, code=0)
    else:
        img.set_sform(affine, code=2)
        img.set_qform(affine, code=1)
    nib.save(img, path)
    return path


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return save_run(tmp_path / "runs" / "kl_ent" / "seed0")


def segment(capsys, *args: object) -> tuple[int, str, str]:
    rc = main(["segment", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_load_model_reads_the_checkpoint_format(run_dir):
    model, cfg = load_model(run_dir / "model.pt")
    assert model.n_decoders == 2 and cfg["dataset"] == "acdc"
    assert tuple(cfg["preprocess"]["size"]) == (32, 32)


class ThresholdNet(nn.Module):
    """Foreground where the normalised image is above 0.5: its mask shows where the
    preprocessing and its inverse put every pixel."""

    n_decoders = 2

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(40.0))

    def forward(self, x: torch.Tensor, heads) -> list[torch.Tensor]:
        fg = self.scale * (x - 0.5)
        return [torch.cat([torch.zeros_like(fg), fg], 1) for _ in heads]


@pytest.mark.parametrize(
    ("mode", "shape", "px"),
    [("crop", (37, 41, 3), 1.5), ("crop", (90, 70, 2), 1.3), ("resize", (37, 41, 3), 1.5)],
)
def test_probabilities_come_back_on_the_input_grid(mode, shape, px):
    """Downsampled, cropped (90x70 px at 1.3 mm > 32 px at 4 mm) or padded, and back: the
    disc is where it was, no shift, no flip."""
    volume = disc_volume(shape, (shape[0] * 0.45, shape[1] * 0.55), 10.0)
    pre = config.build(config.PreprocessParams, {**PREPROCESS, "mode": mode}, "pre")
    image = volume.transpose(2, 1, 0).astype(np.float32)  # (z, y, x)
    probs = segment_volume(ThresholdNet(), image, (8.0, px, px), pre, "student")
    truth = image > 250
    pred = probs > 0.5
    assert probs.shape == image.shape and probs.dtype == np.float32
    assert 2 * (pred & truth).sum() / (pred.sum() + truth.sum()) > 0.9
    centre = lambda m: np.argwhere(m).mean(0)  # noqa: E731
    assert np.abs(centre(pred) - centre(truth)).max() < 1.0


@pytest.mark.parametrize(
    ("name", "shape", "dtype", "qform_only"),
    [("odd_f64", (37, 41, 7), np.float64, False), ("odd_i16", (29, 33, 5), np.int16, True)],
)
def test_round_trip_keeps_shape_affine_and_header(
    capsys, tmp_path, run_dir, name, shape, dtype, qform_only
):
    src = write_nifti(
        tmp_path / f"{name}.nii.gz",
        disc_volume(shape, (15, 16), 8).astype(dtype),
        ODD_AFFINE,
        qform_only,
    )
    rc, out, err = segment(
        capsys, "--run", run_dir, src, "--out", tmp_path / "out", "--device", "cpu"
    )
    assert rc == 0, err
    assert "voxels" in out and "mL" in out and str(src) in out
    inp, mask = nib.load(src), nib.load(tmp_path / "out" / f"{name}_mask.nii.gz")
    assert mask.shape == shape
    assert np.array_equal(mask.affine, inp.affine)
    assert mask.get_data_dtype() == np.uint8
    assert set(np.unique(np.asanyarray(mask.dataobj)).tolist()) <= {0, 1}
    for key in ("qform_code", "sform_code", "pixdim", "quatern_b", "srow_x"):
        assert np.array_equal(mask.header[key], inp.header[key]), key


def test_a_batch_of_files_and_a_folder(capsys, tmp_path, run_dir):
    scans = tmp_path / "scans"
    (scans / "sub").mkdir(parents=True)
    volume = disc_volume((24, 20, 3), (12, 10), 5).astype(np.int16)
    for rel in ("a.nii.gz", "b.nii", "sub/c.nii.gz", "sub/c_gt.nii.gz"):
        write_nifti(scans / rel, volume, np.diag([1.5, 1.5, 8.0, 1.0]))
    (scans / "notes.txt").write_text("not a scan")
    rc, out, err = segment(capsys, "--run", run_dir / "model.pt", scans, "--out", tmp_path / "o1")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "o1").iterdir()) == [
        "a_mask.nii.gz",
        "b_mask.nii.gz",
        "c_mask.nii.gz",
    ]
    rc, out, err = segment(
        capsys,
        "--run",
        run_dir,
        scans / "a.nii.gz",
        scans / "b.nii",
        "--out",
        tmp_path / "o2",
        "--png",
    )
    assert rc == 0, err
    assert out.count("mL") == 2
    names = sorted(p.name for p in (tmp_path / "o2").iterdir())
    assert names == ["a_mask.nii.gz", "a_mask.png", "b_mask.nii.gz", "b_mask.png"]
    assert (tmp_path / "o2" / "a_mask.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for _ in range(2):  # an output folder inside the input folder is not read as input
        rc, out, err = segment(capsys, "--run", run_dir, scans, "--out", scans / "masks")
        assert rc == 0 and out.count("mL") == 3, err
    assert len(list((scans / "masks").iterdir())) == 3


def write_cine(folder: Path, n_frames: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Info.cfg").write_text("ED: 1\nES: 3\nGroup: NOR\nNbFrame: 3\n")
    frames = [disc_volume((26, 22, 4), (13, 11), r) for r in (8, 7, 5)[:n_frames]]
    data = np.stack(frames, axis=-1).astype(np.int16)
    return write_nifti(folder / "patient001_4d.nii.gz", data, ODD_AFFINE)


@pytest.mark.parametrize(("frame", "number"), [("ES", 3), ("ed", 1), ("2", 2)])
def test_a_4d_cine_frame(capsys, tmp_path, run_dir, frame, number):
    cine = write_cine(tmp_path / "patient001")
    rc, _, err = segment(capsys, "--run", run_dir, cine, "--frame", frame, "--out", tmp_path / "o")
    assert rc == 0, err
    mask = nib.load(tmp_path / "o" / f"patient001_4d_frame{number:02d}_mask.nii.gz")
    assert mask.shape == (26, 22, 4)
    assert np.array_equal(mask.affine, nib.load(cine).affine)


def bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, expected words of the error)."""
    (tmp / "scan.txt").write_text("hello")
    (tmp / "garbage.nii.gz").write_bytes(b"not gzip at all")
    write_nifti(tmp / "flat.nii.gz", np.ones((20, 20), np.int16), np.eye(4))
    cine = write_cine(tmp / "cine")
    truncated = tmp / "truncated.nii"
    write_nifti(truncated, disc_volume((30, 30, 4), (15, 15), 6).astype(np.float32), np.eye(4))
    truncated.write_bytes(truncated.read_bytes()[:1000])  # header intact, data cut
    nan = disc_volume((20, 20, 3), (10, 10), 5)
    nan[0, 0, 0] = np.nan
    write_nifti(tmp / "nan.nii.gz", nan, np.eye(4))
    zero = write_nifti(tmp / "zero.nii", disc_volume((20, 20, 3), (10, 10), 5), np.eye(4))
    raw = bytearray(zero.read_bytes())
    raw[84:88] = struct.pack("<f", 0.0)  # pixdim[2] (bytes 76-107 hold pixdim[0:8])
    zero.write_bytes(bytes(raw))  # nib.load would read it as 1 mm
    return {
        "not_nifti": (tmp / "scan.txt", "not a NIfTI file"),
        "unreadable": (tmp / "garbage.nii.gz", "unreadable"),
        "2d": (tmp / "flat.nii.gz", "wrong dimensionality"),
        "4d_no_frame": (cine, "--frame"),
        "missing": (tmp / "absent.nii.gz", "not found"),
        "truncated": (truncated, "truncated"),
        "nan": (tmp / "nan.nii.gz", "NaN"),
        "zero_voxel": (zero, "voxel size [1.0, 0.0, 1.0] mm"),
    }


@pytest.mark.parametrize(
    "case",
    ["not_nifti", "unreadable", "2d", "4d_no_frame", "missing", "truncated", "nan", "zero_voxel"],
)
def test_a_bad_input_is_named_and_nothing_is_written(capsys, tmp_path, run_dir, case):
    path, words = bad_inputs(tmp_path)[case]
    out_dir = tmp_path / "out"
    rc, _, err = segment(capsys, "--run", run_dir, path, "--out", out_dir)
    assert rc == 2
    assert str(path) in err and words in err
    named = [line for line in err.splitlines() if str(path) in line]
    assert len(named) == 1 and "To fix: " in named[0] and "Traceback" not in err  # one line
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_4d_frame_outside_the_cine_or_without_info_cfg(capsys, tmp_path, run_dir):
    cine = write_cine(tmp_path / "cine")
    rc, _, err = segment(capsys, "--run", run_dir, cine, "--frame", "9", "--out", tmp_path / "o")
    assert rc == 2 and str(cine) in err and "outside 1-3" in err
    (tmp_path / "cine" / "Info.cfg").unlink()
    rc, _, err = segment(capsys, "--run", run_dir, cine, "--frame", "ED", "--out", tmp_path / "o")
    assert rc == 2 and str(cine) in err and "missing Info.cfg" in err
    assert not (tmp_path / "o").exists()


def test_stop_at_first_error_or_keep_going(capsys, tmp_path, run_dir):
    good = write_nifti(tmp_path / "good.nii.gz", disc_volume((20, 20, 3), (10, 10), 5), np.eye(4))
    bad = bad_inputs(tmp_path)["truncated"][0]  # fails only once its data are read
    rc, _, err = segment(capsys, "--run", run_dir, bad, good, "--out", tmp_path / "o1")
    assert rc == 2 and str(bad) in err
    assert list((tmp_path / "o1").iterdir()) == []  # stopped before good, no temporary left
    rc, out, err = segment(
        capsys, "--run", run_dir, bad, good, "--out", tmp_path / "o2", "--keep-going"
    )
    assert rc == 2 and str(bad) in err and "1 input(s) failed" in err
    assert [p.name for p in (tmp_path / "o2").iterdir()] == ["good_mask.nii.gz"]


def test_a_failed_write_leaves_no_partial_file(capsys, tmp_path, run_dir, monkeypatch):
    src = write_nifti(tmp_path / "s.nii.gz", disc_volume((20, 20, 3), (10, 10), 5), np.eye(4))

    def half_save(img, filename):
        Path(filename).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nib, "save", half_save)
    rc, _, err = segment(capsys, "--run", run_dir, src, "--out", tmp_path / "o")
    assert rc == 2 and "s_mask.nii.gz" in err and "No space left" in err
    assert list((tmp_path / "o").iterdir()) == []


def test_checkpoint_problems(capsys, tmp_path, run_dir):
    src = write_nifti(tmp_path / "s.nii.gz", disc_volume((20, 20, 3), (10, 10), 5), np.eye(4))
    la = save_run(tmp_path / "la_run", dataset="la", dims=3)
    rc, _, err = segment(capsys, "--run", la, src, "--out", tmp_path / "o")
    assert rc == 2 and str(la / "model.pt") in err and "Left Atrium" in err
    (tmp_path / "unfinished").mkdir()
    rc, _, err = segment(capsys, "--run", tmp_path / "unfinished", src, "--out", tmp_path / "o")
    assert rc == 2 and "no model.pt" in err and str(tmp_path / "unfinished") in err
    (tmp_path / "junk.pt").write_bytes(b"junk")
    rc, _, err = segment(capsys, "--run", tmp_path / "junk.pt", src, "--out", tmp_path / "o")
    assert rc == 2 and "not a readable PyTorch checkpoint" in err
    assert not (tmp_path / "o").exists()


def test_run_names_resolve_under_data_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_run(Path("data/runs/acdc/set3/kl_ent/seed0"))
    save_run(Path("data/runs/acdc/set5/lower/seed1"), n_decoders=1)
    src = write_nifti(tmp_path / "s.nii.gz", disc_volume((20, 20, 3), (10, 10), 5), np.eye(4))
    assert segment(capsys, "--run", "kl_ent", src, "--out", "o")[0] == 0
    rc, _, err = segment(
        capsys,
        "--run",
        "lower",
        "--setting",
        "set5",
        "--seed",
        "1",
        src,
        "--out",
        "o",
        "--head",
        "student",
    )
    assert rc == 2 and "single-branch" in err
    assert (
        segment(capsys, "--run", "lower", "--setting", "set5", "--seed", "1", src, "--out", "o")[0]
        == 0
    )  # default head: teacher
    rc, _, err = segment(capsys, "--run", "kl", src, "--out", "o")
    assert rc == 2 and "data/runs/acdc/set3/kl/seed0/model.pt" in err
    assert "set3/kl_ent/seed0" in err and "set5/lower/seed1" in err


def test_an_unwritable_output_folder(capsys, tmp_path, run_dir):
    src = write_nifti(tmp_path / "s.nii.gz", disc_volume((20, 20, 3), (10, 10), 5), np.eye(4))
    (tmp_path / "file").write_text("")
    rc, _, err = segment(capsys, "--run", run_dir, src, "--out", tmp_path / "file" / "out")
    assert rc == 2 and "not writable" in err and str(tmp_path / "file" / "out") in err


def test_usage_errors_exit_2(capsys, run_dir):
    with pytest.raises(SystemExit) as exc:
        main(["segment", "--run", str(run_dir), "x.nii.gz", "--out", "o", "--frame", "0"])
    assert exc.value.code == 2
    assert "--frame" in capsys.readouterr().err


def test_help_and_version_through_python_m():
    done = subprocess.run(
        [sys.executable, "-m", "mixseg", "--help"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("usage: mixseg") and "segment" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "mixseg", "segment", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: mixseg segment" in done.stdout and "examples:" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "mixseg", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"mixseg {__version__}"


def _constant_teacher(foreground: bool) -> dict[str, torch.Tensor]:
    """Weights of the tiny dual UNet whose teacher output is one class everywhere."""
    torch.manual_seed(0)
    weights = build_model(2, 4, 2, "same").state_dict()
    weights["decoders.0.final.weight"].zero_()
    weights["decoders.0.final.bias"].copy_(torch.tensor([0.0, 5.0] if foreground else [5.0, 0.0]))
    return weights


def test_a_head_with_its_own_weights_segments_with_them(capsys, tmp_path):
    """``select_head: each``: ``--head teacher`` uses model.pt's ``head_weights["teacher"]``
    (teacher: foreground everywhere), not the usual weights (teacher: background); the mask is
    the one of a run whose usual weights are the teacher's. A run with ``evaluated`` keeps
    ``head_weights`` too (every dual-branch run does) but was evaluated with its usual
    weights: it segments with them."""
    src = write_nifti(tmp_path / "s.nii.gz", disc_volume((24, 20, 3), (12, 10), 5), ODD_AFFINE)
    masks = {}
    runs = (
        ("each", False, True, "each"),
        ("evaluated", False, True, "evaluated"),
        ("usual", False, None, "evaluated"),
        ("same", True, None, "evaluated"),
    )
    for name, usual, own, rule in runs:
        run_dir = save_run(tmp_path / name)
        state = torch.load(run_dir / "model.pt", weights_only=True)
        state["model"] = _constant_teacher(usual)
        state["config"]["train"]["select_head"] = rule
        if own is not None:
            state["head_weights"] = {"teacher": _constant_teacher(own)}
        torch.save(state, run_dir / "model.pt")
        rc, _, err = segment(capsys, "--run", run_dir, src, "--out", tmp_path / f"o-{name}",
                             "--head", "teacher", "--device", "cpu")  # fmt: skip
        assert rc == 0, err
        masks[name] = np.asanyarray(nib.load(tmp_path / f"o-{name}" / "s_mask.nii.gz").dataobj)
    assert masks["each"].any() and not masks["usual"].any()
    assert np.array_equal(masks["each"], masks["same"])
    assert np.array_equal(masks["evaluated"], masks["usual"])
