"""Read and validate a results folder (design.md, "Results layout").

``load_study(path)`` returns a ``Study``: the study.json metadata and the three tables of the
study's own trials, checked against ``harness.schema`` and sorted canonically (methods in
``KNOWN_METHODS`` order, then by
``trial_id``; samples by trial then prompt), so every result downstream is independent of the
row order on disk. Errors name the file, the column or the trial at fault.

Only the trials of the study's config are taken: those in study.json's ``trial_ids`` whose
``study_hash`` is study.json's (``harness.schema.exclusion_reason``); a results folder written
by an older harness, without these, is taken whole. The harness keeps other rows out of the
tables already and counts them in study.json's ``excluded``; this guards tables that are older
than their study.json (e.g. a sweep interrupted before it rewrote them).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import UserError
from harness.schema import (
    BASELINE_TRIAL_ID,
    STUDY_HASH,
    SAMPLE_COLUMNS,
    STATUS_OK,
    STATUSES,
    TRIAL_BASE_COLUMNS,
    exclusion_reason,
)

FILES = ("study.json", "trials.parquet", "samples.parquet", "baseline.parquet")
# Hyperparameters that can form grid axes, in display order.
GRID_AXES = ("beta", "gamma", "gamma_beta_ratio", "learning_rate", "epochs")
# Display order of the first three methods; other methods follow alphabetically.
KNOWN_METHODS = ("dpo", "ln_dpo", "simpo")
MEAN_SCORE_TOL = 1e-4


class ResultsError(UserError, ValueError):
    """A results folder that breaks the layout contract."""


@dataclass(frozen=True)
class Study:
    """One results folder. ``trials``/``samples``/``baseline`` follow harness.schema."""

    path: Path
    meta: dict
    trials: pd.DataFrame
    samples: pd.DataFrame
    baseline: pd.DataFrame
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return str(self.meta.get("study") or self.path.name)

    @property
    def methods(self) -> list[str]:
        """Methods present, known ones in ``KNOWN_METHODS`` order, others alphabetically after."""
        return method_order(self.trials["method"].unique())

    @property
    def prompt_ids(self) -> list[str]:
        """Eval prompts in canonical (sorted) order: the columns of every matrix."""
        return list(self.baseline["prompt_id"])

    def method_trials(self, method: str) -> pd.DataFrame:
        rows = self.trials[self.trials["method"] == method]
        if rows.empty:
            raise KeyError(f"method {method!r} not in study {self.name!r} (has {self.methods})")
        return rows

    def matrix(self, column: str, trial_ids=None) -> np.ndarray:
        """(n_trials, n_prompts) array of a samples column; NaN rows for trials without samples.

        Rows follow ``trial_ids`` (default: ``trials.trial_id``), columns ``prompt_ids``.
        """
        key = ("matrix", column)
        if key not in self._cache:
            wide = self.samples.pivot(index="trial_id", columns="prompt_id", values=column)
            wide = wide.reindex(columns=self.prompt_ids)
            self._cache[key] = wide.astype(float)
        wide = self._cache[key]
        ids = list(self.trials["trial_id"] if trial_ids is None else trial_ids)
        return wide.reindex(index=ids).to_numpy(dtype=float)

    def baseline_vector(self, column: str) -> np.ndarray:
        """(n_prompts,) array of the SFT model's ``column``, in ``prompt_ids`` order."""
        return self.baseline[column].to_numpy(dtype=float)

    @property
    def sft_score(self) -> float:
        return float(self.baseline["score"].mean())


def method_order(methods) -> list[str]:
    known = [m for m in KNOWN_METHODS if m in set(methods)]
    return known + sorted(set(methods) - set(KNOWN_METHODS))


