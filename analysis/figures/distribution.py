"""Fig. 1: the expected-performance distribution, every config's mean score per method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from analysis.style import (FAILED_COLOR, SFT_COLOR, method_color, method_label, metric_label,
                            new_axes, palette, styled)
from harness.schema import STATUS_OK


@styled
def plot_performance_distribution(configs: pd.DataFrame, sft_score: float, floor: float,
                                  ax=None):
    """Violin + points of each method's config scores (``config_table``), the SFT line, and
    failed/diverged trials as red crosses at the failure floor (their count under the name)."""
    fig, ax = new_axes(ax, figsize=(6.4, 4.4))
    methods = list(dict.fromkeys(configs["method"]))
    ok = configs[configs["status"] == STATUS_OK]
    order = [method_label(m) for m in methods]
    data = ok.assign(name=ok["method"].map(method_label))
    pal = {method_label(m): c for m, c in palette(methods).items()}
    if len(data):
        sns.violinplot(data=data, x="name", y="score", hue="name", order=order, palette=pal,
                       inner=None, cut=0, density_norm="width", linewidth=0.8, ax=ax,
                       legend=False, alpha=0.35)
        sns.stripplot(data=data, x="name", y="score", hue="name", order=order, palette=pal,
                      size=3.5, jitter=0.18, ax=ax, legend=False, edgecolor="white",
                      linewidth=0.3)
    labelled = False
    for i, m in enumerate(methods):
        bad = configs[(configs["method"] == m) & (configs["status"] != STATUS_OK)]
        if len(bad):
            ax.scatter(i + np.linspace(-0.15, 0.15, len(bad)), np.full(len(bad), floor),
                       marker="x", color=FAILED_COLOR, s=30, zorder=5,
                       label=None if labelled else "failed / diverged (at floor)")
            labelled = True
    ax.axhline(sft_score, color=SFT_COLOR, ls="--", lw=1.2, label=f"SFT model ({sft_score:.3g})")
    ticks = []
    for m in methods:
        sub = configs[configs["method"] == m]
        n_bad = int((sub["status"] != STATUS_OK).sum())
        ticks.append(f"{method_label(m)}\n{len(sub)} trial{'s' if len(sub) != 1 else ''}"
                     + (f", {n_bad} failed/div." if n_bad else ""))
    ax.set_xticks(range(len(methods)), ticks)
    for t, m in zip(ax.get_xticklabels(), methods):
        t.set_color(method_color(m))
    ax.set_xlabel("method (trials in its grid)")
    ax.set_ylabel(metric_label("score"))
    ax.set_title("Expected-performance distribution over the grid")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=False)
    return fig
