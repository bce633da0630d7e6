"""Figs. 2, 3 and 9 of the paper: length and KL of samples from each method's top-k% configs."""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from analysis.style import (Palette, legend_columns, metric_label, new_axes, new_figure,
                            palette_for, styled)

TITLES = {"length": "Response length", "kl": "KL to SFT", "kl_per_token": "Per-token KL to SFT"}


@styled
def plot_topk_metric(samples: pd.DataFrame, counts: pd.DataFrame, metric: str = "length",
                     ax=None, log: bool = False, palette: Palette | None = None):
    """Box plots of ``metric`` over the per-prompt samples of the top-k% configs
    (``top_k_samples``), x = k, one colour per method; the number of configs in each bin is
    written under its box."""
    n_methods = counts["method"].nunique()
    fig, ax = new_axes(ax, figsize=(max(7.2, 0.6 * n_methods * 4 / 3 + 3), 4.4))
    if samples.empty:
        ax.text(0.5, 0.5, "no completed trials: no samples", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    methods = list(dict.fromkeys(counts["method"]))
    mp = palette_for(methods, palette)
    ks = sorted(counts["k"].unique())
    data = samples.assign(name=samples["method"].map(mp.label),
                          bin=samples["k"].map(lambda k: f"top {k:g}%"))
    order = [f"top {k:g}%" for k in ks]
    hue_order = [mp.label(m) for m in methods]
    pal = {mp.label(m): mp.color(m) for m in methods}
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
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=7 if len(methods) <= 6 else 5, color=pal[mp.label(m)],
                    rotation=0 if len(methods) <= 6 else 90)
    ax.set_xlabel("configs ranked by mean gold score (n = configs in the bin)")
    ax.set_ylabel(metric_label(metric))
    # below the axis label, so it never hides a whisker
    ax.legend(title=None, frameon=False, ncols=legend_columns(len(methods), 6),
              loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax.set_title(f"{TITLES.get(metric, metric)} of samples from the top-k% configs")
    return fig


def plot_topk_length(samples, counts, ax=None, palette: Palette | None = None):
    """The paper's Fig. 2: response length of the top-k% configs' samples."""
    return plot_topk_metric(samples, counts, "length", ax=ax, palette=palette)


@styled
def plot_topk_kl(samples, counts, palette: Palette | None = None):
    """The paper's Figs. 3 and 9: KL and per-token KL of the top-k% configs' samples (per
    prompt: sum of KL / sum of tokens over the prompt's responses)."""
    n_methods = counts["method"].nunique()
    fig, axes = new_figure(1 if n_methods <= 6 else 2, 2 if n_methods <= 6 else 1,
                           panel=(max(6.4, 0.6 * n_methods * 4 / 3 + 3), 4.4))
    flat = axes.ravel()
    plot_topk_metric(samples, counts, "kl", ax=flat[0], palette=palette)
    plot_topk_metric(samples, counts, "kl_per_token", ax=flat[1], palette=palette)
    drop = flat[1] if n_methods <= 6 else flat[0]  # one legend, under the lower panel
    if drop.get_legend() is not None:
        drop.get_legend().remove()
    return fig
