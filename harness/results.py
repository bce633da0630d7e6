"""The results folder (design.md, "Results layout") and how it is written.

Each trial writes its own files, atomically, in this order::

    results/<study>/trials/<trial_id>/samples.parquet   one row per eval prompt (ok trials)
    results/<study>/trials/<trial_id>/row.json          the trials.parquet row, written LAST

A trial is *done* exactly when its ``row.json`` exists, so a killed driver or worker never leaves
a trial half-recorded, and a re-run skips done trials and finishes only the rest.
:func:`consolidate` then rewrites the study tables from the per-trial files, samples first and
trials second (each atomically), so every trial in ``trials.parquet`` has its samples in
``samples.parquet``::

    results/<study>/study.json, trials.parquet, samples.parquet, baseline.parquet, tune/
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd

from harness.io import write_json_atomic, write_parquet_atomic
from harness.schema import SAMPLE_COLUMNS, TRIAL_COLUMNS, judge_breakdown_columns

TRIALS_DIR = "trials"


def trial_dir(results: Path, trial_id: str) -> Path:
    return Path(results) / TRIALS_DIR / trial_id


def is_done(results: Path, trial_id: str) -> bool:
    return (trial_dir(results, trial_id) / "row.json").exists()


def done_ids(results: Path) -> set[str]:
    root = Path(results) / TRIALS_DIR
    if not root.exists():
        return set()
    return {p.parent.name for p in root.glob("*/row.json")}


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_trial(results: Path, row: dict, samples: pd.DataFrame | None) -> None:
    """Record one finished trial (its samples, then its row)."""
    folder = trial_dir(results, row["trial_id"])
    folder.mkdir(parents=True, exist_ok=True)
    if samples is not None and len(samples):
        columns = list(SAMPLE_COLUMNS) + judge_breakdown_columns(samples.columns)
        write_parquet_atomic(folder / "samples.parquet", samples[columns])
    full = {c: _clean(row.get(c)) for c in TRIAL_COLUMNS}
    extra = {k: _clean(v) for k, v in row.items() if k not in full}
    write_json_atomic(folder / "row.json", {**full, **extra})


def read_rows(results: Path) -> list[dict]:
    root = Path(results) / TRIALS_DIR
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/row.json"))]


def consolidate(results: Path, baseline_path: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rewrite ``samples.parquet`` then ``trials.parquet`` from the per-trial files."""
    results = Path(results)
    rows = read_rows(results)
    done = [r["trial_id"] for r in rows]
    parts = [
        pd.read_parquet(trial_dir(results, t) / "samples.parquet")
        for t in done
        if (trial_dir(results, t) / "samples.parquet").exists()
    ]
    samples = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SAMPLE_COLUMNS))
    )
    trials = pd.DataFrame(rows)
    for c in TRIAL_COLUMNS:
        if c not in trials.columns:
            trials[c] = None
    extra = [c for c in trials.columns if c not in TRIAL_COLUMNS]
    trials = trials[list(TRIAL_COLUMNS) + extra]
    numeric = [c for c in TRIAL_COLUMNS if c not in ("trial_id", "method", "status", "error")]
    trials[numeric] = trials[numeric].apply(pd.to_numeric, errors="coerce")
    write_parquet_atomic(results / "samples.parquet", samples)
    write_parquet_atomic(results / "trials.parquet", trials)
    if baseline_path and Path(baseline_path).exists():
        dest = results / "baseline.parquet"
        tmp = dest.with_name(".baseline.parquet.tmp")
        shutil.copyfile(baseline_path, tmp)
        tmp.replace(dest)
    return trials, samples


def write_study_json(results: Path, study, specs, extra: dict | None = None) -> None:
    """Resolved config, versions of every key package, git revision, seeds."""
    import datetime
    import importlib.metadata as md
    import subprocess

    versions = {}
    for pkg in ("po-harness", "torch", "transformers", "trl", "datasets", "accelerate",
                "tokenizers", "ray", "optuna", "pandas", "pyarrow", "numpy", "pydantic"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        rev = None
    write_json_atomic(
        Path(results) / "study.json",
        {
            "study": study.study,
            "config": study.resolved(),
            "study_hash": study.hash(),
            "versions": versions,
            "git_revision": rev,
            "seeds": sorted({s.seed for s in specs}),
            "n_trials": len(specs),
            "trial_ids": [s.trial_id for s in specs],
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **(extra or {}),
        },
    )
