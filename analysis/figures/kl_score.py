"""Fig. 8 of the paper: per-token KL (a ratio of means) against mean score, one point per config."""

from __future__ import annotations

import pandas as pd

from analysis.style import (SFT_COLOR, Palette, legend_columns, metric_label, new_axes,
                            palette_for, styled)
from harness.schema import STATUS_OK


@styled
def plot_kl_vs_score(configs: pd.DataFrame, sft_score: float, ax=None, x: str = "kl_per_token",
                     palette: Palette | None = None):
    """Scatter of ``x`` (default the config's per-token KL, sum of KL / sum of tokens) vs its
    mean score per completed config (``config_table``), SFT line."""
    methods = list(dict.fromkeys(configs["method"]))
    pal = palette_for(methods, palette)
    fig, ax = new_axes(ax, figsize=(6.4, 4.4))
    ok = configs[configs["status"] == STATUS_OK]
    for m in methods:
        sub = ok[ok["method"] == m]
        ax.scatter(sub[x], sub["mean_score"], s=22, color=pal.color(m), alpha=0.8,
                   edgecolor="white", linewidth=0.4, label=f"{pal.label(m)} ({len(sub)})")
    ax.axhline(sft_score, color=SFT_COLOR, ls="--", lw=1.2, label="SFT model")
    ax.set_xlabel(metric_label(x))
    ax.set_ylabel(metric_label("mean_score"))
    ax.set_title("Drift from SFT and gold score (one point per config; an association)")
    if len(methods) <= 4:
        ax.legend(frameon=False)
    else:
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  ncols=legend_columns(len(methods) + 1))
    return fig
