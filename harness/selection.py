"""Which configs a method's grid selects: config scores with the failure floor, the ranking, the
top-k% bins and the representatives ``best`` and ``top25``.

The one definition that ``python -m harness.sweep STUDY --confirm K`` (which configs to re-run
on fresh seeds) and ``analysis.topk`` / ``analysis.scores`` (which configs the report calls best)
use. Pure numpy/pandas: no torch, ray or registries, so the analysis package may import it.

- *Failure floor*: ``min(real) - 0.05 * (max(real) - min(real))`` over the real mean scores of
  the study (every completed grid trial and the SFT model), i.e. strictly below every real model.
- *Config score* (:func:`config_scores`): the mean over the config's grid seeds of their mean
  scores, failed and diverged seeds at the floor; a config none of whose seeds completed has no
  score (NaN) and status of its failures.
- *Ranking* (:func:`rank_configs`): score descending, configs that never completed last, ties
  broken by the config's first ``trial_id`` ascending, so the order never depends on row order.
  Scores are compared at 10 significant digits: the harness (from ``trials.parquet``) and the
  analysis (from the samples) sum the same numbers in another order, and float noise must not
  rank them differently.
- *Bins*: the top-k% of a method's N configs are its first ``ceil(k/100 * N)`` (at least one).
  ``best`` is rank 1; ``top25`` is the config at the 75th percentile, the last of the top-25%
  bin, rank ``ceil(0.25 * N)`` (the paper's Table 3). With N <= 4 they are the same config.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harness.schema import ROLE_GRID, STATUS_OK

FLOOR_MARGIN = 0.05
ROLES = {"best": None, "top25": 25}  # role -> top-k% bin whose last config it is (None: rank 1)
RANK_DIGITS = 10


def failure_floor(values: np.ndarray, extra: np.ndarray | float | None = None) -> np.ndarray:
    """Floor below every finite value along the last axis (and ``extra``, e.g. the SFT score).

    ``values`` (..., C) with NaN for failures; returns (...) floors.
    """
    values = np.asarray(values, dtype=float)
    pool = values if extra is None else np.concatenate(
        [values, np.broadcast_to(np.asarray(extra, float)[..., None], values.shape[:-1] + (1,))],
        axis=-1)
    lo = np.nanmin(pool, axis=-1)
    hi = np.nanmax(pool, axis=-1)
    span = np.where(hi > lo, hi - lo, 1.0)
    return lo - FLOOR_MARGIN * span


def bin_size(n: int, k: float) -> int:
    """``ceil(k% x N)``, at least 1 (``k`` in percent)."""
    return max(1, math.ceil(k / 100.0 * n - 1e-9))


def role_rank(n: int, role: str) -> int:
    """The 1-based rank of ``role`` (a key of :data:`ROLES`) among ``n`` configs."""
    k = ROLES[role]
    return 1 if k is None else bin_size(n, k)


def _rounded(values: pd.Series) -> np.ndarray:
    v = values.astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(np.isfinite(v) & (v != 0),
                         10.0 ** (RANK_DIGITS - 1 - np.floor(np.log10(np.abs(v)))), 1.0)
    return np.where(np.isfinite(v), np.round(v * scale) / scale, v)


def rank_configs(configs: pd.DataFrame, by: str = "score") -> pd.DataFrame:
    """``configs`` (one method; columns ``by``, ``status``, ``trial_id``: the config's first
    trial) in rank order with a 1-based ``rank`` column."""
    key = pd.Series(_rounded(configs[by]), index=configs.index)
    key = key.where(configs["status"] == STATUS_OK, -np.inf)
    order = pd.DataFrame({"key": -key.fillna(-np.inf).to_numpy(),
                          "trial_id": configs["trial_id"].to_numpy()},
                         index=configs.index).sort_values(["key", "trial_id"], kind="stable")
    ranked = configs.loc[order.index].copy()
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    return ranked


def config_scores(trials: pd.DataFrame, sft_score: float) -> pd.DataFrame:
    """One row per config of the grid rows of ``trials`` (columns method, config_id, trial_id,
    status, mean_score; a ``role`` column, when present, keeps role "grid" only): method,
    config_id, trial_id (its first), n_seeds, n_ok, status ("ok" when a seed completed, else the
    commonest failure) and score (module docstring). ``sft_score``: the SFT model's mean score."""
    grid = trials if "role" not in trials else trials[trials["role"] == ROLE_GRID]
    ok = (grid["status"] == STATUS_OK).to_numpy()
    real = grid["mean_score"].astype(float).to_numpy()
    floor = float(failure_floor(np.where(ok, real, np.nan), sft_score))
    grid = grid.assign(_score=np.where(ok, real, floor), _ok=ok)
    rows = []
    for config_id, g in grid.groupby("config_id", sort=False):
        statuses = g["status"]
        n_ok = int(g["_ok"].sum())
        status = STATUS_OK if n_ok else str(statuses.value_counts().index[0])
        rows.append({"method": g["method"].iloc[0], "config_id": config_id,
                     "trial_id": g["trial_id"].min(), "n_seeds": len(g), "n_ok": n_ok,
                     "status": status, "score": float(g["_score"].mean()) if n_ok else np.nan})
    return pd.DataFrame(rows, columns=["method", "config_id", "trial_id", "n_seeds", "n_ok",
                                       "status", "score"])


def selected(configs: pd.DataFrame) -> pd.DataFrame:
    """Per method (in order of appearance) and role of :data:`ROLES`: method, role, config_id,
    rank, n_configs. ``configs``: :func:`config_scores` rows (or analysis' config table)."""
    rows = []
    for method in dict.fromkeys(configs["method"]):
        ranked = rank_configs(configs[configs["method"] == method])
        for role in ROLES:
            r = role_rank(len(ranked), role)
            rows.append({"method": method, "role": role,
                         "config_id": ranked["config_id"].iloc[r - 1], "rank": r,
                         "n_configs": len(ranked)})
    return pd.DataFrame(rows, columns=["method", "role", "config_id", "rank", "n_configs"])
