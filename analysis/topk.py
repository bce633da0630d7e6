"""Top-k% configs by mean score, and the samples of the configs in each bin (the paper's Fig. 2-3).

Ranking: ``mean_score`` descending, failed/diverged trials (no score) last, ties broken by
``trial_id`` ascending, so the order never depends on row order. The top-k% bin of a method with
N trials holds the first ``ceil(k/100 * N)`` of that ranking (at least one). The method's
representative configs (the paper's Table 3): ``best`` = rank 1 and ``top25`` = the config at the
75th percentile, i.e. the last one of the top-25% bin, rank ``ceil(0.25 * N)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.load import Study

DEFAULT_KS = (1, 5, 10, 25)
ROLES = {"best": None, "top25": 25}


def rank_trials(trials: pd.DataFrame, by: str = "mean_score") -> pd.DataFrame:
    """``trials`` (one method) in rank order with a 1-based ``rank`` column."""
    key = trials[by].astype(float).fillna(-np.inf)
    order = pd.DataFrame({"key": -key.to_numpy(), "trial_id": trials["trial_id"].to_numpy()},
                         index=trials.index).sort_values(["key", "trial_id"], kind="stable")
    ranked = trials.loc[order.index].copy()
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    return ranked


def bin_size(n_trials: int, k: float) -> int:
    """``ceil(k% x N)``, at least 1 (``k`` in percent)."""
    return max(1, math.ceil(k / 100.0 * n_trials - 1e-9))


def top_k(trials: pd.DataFrame, k: float, by: str = "mean_score") -> pd.DataFrame:
    """The top ``k``% trials of one method's ``trials`` (``ceil(k% x N)`` rows, rank order)."""
    return rank_trials(trials, by).head(bin_size(len(trials), k))


def representatives(study: Study, by: str = "mean_score") -> pd.DataFrame:
    """Per method the ``best`` and ``top25`` trial. Columns: method, role, trial_id, rank,
    n_trials, mean_score, status, and the hyperparameters."""
    rows = []
    for m in study.methods:
        ranked = rank_trials(study.method_trials(m), by)
        for role, k in ROLES.items():
            r = 1 if k is None else bin_size(len(ranked), k)
            row = ranked.iloc[r - 1].to_dict()
            rows.append({"method": m, "role": role, "n_trials": len(ranked), **row})
    cols = ["method", "role", "trial_id", "rank", "n_trials", "mean_score", "status", "beta",
            "gamma", "gamma_beta_ratio", "learning_rate", "epochs"]
    return pd.DataFrame(rows)[cols]


def top_k_samples(study: Study, ks=DEFAULT_KS, columns=("length", "kl", "kl_per_token"),
                  by: str = "mean_score") -> pd.DataFrame:
    """Samples of the configs in each method's top-k% bin, pooled over prompts.

    Long table: method, k, trial_id, prompt_id, the ``columns``; bins overlap (top 1% is inside
    top 5%). Bin sizes are in ``top_k_counts``.
    """
    frames = []
    for m in study.methods:
        ranked = rank_trials(study.method_trials(m), by)
        for k in ks:
            ids = ranked["trial_id"].head(bin_size(len(ranked), k))
            sel = study.samples[study.samples["trial_id"].isin(ids)]
            frames.append(sel[["trial_id", "prompt_id", *columns]].assign(method=m, k=k))
    out = pd.concat(frames, ignore_index=True)
    return out[["method", "k", "trial_id", "prompt_id", *columns]]


def top_k_counts(study: Study, ks=DEFAULT_KS, by: str = "mean_score") -> pd.DataFrame:
    """Per method and k: n_trials, n_configs (= ceil(k% x N)) and n_with_samples (ok ones)."""
    rows = []
    for m in study.methods:
        ranked = rank_trials(study.method_trials(m), by)
        for k in ks:
            sel = ranked.head(bin_size(len(ranked), k))
            rows.append(dict(method=m, k=k, n_trials=len(ranked), n_configs=len(sel),
                             n_with_samples=int((sel["status"] == "ok").sum())))
    return pd.DataFrame(rows)
