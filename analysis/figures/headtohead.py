"""Head-to-head heatmaps (row beats column), raw and length-controlled, per role."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from analysis.style import Palette, new_axes, new_figure, palette_for, styled

ROLE_TITLES = {"best": "best configs", "top25": "top-25% configs"}


def win_matrix(h2h: pd.DataFrame, role: str, value: str = "raw") -> pd.DataFrame:
    """Square table: rows = model A, columns = model B, cells = ``value`` (win rate of A, %)."""
    sub = h2h[h2h["role"] == role]
    models = list(dict.fromkeys(list(sub["model_a"]) + list(sub["model_b"])))
    models = [m for m in models if m != "sft"] + (["sft"] if "sft" in models else [])
    table = sub.pivot(index="model_a", columns="model_b", values=value)
    return table.reindex(index=models, columns=models)


def _panel(n: int) -> tuple[float, float]:
    side = max(4.0, 0.45 * n + 1.6)
    return side + 0.8, side


@styled
def plot_head_to_head(h2h: pd.DataFrame, role: str = "best", value: str = "raw", ax=None,
                      palette: Palette | None = None):
    """Heatmap of the win rate (%) of the row model over the column model."""
    table = win_matrix(h2h, role, value)
    pal = palette_for([m for m in table.index if m != "sft"], palette)
    fig, ax = new_axes(ax, figsize=_panel(len(table)))
    labels = [pal.label(m) for m in table.index]
    font = 9 if len(table) <= 6 else 7
    sns.heatmap(table.to_numpy(float), annot=True, fmt=".0f", vmin=0, vmax=100, center=50,
                cmap="RdBu_r", cbar_kws={"label": "row wins (%)"}, square=True,
                xticklabels=labels, yticklabels=labels, ax=ax, mask=np.eye(len(table), dtype=bool),
                annot_kws={"fontsize": font})
    for t, m in zip(ax.get_yticklabels(), table.index):
        t.set_color(pal.color(m))
    for t, m in zip(ax.get_xticklabels(), table.columns):
        t.set_color(pal.color(m))
    if len(table) > 6:
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("column model")
    ax.set_ylabel("row model")
    kind = {"raw": "raw win rate", "lc": "length-controlled win rate"}.get(value, value)
    ax.set_title(f"{kind}, {ROLE_TITLES.get(role, role)}")
    return fig


@styled
def plot_head_to_head_grid(h2h: pd.DataFrame, palette: Palette | None = None):
    """Rows: roles present (best, top-25%); columns: raw and length-controlled."""
    roles = list(dict.fromkeys(h2h["role"]))
    n = len(win_matrix(h2h, roles[0])) if roles else 1
    fig, axes = new_figure(max(1, len(roles)), 2, panel=_panel(n))
    for i, role in enumerate(roles):
        for j, value in enumerate(("raw", "lc")):
            plot_head_to_head(h2h, role, value, ax=axes[i, j], palette=palette)
    return fig
