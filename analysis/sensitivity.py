"""Hyperparameter sensitivity: a metric by each hyperparameter value, spread over the others
(the paper's Figs. 4-7), and 2-D tables such as beta x learning_rate.

Each config contributes its ``score`` (mean score with failed/diverged trials at the failure
floor, ``analysis.performance.config_table``) or, for other metrics, its value when ok (failed
trials have none and are counted in ``n_failed``/``n_diverged`` instead).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import grid_axes
from harness.schema import STATUS_DIVERGED, STATUS_FAILED

AGGREGATES = ("mean", "median", "min", "max")


def sensitivity_table(configs: pd.DataFrame, method: str, param: str,
                      metric: str = "score") -> pd.DataFrame:
    """Per value of ``param`` in ``method``'s configs: n, n_failed, n_diverged and the mean,
    median, min and max of ``metric`` over the configs with that value (NaNs skipped).

    ``configs``: ``config_table(study, cs)`` (any table with method, status, param, metric).
    """
    rows = configs[configs["method"] == method]
    if rows.empty:
        raise KeyError(f"no configs of method {method!r}")
    if param not in rows or rows[param].isna().all():
        raise KeyError(f"method {method!r} has no values of {param!r}")
    grouped = rows.groupby(param, sort=True)
    out = grouped[metric].agg(list(AGGREGATES))
    out.insert(0, "n", grouped.size())
    out.insert(1, "n_failed", grouped["status"].agg(lambda s: int((s == STATUS_FAILED).sum())))
    out.insert(2, "n_diverged", grouped["status"].agg(lambda s: int((s == STATUS_DIVERGED).sum())))
    return out.reset_index()


def grid_table(configs: pd.DataFrame, method: str, rows: str = "beta",
               cols: str = "learning_rate", metric: str = "score",
               agg: str = "mean") -> pd.DataFrame:
    """2-D table of ``agg`` of ``metric`` over the other hyperparameters, ``rows`` x ``cols``."""
    if agg not in AGGREGATES:
        raise ValueError(f"agg must be one of {AGGREGATES}, got {agg!r}")
    sub = configs[configs["method"] == method]
    for p in (rows, cols):
        if p not in sub or sub[p].isna().all():
            raise KeyError(f"method {method!r} has no values of {p!r}")
    return sub.pivot_table(index=rows, columns=cols, values=metric, aggfunc=agg)


def sensitivity_params(configs: pd.DataFrame, method: str) -> list[str]:
    """Hyperparameters worth a sensitivity panel for ``method``: its grid axes, plus the absolute
    ``gamma`` when SimPO's axis is gamma/beta (the paper plots score against gamma)."""
    sub = configs[configs["method"] == method]
    axes = grid_axes(sub)
    if "gamma_beta_ratio" in axes and sub["gamma"].nunique() > 1:
        axes.insert(axes.index("gamma_beta_ratio") + 1, "gamma")
    return axes


def value_spread(configs: pd.DataFrame, method: str, param: str, metric: str = "score") -> float:
    """Range over the values of ``param`` of the per-value median of ``metric``: how much
    choosing this hyperparameter alone moves the typical config."""
    table = sensitivity_table(configs, method, param, metric)
    med = table["median"].to_numpy(float)
    return float(np.nanmax(med) - np.nanmin(med)) if med.size else np.nan
