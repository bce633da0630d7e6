"""The leaderboard: every trial of the study (grid and confirmation rows, failed ones too) with
every axis and metric, best mean score first; the HTML makes it sortable by any column.

Values are trials.parquet's own columns (``kl_per_token`` as ``analysis.load`` recomputes it: a
ratio of means), formatted with ``analysis.fmt``; nothing is estimated here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import fmt
from analysis.analyze import StudyAnalysis
from analysis.performance import axis_columns
from analysis.style import fmt_value

# (trials.parquet column, header, digits); a column every study has
METRICS = (("mean_score", "mean score", 3), ("win_vs_sft", "win vs SFT", 3),
           ("win_vs_chosen", "win vs chosen", 3), ("mean_kl", "KL (nats)", 2),
           ("kl_per_token", "per-token KL", 4), ("mean_length", "length", 1),
           ("time_total_s", "time (s)", 0))


def leaderboard(a: StudyAnalysis) -> pd.DataFrame:
    """One row of strings per trial: trial, method, role, seed, the axes (named as in the YAML;
    blank where a method lacks one), status, the metrics, GPU-hours when any trial used a GPU.
    Order: mean score descending, trials without one last, ties by trial id."""
    t = a.study.trials
    key = t["mean_score"].astype(float).fillna(-np.inf)
    t = t.assign(_key=-key).sort_values(["_key", "trial_id"], kind="stable")
    axes = axis_columns(a.study)
    out = pd.DataFrame({"rank": np.arange(1, len(t) + 1), "trial": t["trial_id"].to_numpy(),
                        "method": t["method"].map(a.palette.label).to_numpy(),
                        "role": t["role"].to_numpy(), "seed": t["seed"].map(fmt_value).to_numpy()})
    for ax in axes:
        out[ax] = [("" if pd.isna(v) else fmt_value(v)) for v in t[ax]]
    out["status"] = t["status"].to_numpy()
    for col, header, digits in METRICS:
        name = header
        if col == "mean_kl" and not a.study.kl_exact:
            name = "KL, sampled estimate (nats)"
        out[name] = [fmt.num(v, digits) for v in t[col].astype(float)]
    gpu = t["gpu_hours"].astype(float) if "gpu_hours" in t else pd.Series(dtype=float)
    if (gpu > 0).any():
        out["GPU-hours"] = [fmt.num(v, 3) for v in gpu]
    return out
