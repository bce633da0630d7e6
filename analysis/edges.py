"""Warnings when a selected config sits on the edge of its grid.

A best config (or a recommended start) at the smallest or largest value of an axis says the
grid may have stopped before the optimum: the score might keep rising beyond it. For every
method, its best config (grid rank 1) and its recommended start are checked on each grid axis
with at least ``MIN_VALUES`` values (with two values every config is on an edge, so the
position says nothing); derived axes are skipped, they move with the axes they derive from.
"""

from __future__ import annotations

import pandas as pd

from analysis.load import Study
from analysis.style import fmt_value

MIN_VALUES = 3
WHICH = {"best": "best config", "start": "recommended start"}


def edge_warnings(study: Study, configs: pd.DataFrame, reps: pd.DataFrame,
                  starts: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, axis) where the best config or the recommended start sits on an
    edge. Columns: method, which ("best", "start" or "best, start"), config_id, axis, label,
    value, side ("lowest" | "highest"), grid_values (sorted), advice (e.g. "extend β above
    0.5")."""
    rows = []
    for m in study.methods:
        sub = configs[configs["method"] == m]
        selected = {}
        best = reps[(reps["method"] == m) & (reps["role"] == "best")]
        if len(best):
            selected.setdefault(best["config_id"].iloc[0], []).append("best")
        start = starts[starts["method"] == m]
        if len(start) and isinstance(start["config_id"].iloc[0], str):
            selected.setdefault(start["config_id"].iloc[0], []).append("start")
        for config_id, which in selected.items():
            row = sub[sub["config_id"] == config_id]
            if row.empty:
                continue
            row = row.iloc[0]
            for axis in study.info(m).varying(sub):
                values = sorted(sub[axis.name].dropna().unique())
                if len(values) < MIN_VALUES or pd.isna(row[axis.name]):
                    continue
                v = row[axis.name]
                if v not in (values[0], values[-1]):
                    continue
                side = "lowest" if v == values[0] else "highest"
                direction = "below" if side == "lowest" else "above"
                rows.append(dict(method=m, which=", ".join(which), config_id=config_id,
                                 axis=axis.name, label=axis.text, value=v, side=side,
                                 grid_values=values,
                                 advice=f"extend {axis.text} {direction} {fmt_value(v)}"))
    return pd.DataFrame(rows, columns=["method", "which", "config_id", "axis", "label",
                                       "value", "side", "grid_values", "advice"])
