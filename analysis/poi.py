"""Probability of improvement and the IQM (Agarwal et al. 2021, rliable).

``P(X > Y) = mean over all pairs (x, y) of 1[x > y] + 0.5 * 1[x = y]``, per task, averaged over
tasks. Here X and Y are the configs of two methods and the single task is the eval set, so PoI is
the chance that a config drawn at random from method A's grid scores above one drawn from B's.
A config's score is its seeds' mean; configs that never completed sit at the failure floor (two
failures tie). ``IQM = trim_mean(x, 0.25)``. Intervals come from the shared hierarchical
bootstrap over seeds and prompts (``analysis.scores``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import trim_mean

from analysis.scores import ConfigScores


def probability_of_improvement(x, y) -> float | np.ndarray:
    """P(X > Y) for scores ``x`` (n_x,) or (n_x, T) and ``y`` (n_y,) or (n_y, T).

    Leading batch axes are allowed: (..., n_x[, T]) against (..., n_y[, T]) when both carry the
    task axis; 1-D inputs mean one task. Returns the mean over tasks.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x, y = x[:, None], y[:, None]
    gt = (x[..., :, None, :] > y[..., None, :, :]).mean(axis=(-3, -2))
    eq = (x[..., :, None, :] == y[..., None, :, :]).mean(axis=(-3, -2))
    p = (gt + 0.5 * eq).mean(axis=-1)
    return float(p) if np.ndim(p) == 0 else p


def iqm(x, axis: int = -1):
    """Interquartile mean: the mean of the middle 50% (``scipy.stats.trim_mean(x, 0.25)``)."""
    return trim_mean(np.asarray(x, dtype=float), 0.25, axis=axis)


def poi_table(cs: ConfigScores) -> pd.DataFrame:
    """PoI of every ordered method pair, and of each method over the SFT model.

    Columns: method_a, method_b ("sft" for the SFT model), poi, lo, hi.
    """
    methods = list(dict.fromkeys(cs.methods))
    rows = []
    for a in methods:
        pa, ra = cs.effective(a)
        for b in methods + ["sft"]:
            if b == "sft":
                pb, rb = np.array([cs.sft_point]), cs.sft_reps[:, None]
            else:
                pb, rb = cs.effective(b)
            est = probability_of_improvement(pa, pb)
            reps = probability_of_improvement(ra[..., None], rb[..., None])
            lo, hi = cs.interval(reps)
            rows.append(dict(method_a=a, method_b=b, poi=est, lo=float(lo), hi=float(hi)))
    return pd.DataFrame(rows)
