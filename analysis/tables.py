"""The paper's tables as numeric DataFrames (formatting lives in ``analysis.fmt``).

- ``best_configs`` / ``best_config_table``: the best config per method with the model metrics
  (Table 1 shape): the reference method (the study's first) in absolute values, the others as
  relative change ``100 * (x - x_ref) / |x_ref|``; ``absolute=True`` gives absolute values.
  The grid selects the config; its metrics come from its confirmation runs when the study has
  them, else from its grid seeds (then they are selection-biased: ``analysis.confirm``).
- ``head_to_head_table``: win rates between methods, best and top-25% configs, raw and LC with
  intervals (Table 3 shape), one row per ordered method pair.
- ``method_table``: per method trials ok / failed / diverged, share below SFT, IQM, best.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.confirm import estimate_trials
from analysis.load import Study
from analysis.performance import config_metrics

TABLE1_METRICS = ("mean_score", "win_vs_chosen", "win_vs_sft", "mean_kl", "kl_per_token",
                  "mean_length")


def best_configs(study: Study, reps: pd.DataFrame) -> pd.DataFrame:
    """The best config of every method (``reps``: ``analysis.topk.representatives``) with its
    axis values and model metrics estimated from ``estimate_trials``: columns method,
    config_id, trial_id, status, source ("confirm" | "grid"), n_runs, the axes, the metrics."""
    best = reps[reps["role"] == "best"]
    axes = [c for c in reps.columns if c not in ("method", "role", "config_id", "trial_id",
                                                  "rank", "n_configs", "score", "n_seeds",
                                                  "status")]
    rows = []
    for r in best.to_dict("records"):
        source, ids = estimate_trials(study, r["config_id"])
        trials = study.trials[study.trials["trial_id"].isin(ids)]
        rows.append({"method": r["method"], "config_id": r["config_id"],
                     "trial_id": r["trial_id"], "status": r["status"], "source": source,
                     "n_runs": len(ids), **{a: r[a] for a in axes}, **config_metrics(trials)})
    return pd.DataFrame(rows)


def reference_method(methods) -> str:
    """Table 1's reference row: the study's first method."""
    return list(methods)[0]


def best_config_table(best: pd.DataFrame, absolute: bool = False,
                      metrics=TABLE1_METRICS) -> pd.DataFrame:
    """Rows: methods (``best``: ``best_configs``); columns: ``metrics``. Relative rows hold %
    change vs the reference."""
    table = best.set_index("method")[list(metrics)].astype(float)
    if absolute:
        return table
    ref = reference_method(table.index)
    out = table.copy()
    base = table.loc[ref]
    for m in table.index:
        if m == ref:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            out.loc[m] = 100.0 * (table.loc[m] - base) / base.abs()
    return out


def head_to_head_table(h2h: pd.DataFrame, include_sft: bool = False) -> pd.DataFrame:
    """Ordered pairs (model_a, model_b) x {best, top25} x {raw, lc} with lo/hi.

    Columns: model_a, model_b, then for role in (best, top25): ``{role}_raw``,
    ``{role}_raw_lo``, ``{role}_raw_hi``, ``{role}_lc``, ``{role}_lc_lo``, ``{role}_lc_hi``.
    """
    sub = h2h if include_sft else h2h[(h2h["model_a"] != "sft") & (h2h["model_b"] != "sft")]
    wide = None
    for role in dict.fromkeys(sub["role"]):
        part = sub[sub["role"] == role][["model_a", "model_b", "raw", "raw_lo", "raw_hi", "lc",
                                         "lc_lo", "lc_hi"]]
        part = part.rename(columns={c: f"{role}_{c}" for c in part.columns[2:]})
        wide = part if wide is None else wide.merge(part, on=["model_a", "model_b"], how="outer")
    if wide is None:
        return pd.DataFrame(columns=["model_a", "model_b"])
    return wide.reset_index(drop=True)


def method_table(performance: pd.DataFrame) -> pd.DataFrame:
    """The per-method summary (``performance_table``) restricted to the report's columns."""
    return performance[["method", "n_configs", "n_seeds", "n_trials", "n_ok", "n_failed",
                        "n_diverged",
                        "share_below_sft", "share_below_sft_lo", "share_below_sft_hi",
                        "iqm", "iqm_lo", "iqm_hi", "best", "best_lo", "best_hi",
                        "best_trial_id"]].copy()
