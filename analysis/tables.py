"""The paper's tables as numeric DataFrames (formatting lives in ``analysis.fmt``).

- ``best_config_table``: the best config per method with all model metrics (Table 1 shape):
  the reference method (DPO when present, else the first) in absolute values, the others as
  relative change ``100 * (x - x_ref) / |x_ref|``; ``absolute=True`` gives absolute values.
- ``head_to_head_table``: win rates between methods, best and top-25% configs, raw and LC with
  intervals (Table 3 shape), one row per ordered method pair.
- ``method_table``: per method trials ok / failed / diverged, share below SFT, IQM, best.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import Study
from analysis.topk import representatives
from harness.schema import MODEL_METRICS

TABLE1_METRICS = ("mean_score", "win_vs_chosen", "win_vs_sft", "mean_kl", "mean_kl_per_token",
                  "mean_length")


def best_configs(study: Study) -> pd.DataFrame:
    """The best (rank-1) trial of every method with its hyperparameters and model metrics."""
    reps = representatives(study)
    best = reps[reps["role"] == "best"][["method", "trial_id"]]
    return best.merge(study.trials, on=["method", "trial_id"], how="left")[
        ["method", "trial_id", "status", "beta", "gamma", "gamma_beta_ratio", "learning_rate",
         "epochs", *MODEL_METRICS]].reset_index(drop=True)


def reference_method(study: Study) -> str:
    return "dpo" if "dpo" in study.methods else study.methods[0]


def best_config_table(study: Study, absolute: bool = False,
                      metrics=TABLE1_METRICS) -> pd.DataFrame:
    """Rows: methods; columns: ``metrics``. Relative rows hold % change vs the reference."""
    best = best_configs(study).set_index("method")[list(metrics)].astype(float)
    if absolute:
        return best
    ref = reference_method(study)
    out = best.copy()
    base = best.loc[ref]
    for m in best.index:
        if m == ref:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            out.loc[m] = 100.0 * (best.loc[m] - base) / base.abs()
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
    return performance[["method", "n_trials", "n_ok", "n_failed", "n_diverged",
                        "share_below_sft", "share_below_sft_lo", "share_below_sft_hi",
                        "iqm", "iqm_lo", "iqm_hi", "best", "best_lo", "best_hi",
                        "best_trial_id"]].copy()
