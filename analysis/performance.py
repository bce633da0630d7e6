"""The expected-performance distribution: every config's score, per method (Ahrabian et al. 2024).

A method's grid is the distribution a practitioner draws from when they pick hyperparameters
without tuning. Summaries per method: trial counts by status; the share of trials at or below
the SFT model (failed/diverged count as below); the IQM, median and spread of the scores with
failures at the failure floor (``analysis.scores``); the best score. Intervals: prompt bootstrap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import Study
from analysis.poi import iqm
from analysis.scores import ConfigScores
from harness.schema import STATUS_DIVERGED, STATUS_FAILED, STATUS_OK


def share_below(values, target) -> np.ndarray:
    """Share of ``values`` (..., N) at or below ``target`` (...): 1 - P(random config beats it)."""
    values = np.asarray(values, dtype=float)
    return (values <= np.asarray(target, float)[..., None]).mean(axis=-1)


def config_table(study: Study, cs: ConfigScores) -> pd.DataFrame:
    """One row per trial: hyperparameters, status, the model metrics, and ``score`` (the mean
    score with failed/diverged trials at the failure floor) plus its bootstrap interval."""
    point, reps = cs.effective()
    lo, hi = cs.interval(reps)
    out = study.trials.copy()
    out["score"] = point
    out["score_lo"] = lo
    out["score_hi"] = hi
    out["below_sft"] = point <= cs.sft_point
    return out


def performance_table(study: Study, cs: ConfigScores) -> pd.DataFrame:
    """Per method: n_trials, n_ok, n_failed, n_diverged, share_below_sft (+lo/hi), iqm (+lo/hi),
    median, best (+lo/hi), worst_ok, best_trial_id."""
    rows = []
    for m in study.methods:
        point, reps = cs.effective(m)
        status = cs.status[cs.index(m)]
        share = float(share_below(point, cs.sft_point))
        s_lo, s_hi = cs.interval(share_below(reps, cs.sft_reps))
        i_lo, i_hi = cs.interval(iqm(reps, axis=-1))
        b_lo, b_hi = cs.interval(reps.max(axis=-1))
        real = cs.point[cs.index(m)][status == STATUS_OK]
        best_i = int(np.argmax(point))  # first of equals: trials are sorted by trial_id
        rows.append(dict(
            method=m, n_trials=point.size,
            n_ok=int((status == STATUS_OK).sum()),
            n_failed=int((status == STATUS_FAILED).sum()),
            n_diverged=int((status == STATUS_DIVERGED).sum()),
            share_below_sft=share, share_below_sft_lo=float(s_lo), share_below_sft_hi=float(s_hi),
            iqm=float(iqm(point)), iqm_lo=float(i_lo), iqm_hi=float(i_hi),
            median=float(np.median(point)),
            best=float(point.max()), best_lo=float(b_lo), best_hi=float(b_hi),
            worst_ok=float(real.min()) if real.size else np.nan,
            best_trial_id=str(cs.trial_ids[cs.index(m)][best_i]),
        ))
    return pd.DataFrame(rows)