def load_study(path: str | Path) -> Study:
    """Read ``path`` (a ``results/<study>/`` folder), validate it and return a ``Study``."""
    path = Path(path)
    if not path.is_dir():
        raise ResultsError(f"results folder {path} does not exist")
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        raise ResultsError(f"results folder {path} lacks {', '.join(missing)}")
    try:
        meta = json.loads((path / "study.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path / 'study.json'} is not valid JSON: {exc}") from exc
    trials, samples, baseline = (_read_parquet(path / f) for f in FILES[1:])
    trials, samples = own_trials(trials, samples, meta)
    trials, samples, baseline = validate(trials, samples, baseline, where=path)
    return Study(path=path, meta=meta, trials=trials, samples=samples, baseline=baseline)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001  (pyarrow raises many types for a damaged file)
        raise ResultsError(f"{path} is not a readable parquet table ({type(exc).__name__}: "
                           f"{exc})") from exc


def own_trials(trials: pd.DataFrame, samples: pd.DataFrame, meta: dict):
    """The rows of the study's own trials (see the module docstring)."""
    ids, study_hash = meta.get("trial_ids"), meta.get("study_hash")
    if ids is None or study_hash is None or "trial_id" not in trials.columns:
        return trials, samples
    ids = set(ids)
    hashes = trials[STUDY_HASH] if STUDY_HASH in trials.columns else [None] * len(trials)
    keep = [exclusion_reason(t, h, study_hash, ids) is None
            for t, h in zip(trials["trial_id"], hashes)]
    trials = trials[keep].reset_index(drop=True)
    if "trial_id" in samples.columns:
        samples = samples[samples["trial_id"].isin(set(trials["trial_id"]))].reset_index(drop=True)
    return trials, samples


def _require_columns(df: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ResultsError(f"{name} lacks column(s) {missing}")


def validate(trials, samples, baseline, where: str | Path = "results"):
    """Check the tables against the contract; return them canonically sorted."""
    where = Path(where)
    t_name, s_name, b_name = (str(where / f) for f in FILES[1:])
    _require_columns(trials, TRIAL_BASE_COLUMNS, t_name)
    _require_columns(samples, SAMPLE_COLUMNS, s_name)
    _require_columns(baseline, SAMPLE_COLUMNS, b_name)
    if trials.empty:
        raise ResultsError(f"{t_name} has no trials")

    dup = trials["trial_id"][trials["trial_id"].duplicated()]
    if len(dup):
        raise ResultsError(f"{t_name}: duplicate trial_id {sorted(set(dup))[:5]}")
    bad = trials[~trials["status"].isin(STATUSES)]
    if len(bad):
        row = bad.iloc[0]
        raise ResultsError(
            f"{t_name}: trial {row['trial_id']!r} has status {row['status']!r}, "
            f"not one of {STATUSES}"
        )

    wrong = baseline[baseline["trial_id"] != BASELINE_TRIAL_ID]
    if len(wrong):
        raise ResultsError(f"{b_name}: trial_id must be {BASELINE_TRIAL_ID!r}, "
                           f"found {wrong['trial_id'].iloc[0]!r}")
    if baseline["prompt_id"].duplicated().any():
        raise ResultsError(f"{b_name}: duplicate prompt_id")
    if baseline.empty:
        raise ResultsError(f"{b_name} has no rows")
    prompts = set(baseline["prompt_id"])

    unknown = set(samples["trial_id"]) - set(trials["trial_id"])
    if unknown:
        raise ResultsError(
            f"{s_name}: rows for trial(s) not in trials.parquet: {sorted(unknown)[:5]}")
    if samples.duplicated(["trial_id", "prompt_id"]).any():
        row = samples[samples.duplicated(["trial_id", "prompt_id"])].iloc[0]
        raise ResultsError(f"{s_name}: trial {row['trial_id']!r} has prompt "
                           f"{row['prompt_id']!r} twice")
    per_trial = samples.groupby("trial_id")["prompt_id"].agg(set)
    for row in trials.itertuples(index=False):
        got = per_trial.get(row.trial_id)
        if row.status == STATUS_OK:
            if got != prompts:
                n = 0 if got is None else len(got & prompts)
                raise ResultsError(
                    f"{s_name}: ok trial {row.trial_id!r} has samples for {n} of the "
                    f"{len(prompts)} baseline prompts (every ok trial needs all of them)"
                )
        elif got:
            raise ResultsError(f"{s_name}: {row.status} trial {row.trial_id!r} has samples rows")

    trials = trials.copy()
    # The harness writes only the axes of the study's methods; the grid axes this package reads
    # by name are NaN where a study has none of them.
    for axis in GRID_AXES:
        if axis not in trials.columns:
            trials[axis] = np.nan
    order = method_order(trials["method"].unique())
    trials["_order"] = trials["method"].map({m: i for i, m in enumerate(order)})
    trials = (trials.sort_values(["_order", "trial_id"], kind="stable")
              .drop(columns="_order").reset_index(drop=True))
    samples = samples.sort_values(["trial_id", "prompt_id"], kind="stable").reset_index(drop=True)
    baseline = baseline.sort_values("prompt_id", kind="stable").reset_index(drop=True)

    means = samples.groupby("trial_id")["score"].mean()
    for row in trials[trials["status"] == STATUS_OK].itertuples(index=False):
        m = means[row.trial_id]
        if not math.isclose(m, row.mean_score, rel_tol=MEAN_SCORE_TOL, abs_tol=MEAN_SCORE_TOL):
            raise ResultsError(f"{t_name}: trial {row.trial_id!r} has mean_score "
                               f"{row.mean_score!r} but its samples average {m!r}")
    return trials, samples, baseline


def grid_axes(trials: pd.DataFrame) -> list[str]:
    """Hyperparameters that vary over ``trials`` (one method's rows): the axes of its grid.

    SimPO's gamma is an axis as ``gamma_beta_ratio`` when every trial records the ratio (then
    gamma = beta * ratio is not an independent axis), else as the absolute ``gamma``.
    """
    axes = []
    has_ratio = trials["gamma_beta_ratio"].notna().all()
    for axis in GRID_AXES:
        if axis == "gamma" and has_ratio:
            continue
        values = trials[axis].dropna().unique()
        if len(values) > 1:
            axes.append(axis)
    return axes

