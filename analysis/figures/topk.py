"""Figs. 2, 3 and 9 of the paper: length and KL of samples from each method's top-k% configs."""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from analysis.style import (method_label, metric_label, new_axes, new_figure, palette,
                            styled)

TITLES = {"length": "Response length", "kl": "KL to SFT", "kl_per_token": "Per-token KL to SFT"}


@styled
def plot_topk_metric(samples: pd.DataFrame, counts: pd.DataFrame, metric: str = "length",
                     ax=None, log: bool = False):
    """Box plots of ``metric`` over the samples of the top-k% configs (``top_k_samples``), x = k,
    one colour per method; the number of configs in each bin is written under its box."""
    fig, ax = new_axes(ax, figsize=(7.2, 4.4))
    if samples.empty:
        ax.text(0.5, 0.5, "no completed trials: no samples", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    methods = list(dict.fromkeys(counts["method"]))
    ks = sorted(counts["k"].unique())
    data = samples.assign(name=samples["method"].map(method_label),
                          bin=samples["k"].map(lambda k: f"top {k:g}%"))
    order = [f"top {k:g}%" for k in ks]
    hue_order = [method_label(m) for m in methods]
    pal = {method_label(m): c for m, c in palette(methods).items()}
    sns.boxplot(data=data, x="bin", y=metric, hue="name", order=order, hue_order=hue_order,
                palette=pal, showfliers=False, width=0.75, linewidth=0.8, ax=ax,
                log_scale=log or None)
    lo, hi = ax.get_ylim()  # room under the whiskers for the "n=" labels
    ax.set_ylim(lo - 0.07 * (hi - lo), hi)
    # "n=" labels under each box, in the same dodge positions seaborn uses.
    width = 0.75 / max(1, len(methods))
    for i, k in enumerate(ks):
        for j, m in enumerate(methods):
            row = counts[(counts["method"] == m) & (counts["k"] == k)]
            if row.empty:
                continue
            n, n_s = int(row["n_configs"].iloc[0]), int(row["n_with_samples"].iloc[0])
            x = i - 0.375 + width * (j + 0.5)
            ax.text(x, 0.01, f"n={n}" if n == n_s else f"n={n_s}/{n}",
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=7, color=pal[method_label(m)])
    ax.set_xlabel("configs ranked by mean gold score (n = configs in the bin)")
    ax.set_ylabel(metric_label(metric))
    # below the axis label, so it never hides a whisker
    ax.legend(title=None, frameon=False, ncols=len(methods), loc="upper center",
              bbox_to_anchor=(0.5, -0.16))
    ax.set_title(f"{TITLES.get(metric, metric)} of samples from the top-k% configs")
    return fig


def plot_topk_length(samples, counts, ax=None):
    """The paper's Fig. 2: response length of the top-k% configs' samples."""
    return plot_topk_metric(samples, counts, "length", ax=ax)


@styled
def plot_topk_kl(samples, counts, fig=None):
    """The paper's Figs. 3 and 9: KL and per-token KL of the top-k% configs' samples."""
    fig, axes = new_figure(1, 2, panel=(6.4, 4.4))
    plot_topk_metric(samples, counts, "kl", ax=axes[0, 0])
    plot_topk_metric(samples, counts, "kl_per_token", ax=axes[0, 1])
    if axes[0, 1].get_legend() is not None:
        axes[0, 1].get_legend().remove()
    return fig
