"""The expected-performance distribution: every config's score, per method (Ahrabian et al. 2024).

A method's grid is the distribution a practitioner draws from when they pick hyperparameters
without tuning. A config's score is the mean of its training seeds' mean scores (failed seeds at
the failure floor, ``analysis.scores``). Summaries per method: config and trial counts by status;
the share of trials ((config, seed) pairs: what one run of a user's gives) at or below the SFT
model (failed/diverged count as below); the IQM, median and spread of the config scores; the
best config. Intervals: the hierarchical seed-and-prompt bootstrap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import Study
from analysis.poi import iqm
from analysis.scores import ConfigScores, grid_order
from harness.schema import STATUS_DIVERGED, STATUS_FAILED, STATUS_OK, below_sft, share_below_sft

# Per-config metrics: the mean over the config's completed seeds (kl_per_token: a ratio of
# means, see ``config_metrics``).
CONFIG_METRICS = ("mean_score", "win_vs_chosen", "win_vs_sft", "mean_kl", "kl_per_token",
                  "mean_kl_sample", "mean_length", "length_logp_spearman")


def share_below(values, target) -> np.ndarray:
    """Share of ``values`` (..., N) below ``target`` (...) by the one definition of below SFT
    (:func:`harness.schema.below_sft`: at or below; failures enter at the floor, below):
    1 - P(random draw beats it)."""
    return share_below_sft(values, np.asarray(target, float)[..., None])


def axis_columns(study: Study) -> list[str]:
    """Every axis column of the study's methods (their union, display order)."""
    return list(dict.fromkeys(a for i in study.infos.values() for a in i.names
                              if a in study.trials.columns))


def config_metrics(trials: pd.DataFrame) -> dict:
    """Metrics of a config (or a model) from its trials: the mean over the completed ones;
    ``kl_per_token`` = sum of kl / sum of length over all their responses (trials of one study
    have equally many responses, so it is the length-weighted mean of their ratios)."""
    ok = trials[trials["status"] == STATUS_OK]
    out = {c: float(ok[c].mean()) if c in ok and len(ok) else np.nan for c in CONFIG_METRICS}
    if len(ok) and ok["mean_length"].sum() > 0:
        out["kl_per_token"] = float((ok["kl_per_token"] * ok["mean_length"]).sum()
                                    / ok["mean_length"].sum())
    return out


def config_table(study: Study, cs: ConfigScores) -> pd.DataFrame:
    """One row per grid config (``cs`` order): method, config_id, trial_id (its first trial),
    the axis values, n_seeds, n_ok, n_failed, n_diverged, status ("ok" when a seed completed),
    error (the first), seed_sd (SD of its seeds' mean scores), the metrics (``CONFIG_METRICS``),
    ``score`` (failures at the floor) with its interval, and below_sft."""
    grid = grid_order(study)
    axes = axis_columns(study)
    point, reps = cs.effective()
    lo, hi = cs.interval(reps)
    rows = []
    for c, g in grid.groupby("_config", sort=True):
        status = g["status"]
        first = g.iloc[0]
        errors = g["error"].dropna()
        ok_scores = g.loc[status == STATUS_OK, "mean_score"]
        rows.append({
            "method": first["method"], "config_id": first["config_id"],
            "trial_id": first["trial_id"], **{a: first[a] for a in axes},
            "n_seeds": len(g), "n_ok": int((status == STATUS_OK).sum()),
            "n_failed": int((status == STATUS_FAILED).sum()),
            "n_diverged": int((status == STATUS_DIVERGED).sum()),
            "status": cs.status[c], "error": errors.iloc[0] if len(errors) else None,
            "seed_sd": float(ok_scores.std(ddof=1)) if len(ok_scores) > 1 else np.nan,
            **config_metrics(g),
        })
    out = pd.DataFrame(rows)
    if list(out["config_id"]) != list(cs.config_ids):
        raise ValueError("config_table: ConfigScores was built on another study")
    out["score"] = point
    out["score_lo"] = lo
    out["score_hi"] = hi
    out["below_sft"] = below_sft(point, cs.sft_point)
    return out


def performance_table(study: Study, cs: ConfigScores) -> pd.DataFrame:
    """Per method: n_configs, n_seeds (most seeds of a config), n_trials, n_ok, n_failed,
    n_diverged (trials), share_below_sft (+lo/hi; of trials, failures below), iqm (+lo/hi) and
    median of the config scores, best (+lo/hi: the best config's score), worst_ok,
    best_config_id, best_trial_id (the best config's first trial)."""
    rows = []
    for m in study.methods:
        point, reps = cs.effective(m)
        tpoint, treps = cs.effective_trials(m)
        idx = cs.index(m)
        tstatus = cs.trial_status[cs.trial_index(m)]
        share = float(share_below(tpoint, cs.sft_point))
        s_lo, s_hi = cs.interval(share_below(treps, cs.sft_reps))
        i_lo, i_hi = cs.interval(iqm(reps, axis=-1))
        b_lo, b_hi = cs.interval(reps.max(axis=-1))
        real = cs.point[idx][cs.ok[idx]]
        best_i = int(np.argmax(point))  # first of equals: configs are in trial_id order
        best_config = idx[best_i]
        rows.append(dict(
            method=m, n_configs=point.size, n_seeds=int(cs.n_seeds[idx].max()),
            n_trials=tpoint.size,
            n_ok=int((tstatus == STATUS_OK).sum()),
            n_failed=int((tstatus == STATUS_FAILED).sum()),
            n_diverged=int((tstatus == STATUS_DIVERGED).sum()),
            share_below_sft=share, share_below_sft_lo=float(s_lo), share_below_sft_hi=float(s_hi),
            iqm=float(iqm(point)), iqm_lo=float(i_lo), iqm_hi=float(i_hi),
            median=float(np.median(point)),
            best=float(point.max()), best_lo=float(b_lo), best_hi=float(b_hi),
            worst_ok=float(real.min()) if real.size else np.nan,
            best_config_id=str(cs.config_ids[best_config]),
            best_trial_id=str(cs.trial_ids[cs.config_trials(best_config)[0]]),
        ))
    return pd.DataFrame(rows)
