"""The results folder (docs/design.md, "The results folder") and how it is written and read back.

Each trial writes its own files, atomically, in this order::

    results/<study>/trials/<trial_id>/samples.parquet   one row per eval prompt (ok trials)
    results/<study>/trials/<trial_id>/row.json          the trials.parquet row, written LAST

A trial is *done* exactly when its ``row.json`` exists, so a killed driver or worker never
leaves a trial half-recorded, and a re-run skips done trials and finishes only the rest.
``row.json`` carries, under ``_integrity``, the digest of its own content and of its
``samples.parquet``: :func:`scan` re-checks both, and a damaged trial (truncated, bytes
flipped, samples missing) is moved aside to ``results/<study>/quarantine/`` with a warning
naming the file, so the trial runs again.

A results folder belongs to one study config. Each row records the ``study_hash`` it was made
under; :func:`consolidate` rewrites the study tables from the rows of the current trial set
only (:mod:`harness.membership`), samples first and trials second (each atomically), so every
trial in ``trials.parquet`` has its samples in ``samples.parquet``. Rows of other settings, or
no longer in the grid, stay on disk, are counted (:func:`classify`) and can be removed
(:func:`prune`)::

    results/<study>/study.json, trials.parquet, samples.parquet, baseline.parquet, tune/
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.errors import DamagedFileError
from harness.io import (
    atomic_path,
    decode_utf8,
    file_sha256,
    hash_json,
    write_json_atomic,
    write_parquet_atomic,
)
from harness.schema import (
    EXCLUSION_WORDS,
    ROLE_GRID,
    SAMPLE_COLUMNS,
    STATUS_OK,
    STATUSES,
    STUDY_HASH,
    TRIAL_BASE_COLUMNS,
    exclusion_reason,
    judge_breakdown_columns,
)

log = logging.getLogger(__name__)

TRIALS_DIR = "trials"
QUARANTINE_DIR = "quarantine"
ROW = "row.json"
SAMPLES = "samples.parquet"
INTEGRITY = "_integrity"  # {"row": digest of the other keys, "samples": sha256 of samples.parquet}


def trial_dir(results: Path, trial_id: str) -> Path:
    return Path(results) / TRIALS_DIR / trial_id


def is_done(results: Path, trial_id: str) -> bool:
    return (trial_dir(results, trial_id) / ROW).exists()


def done_ids(results: Path) -> set[str]:
    """Trials with a ``row.json`` (not verified: see :func:`scan`)."""
    root = Path(results) / TRIALS_DIR
    if not root.exists():
        return set()
    return {p.parent.name for p in root.glob(f"*/{ROW}")}


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _row_digest(payload: dict) -> str:
    return hash_json({k: v for k, v in payload.items() if k != INTEGRITY}, 64)


def write_trial(results: Path, row: dict, samples: pd.DataFrame | None) -> None:
    """Record one finished trial (its samples, then its row with both digests)."""
    folder = trial_dir(results, row["trial_id"])
    folder.mkdir(parents=True, exist_ok=True)
    samples_sha = None
    if samples is not None and len(samples):
        columns = list(SAMPLE_COLUMNS) + judge_breakdown_columns(samples.columns)
        write_parquet_atomic(folder / SAMPLES, samples[columns])
        samples_sha = file_sha256(folder / SAMPLES)
    full = {c: _clean(row.get(c)) for c in TRIAL_BASE_COLUMNS}
    extra = {k: _clean(v) for k, v in row.items() if k not in full and k != INTEGRITY}
    # The digest is taken of what a reader will parse back (numpy scalars become JSON values).
    payload = json.loads(json.dumps({**full, **extra}, default=str))
    payload[INTEGRITY] = {"row": _row_digest(payload), "samples": samples_sha}
    write_json_atomic(folder / ROW, payload)


def read_trial(folder: Path) -> dict:
    """The row of the trial recorded in ``folder``, checked; :class:`DamagedFileError` (naming
    the file) when ``row.json`` or the samples it vouches for are damaged."""
    path = folder / ROW
    try:
        row = json.loads(decode_utf8(path.read_bytes(), path))
    except (ValueError, OSError) as e:
        raise DamagedFileError(f"{path}: not a readable trial row ({e})") from None
    if not isinstance(row, dict):
        raise DamagedFileError(f"{path}: not a trial row (a JSON {type(row).__name__})")
    check = row.get(INTEGRITY)
    if isinstance(check, dict) and check.get("row") != _row_digest(row):
        raise DamagedFileError(f"{path}: its content does not match its digest (changed on disk)")
    if row.get("trial_id") != folder.name:
        raise DamagedFileError(f"{path}: trial_id {row.get('trial_id')!r} is not the folder's")
    if row.get("status") not in STATUSES:
        raise DamagedFileError(f"{path}: status {row.get('status')!r} is not one of {STATUSES}")
    if row["status"] == STATUS_OK:
        samples = folder / SAMPLES
        if not samples.is_file():
            raise DamagedFileError(f"{samples} is missing (the ok trial's samples)")
        if isinstance(check, dict):
            if file_sha256(samples) != check.get("samples"):
                raise DamagedFileError(f"{samples} does not match the digest in its row.json")
        else:  # written by an older harness: it must at least read
            try:
                pd.read_parquet(samples)
            except Exception as e:  # noqa: BLE001  (pyarrow raises many types)
                raise DamagedFileError(f"{samples}: unreadable ({type(e).__name__}: {e})") from None
    return row


def strip_integrity(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != INTEGRITY}


@dataclass
class Scan:
    """The per-trial rows found in a results folder."""

    rows: dict[str, dict] = field(default_factory=dict)  # trial_id -> row (verified)
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (trial_id, what is wrong)


def quarantine(results: Path, trial_id: str) -> Path:
    """Move ``trials/<trial_id>`` aside to ``quarantine/<trial_id>-<time>``; returns where."""
    base = Path(results) / QUARANTINE_DIR / f"{trial_id}-{time.strftime('%Y%m%d-%H%M%S')}"
    dest, n = base, 1
    while dest.exists():
        n += 1
        dest = base.with_name(f"{base.name}-{n}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    trial_dir(results, trial_id).rename(dest)
    return dest


def scan(results: Path, move_damaged: bool = True) -> Scan:
    """Read and check every recorded trial; damaged ones are quarantined (``move_damaged``) with
    a warning naming the file, else only reported (``--dry-run`` changes nothing)."""
    out = Scan()
    root = Path(results) / TRIALS_DIR
    if not root.is_dir():
        return out
    for path in sorted(root.glob(f"*/{ROW}")):
        tid = path.parent.name
        try:
            out.rows[tid] = read_trial(path.parent)
        except DamagedFileError as e:
            out.damaged.append((tid, str(e)))
            if move_damaged:
                where = quarantine(results, tid)
                log.warning("damaged trial record: %s; moved to %s, the trial will run again",
                            e, where)
    return out


def classify(rows: dict[str, dict], study_hash: str, trial_ids) -> tuple[dict, dict]:
    """Split rows into those of the study (``trial_id -> row``) and the rest by reason
    (``{"other_settings": [ids], "not_in_grid": [ids]}``, see harness.schema)."""
    ids = set(trial_ids)
    kept, excluded = {}, {reason: [] for reason in EXCLUSION_WORDS}
    for tid, row in rows.items():
        reason = exclusion_reason(tid, row.get(STUDY_HASH), study_hash, ids)
        if reason is None:
            kept[tid] = row
        else:
            excluded[reason].append(tid)
    return kept, excluded


def counts(excluded: dict) -> dict[str, int]:
    return {reason: len(ids) for reason, ids in excluded.items()}


def prune(results: Path, excluded: dict, keep_ids=()) -> int:
    """Delete the trial folders of ``excluded`` rows, unfinished attempts of trials not in
    ``keep_ids`` (folders without a row) and the quarantine; returns how many were removed."""
    results = Path(results)
    n = 0
    for ids in excluded.values():
        for tid in ids:
            shutil.rmtree(trial_dir(results, tid), ignore_errors=True)
            n += 1
    keep = set(keep_ids)
    root = results / TRIALS_DIR
    for folder in (root.iterdir() if root.is_dir() else ()):
        if folder.is_dir() and folder.name not in keep and not (folder / ROW).exists():
            shutil.rmtree(folder, ignore_errors=True)
            n += 1
    q = results / QUARANTINE_DIR
    if q.exists():
        n += sum(1 for _ in q.iterdir())
        shutil.rmtree(q, ignore_errors=True)
    return n


def consolidate(results: Path, study_hash: str, trial_ids,
                baseline_path: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Rewrite ``samples.parquet`` then ``trials.parquet`` from the per-trial files of the
    current trial set; returns (trials, samples, excluded counts by reason)."""
    results = Path(results)
    kept, excluded = classify(scan(results).rows, study_hash, trial_ids)
    rows = [strip_integrity(kept[t]) for t in sorted(kept)]
    parts = [pd.read_parquet(trial_dir(results, r["trial_id"]) / SAMPLES)
             for r in rows if r["status"] == STATUS_OK]
    samples = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SAMPLE_COLUMNS))
    )
    trials = pd.DataFrame(rows)
    for c in (*TRIAL_BASE_COLUMNS, STUDY_HASH):
        if c not in trials.columns:
            trials[c] = None
    extra = [c for c in trials.columns if c not in TRIAL_BASE_COLUMNS]
    trials = trials[list(TRIAL_BASE_COLUMNS) + extra]
    text = ("trial_id", "config_id", "method", "role", STUDY_HASH, "status", "error")
    numeric = [c for c in TRIAL_BASE_COLUMNS if c not in text]
    trials[numeric] = trials[numeric].apply(pd.to_numeric, errors="coerce")
    from harness.keep import policies_dir, policy_paths

    if policies_dir(results).exists():  # save.policies: the folders on disk decide (harness.keep)
        trials["policy_path"] = trials["trial_id"].map(policy_paths(results))
    write_parquet_atomic(results / "samples.parquet", samples)
    write_parquet_atomic(results / "trials.parquet", trials)
    if baseline_path and Path(baseline_path).exists():
        with atomic_path(results / "baseline.parquet", suffix=".parquet") as tmp:
            shutil.copyfile(baseline_path, tmp)
    return trials, samples, counts(excluded)


def write_study_json(results: Path, study, specs, extra: dict | None = None) -> None:
    """Resolved config, versions of every key package, git revision, the grid's seeds
    (``seeds``; ``replicates``: the seeds and whether the sampling seed is ``fixed`` or
    ``per_replicate``), the trial set (grid and confirmation runs) and ``extra`` (e.g.
    ``excluded``, ``last_run``, ``confirm``)."""
    import datetime
    import importlib.metadata as md
    import subprocess

    from harness.grid import methods_block

    grid_seeds = sorted({s.seed for s in specs if getattr(s, "role", ROLE_GRID) == ROLE_GRID})

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
            "seeds": grid_seeds,
            "replicates": {"seeds": grid_seeds, "generation_seed": study.generation.seed_mode},
            "n_trials": len(specs),
            "trial_ids": [s.trial_id for s in specs],
            "methods": methods_block(study),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **(extra or {}),
        },
    )
