"""Hyperparameter sensitivity: a metric by each value of an axis, spread over the other axes
(the paper's Figs. 4-7), and 2-D tables of two axes.

Each config contributes its ``score`` (its seeds' mean score, failed/diverged seeds at the
failure floor, ``analysis.performance.config_table``) or, for other metrics, its value over the
completed seeds (failed trials have none and are counted in ``n_failed``/``n_diverged``).
The axes are the method's (``analysis.methods.MethodInfo``), never named here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.methods import MethodInfo
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
    for i, (col, status) in enumerate((("n_failed", STATUS_FAILED),
                                       ("n_diverged", STATUS_DIVERGED)), start=1):
        if col in rows:  # a config table counts failed seeds per config
            out.insert(i, col, grouped[col].sum().astype(int))
        else:
            out.insert(i, col, grouped["status"].agg(lambda s, st=status: int((s == st).sum())))
    return out.reset_index()


def grid_table(configs: pd.DataFrame, method: str, rows: str, cols: str,
               metric: str = "score", agg: str = "mean") -> pd.DataFrame:
    """2-D table of ``agg`` of ``metric`` over the other hyperparameters, ``rows`` x ``cols``."""
    if agg not in AGGREGATES:
        raise ValueError(f"agg must be one of {AGGREGATES}, got {agg!r}")
    sub = configs[configs["method"] == method]
    for p in (rows, cols):
        if p not in sub or sub[p].isna().all():
            raise KeyError(f"method {method!r} has no values of {p!r}")
    return sub.pivot_table(index=rows, columns=cols, values=metric, aggfunc=agg)


def sensitivity_params(info: MethodInfo, configs: pd.DataFrame) -> list[str]:
    """Axes worth a sensitivity panel for ``info``'s method: every axis whose values vary over
    its configs, derived ones included (the paper plots SimPO's score against the absolute
    gamma as well as against gamma/beta), in display order."""
    sub = configs[configs["method"] == info.name]
    return [a.name for a in info.varying(sub, derived=True)]


def value_spread(configs: pd.DataFrame, method: str, param: str, metric: str = "score") -> float:
    """Range over the values of ``param`` of the per-value median of ``metric``: how much
    choosing this hyperparameter alone moves the typical config."""
    table = sensitivity_table(configs, method, param, metric)
    med = table["median"].to_numpy(float)
    return float(np.nanmax(med) - np.nanmin(med)) if med.size else np.nan


def top_two_axes(importances: pd.DataFrame, method: str, axes: list[str]) -> tuple | None:
    """The two of ``axes`` (``method``'s grid axes, display order) with the highest mean
    importance over the evaluators (``importance_table``), kept in display order: the rows and
    columns of its 2-D table. The first two axes when fewer than two importances exist; None
    for a grid with fewer than two axes."""
    if len(axes) < 2:
        return None
    imp = importances[importances["method"] == method]
    mean = imp.groupby("param")["importance"].mean().reindex(axes)
    if mean.notna().sum() >= 2:
        top = set(mean.sort_values(ascending=False, kind="stable").index[:2])
        pair = [a for a in axes if a in top]
    else:
        pair = list(axes[:2])
    return pair[0], pair[1]
