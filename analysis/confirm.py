"""Confirmation runs: fresh-seed estimates of the configs the grid selected (winner's curse).

Picking each method's best config as the rank-1 of N grid configs and reporting its grid score
uses the same noise twice: the selection favours configs whose seeds and prompts happened to be
lucky, so the grid score of the winner is biased upwards (the winner's curse). Confirmation runs
(``role == "confirm"``: the selected configs re-trained on fresh seeds, ``python -m
harness.sweep STUDY --confirm K``) separate the two: the grid rows select, the confirmation rows
estimate. ``estimate_trials`` says which rows estimate a selected config; ``confirmation_table``
sets the grid score of each selected config beside its confirmed score, with hierarchical
bootstrap intervals on the shared prompt resamples, so ``shift = confirmed - grid`` estimates
the selection bias (negative when the grid flattered the winner).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import Study
from analysis.scores import ConfigScores, model_vectors
from harness.schema import STATUS_OK

SOURCE_CONFIRM = "confirm"
SOURCE_GRID = "grid"


def estimate_trials(study: Study, config_id: str) -> tuple[str, list[str]]:
    """The completed trials that estimate ``config_id``: its confirmation runs when it has
    completed ones (source "confirm"), else its completed grid seeds (source "grid")."""
    t = study.trials
    rows = t[(t["config_id"] == config_id) & (t["status"] == STATUS_OK)]
    confirm = rows[rows["role"] == SOURCE_CONFIRM]
    if len(confirm):
        return SOURCE_CONFIRM, list(confirm["trial_id"])
    return SOURCE_GRID, list(rows.loc[rows["role"] == SOURCE_GRID, "trial_id"])


def model_score(study: Study, trial_ids, cs: ConfigScores, key: str) -> tuple[float, np.ndarray]:
    """Mean score of a model made of ``trial_ids`` (replicates) and its (B,) hierarchical
    bootstrap replicates on ``cs``'s prompt resamples."""
    point, reps = model_vectors(study, trial_ids, "score", cs, key)
    n = cs.weights.sum(axis=1)
    if reps is None:
        return float(point.mean()), cs.weights @ point / n
    return float(point.mean()), (cs.weights * reps).sum(axis=1) / n


def has_confirmations(study: Study) -> bool:
    return bool((study.confirm["status"] == STATUS_OK).any())


def confirmation_table(study: Study, cs: ConfigScores, reps: pd.DataFrame) -> pd.DataFrame:
    """Per representative (``analysis.topk.representatives``: method, role, config_id): n_grid
    (completed grid seeds), grid (+lo/hi: its grid score), n_confirm (completed confirmation
    runs), confirm (+lo/hi), shift = confirm - grid (+lo/hi, paired on prompts; NaN without
    confirmations) and source (what Table 1 and the head-to-heads use)."""
    rows = []
    index = {c: i for i, c in enumerate(cs.config_ids)}
    for r in reps.itertuples():
        c = index[r.config_id]
        g_point = cs.point[c]
        g_reps = cs.reps[:, c]
        g_lo, g_hi = cs.interval(g_reps) if np.isfinite(g_point) else (np.nan, np.nan)
        t = study.trials
        ok = t[(t["config_id"] == r.config_id) & (t["status"] == STATUS_OK)]
        conf = ok[ok["role"] == SOURCE_CONFIRM]["trial_id"].tolist()
        row = dict(method=r.method, role=r.role, config_id=r.config_id,
                   n_grid=int((ok["role"] == SOURCE_GRID).sum()), grid=g_point, grid_lo=g_lo,
                   grid_hi=g_hi, n_confirm=len(conf), confirm=np.nan, confirm_lo=np.nan,
                   confirm_hi=np.nan, shift=np.nan, shift_lo=np.nan, shift_hi=np.nan,
                   source=SOURCE_CONFIRM if conf else SOURCE_GRID)
        if conf:
            point, c_reps = model_score(study, conf, cs, f"confirm:{r.config_id}")
            c_lo, c_hi = cs.interval(c_reps)
            row.update(confirm=point, confirm_lo=float(c_lo), confirm_hi=float(c_hi))
            if np.isfinite(g_point):
                s_lo, s_hi = cs.interval(c_reps - g_reps)
                row.update(shift=point - g_point, shift_lo=float(s_lo), shift_hi=float(s_hi))
        rows.append(row)
    return pd.DataFrame(rows, columns=[
        "method", "role", "config_id", "n_grid", "grid", "grid_lo", "grid_hi", "n_confirm",
        "confirm", "confirm_lo", "confirm_hi", "shift", "shift_lo", "shift_hi", "source"])
