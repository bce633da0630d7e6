"""Head-to-head heatmaps (row beats column), raw and length-controlled, per role."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from analysis.style import method_color, method_label, new_axes, new_figure, styled

ROLE_TITLES = {"best": "best configs", "top25": "top-25% configs"}


def win_matrix(h2h: pd.DataFrame, role: str, value: str = "raw") -> pd.DataFrame:
    """Square table: rows = model A, columns = model B, cells = ``value`` (win rate of A, %)."""
    sub = h2h[h2h["role"] == role]
    models = list(dict.fromkeys(list(sub["model_a"]) + list(sub["model_b"])))
    models = [m for m in models if m != "sft"] + (["sft"] if "sft" in models else [])
    table = sub.pivot(index="model_a", columns="model_b", values=value)
    return table.reindex(index=models, columns=models)


@styled
def plot_head_to_head(h2h: pd.DataFrame, role: str = "best", value: str = "raw", ax=None):
    """Heatmap of the win rate (%) of the row model over the column model."""
    fig, ax = new_axes(ax, figsize=(4.8, 4.0))
    table = win_matrix(h2h, role, value)
    labels = [method_label(m) for m in table.index]
    sns.heatmap(table.to_numpy(float), annot=True, fmt=".0f", vmin=0, vmax=100, center=50,
                cmap="RdBu_r", cbar_kws={"label": "row wins (%)"}, square=True,
                xticklabels=labels, yticklabels=labels, ax=ax, mask=np.eye(len(table), dtype=bool),
                annot_kws={"fontsize": 9})
    for t, m in zip(ax.get_yticklabels(), table.index):
        t.set_color(method_color(m))
    for t, m in zip(ax.get_xticklabels(), table.columns):
        t.set_color(method_color(m))
    ax.set_xlabel("column model")
    ax.set_ylabel("row model")
    kind = {"raw": "raw win rate", "lc": "length-controlled win rate"}.get(value, value)
    ax.set_title(f"{kind}, {ROLE_TITLES.get(role, role)}")
    return fig


@styled
def plot_head_to_head_grid(h2h: pd.DataFrame):
    """Rows: roles present (best, top-25%); columns: raw and length-controlled."""
    roles = list(dict.fromkeys(h2h["role"]))
    fig, axes = new_figure(max(1, len(roles)), 2, panel=(4.8, 4.0))
    for i, role in enumerate(roles):
        for j, value in enumerate(("raw", "lc")):
            plot_head_to_head(h2h, role, value, ax=axes[i, j])
    return fig
