"""Expected errors end a command with one line naming the file (also from worker processes);
unexpected ones keep their traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write_acdc_patient

from mixseg.config import ConfigError
from mixseg.data.errors import DataError, one_line, report_errors
from mixseg.data.staging import map_jobs

ROOT = Path(__file__).resolve().parents[3]


def _fail_on_three(k: int) -> int:
    if k == 3:
        raise DataError(f"data/raw/x/case{k}/Info.cfg", "no ED entry")
    return k


def test_one_line_collapses_a_library_message():
    exc = DataError("a.nii", "affine differs:\n[[1. 0.]\n [0. 1.]]")
    assert one_line("preprocess", exc, "replace it") == (
        "preprocess: error: a.nii: affine differs: [[1. 0.] [0. 1.]]. To fix: replace it"
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_error_in_a_worker_process_is_one_line(capsys, monkeypatch, workers):
    monkeypatch.setattr(sys, "argv", ["pipeline/preprocess.py", "--dataset", "x"])
    with pytest.raises(SystemExit) as stop:
        report_errors(lambda: map_jobs(_fail_on_three, range(6), workers), "fix the file")
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err == (
        "preprocess: error: data/raw/x/case3/Info.cfg: no ED entry. To fix: fix the file\n"
    )


def test_config_error_is_expected_and_success_exits_0(capsys):
    def bad_params():
        raise ConfigError("params.yaml: missing key presets.cpu.acdc.weak")

    with pytest.raises(SystemExit) as stop:
        report_errors(bad_params, "edit params.yaml")
    assert stop.value.code == 1 and capsys.readouterr().err.count("\n") == 1
    with pytest.raises(SystemExit) as stop:
        report_errors(lambda: None, "unused")
    assert stop.value.code == 0


def test_unexpected_error_keeps_its_traceback():
    def bug():
        raise KeyError("a bug")

    with pytest.raises(KeyError, match="a bug"):
        report_errors(bug, "unused")


def test_stage_script_prints_one_line_and_writes_nothing(tmp_path):
    """``pipeline/preprocess.py`` run as DVC runs it, two workers, one patient's Info.cfg
    without ED: exit 1, one error line naming the file, no traceback, no output."""
    raw = tmp_path / "data" / "raw" / "acdc"
    for pid in range(1, 5):
        write_acdc_patient(raw, pid)
    bad = raw / "training" / "patient003" / "Info.cfg"
    bad.write_text("ES: 10\nGroup: NOR\n")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    script = ROOT / "pipeline" / "preprocess.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--dataset", "acdc", "--workers", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert errors == [
        f"preprocess: error: {bad.relative_to(tmp_path)}: no ED entry (ED and ES frame numbers "
        "are required). To fix: repair or replace that file, or its source (data.<dataset> in "
        "params.yaml, then `dvc repro download@<dataset>`), and run `dvc repro` again"
    ]
    assert list((tmp_path / "data" / "processed").iterdir()) == []  # no acdc/, no temporary
