"""Fig. 8 of the paper: mean per-token KL against mean score, one point per config."""

from __future__ import annotations

import pandas as pd

from analysis.style import (SFT_COLOR, method_color, method_label, metric_label, new_axes,
                            styled)
from harness.schema import STATUS_OK


@styled
def plot_kl_vs_score(configs: pd.DataFrame, sft_score: float, ax=None,
                     x: str = "mean_kl_per_token"):
    """Scatter of ``x`` (default mean per-token KL) vs mean score per ok config, SFT line."""
    fig, ax = new_axes(ax, figsize=(6.4, 4.4))
    ok = configs[configs["status"] == STATUS_OK]
    for m in dict.fromkeys(configs["method"]):
        sub = ok[ok["method"] == m]
        ax.scatter(sub[x], sub["mean_score"], s=22, color=method_color(m), alpha=0.8,
                   edgecolor="white", linewidth=0.4, label=f"{method_label(m)} ({len(sub)})")
    ax.axhline(sft_score, color=SFT_COLOR, ls="--", lw=1.2, label="SFT model")
    ax.set_xlabel(metric_label(x))
    ax.set_ylabel(metric_label("mean_score"))
    ax.set_title("Drift from SFT vs gold score (one point per config)")
    ax.legend(frameon=False)
    return fig
