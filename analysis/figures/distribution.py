"""Fig. 1: the expected-performance distribution, every config's score per method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from analysis.style import (FAILED_COLOR, SFT_COLOR, Palette, metric_label, new_axes,
                            palette_for, styled)
from harness.schema import STATUS_OK


@styled
def plot_performance_distribution(configs: pd.DataFrame, sft_score: float, floor: float,
                                  ax=None, palette: Palette | None = None):
    """Violin + points of each method's config scores (``config_table``: a config's seeds
    averaged), the SFT line, and configs none of whose seeds completed as red crosses at the
    failure floor (their count under the name)."""
    methods = list(dict.fromkeys(configs["method"]))
    pal = palette_for(methods, palette)
    fig, ax = new_axes(ax, figsize=(max(6.4, 0.75 * len(methods) + 2.0), 4.6))
    ok = configs[configs["status"] == STATUS_OK]
    order = [pal.label(m) for m in methods]
    data = ok.assign(name=ok["method"].map(pal.label))
    colours = {pal.label(m): pal.color(m) for m in methods}
    if len(data):
        sns.violinplot(data=data, x="name", y="score", hue="name", order=order, palette=colours,
                       inner=None, cut=0, density_norm="width", linewidth=0.8, ax=ax,
                       legend=False, alpha=0.35)
        sns.stripplot(data=data, x="name", y="score", hue="name", order=order, palette=colours,
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
        ticks.append(f"{pal.label(m)}\n{len(sub)} config{'s' if len(sub) != 1 else ''}"
                     + (f", {n_bad} failed/div." if n_bad else ""))
    ax.set_xticks(range(len(methods)), ticks)
    if len(methods) > 6:
        ax.tick_params(axis="x", labelrotation=35, labelsize=8)
    for t, m in zip(ax.get_xticklabels(), methods):
        t.set_color(pal.color(m))
    ax.set_xlabel("method (configs in its grid)")
    ax.set_ylabel(metric_label("score"))
    seeds = int(configs["n_seeds"].max()) if "n_seeds" in configs else 1
    ax.set_title("Expected-performance distribution over the grid"
                 + (f" (each point: mean of {seeds} seeds)" if seeds > 1 else ""))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2 if len(methods) > 6 else -0.16),
              ncols=2, frameon=False)
    return fig
