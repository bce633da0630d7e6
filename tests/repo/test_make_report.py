"""``make report`` (issue 15): writes the report of a study's results folder, the study given
as ``STUDY=sweeps/<study>.yaml`` (default: the quickstart), its results folder resolved as the
sweep resolves it; without results it says what to run first."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def _make_results():
    spec = importlib.util.spec_from_file_location("results_fixture",
                                                  REPO / "tests" / "fixtures" / "results_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_results


def _make(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    # -o: take the environment as built (a newer setup.cfg must not reinstall it mid-test)
    return subprocess.run(["make", "-s", "-C", str(REPO), "-o", ".venv/.installed", *args],
                          capture_output=True, text=True, timeout=600)


def _study_yaml(tmp_path: Path, results_dir: Path) -> Path:
    cfg = yaml.safe_load((REPO / "sweeps" / "quickstart.yaml").read_text())
    cfg["results_dir"] = str(results_dir)
    path = tmp_path / "quickstart.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_make_report_writes_the_study_report(tmp_path):
    folder = _make_results()(tmp_path / "results" / "quickstart", study="quickstart", grid="small")
    study = _study_yaml(tmp_path, tmp_path / "results")
    proc = _make("report", f"STUDY={study}", "REPORT_ARGS=--n-boot 200")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"-m analysis.report {folder}" in proc.stdout
    assert (folder / "report" / "report.html").stat().st_size > 0
    assert (folder / "report" / "report.md").stat().st_size > 0


def test_make_report_without_results_says_what_to_run(tmp_path):
    study = _study_yaml(tmp_path, tmp_path / "empty")
    proc = _make("report", f"STUDY={study}")
    assert proc.returncode != 0
    assert f"error: no results of {study} at {tmp_path / 'empty' / 'quickstart'}" in proc.stderr
    assert "make quickstart" in proc.stderr
