"""Training curves (``analysis.curves``): one line per trial, coloured by method."""

from __future__ import annotations

import pandas as pd

from analysis.style import Palette, legend_columns, new_figure, palette_for, styled


@styled
def plot_training_curves(curves: pd.DataFrame, trials: pd.DataFrame, highlight=(),
                         palette: Palette | None = None):
    """``training_curves`` output (one or more tags), ``trials`` the study's trials (trial_id,
    method): one panel per tag, per method a thin line per trial and a thick one for each trial
    of ``highlight`` (e.g. each method's best config)."""
    tags = list(dict.fromkeys(curves["tag"]))
    method_of = trials.set_index("trial_id")["method"]
    methods = list(dict.fromkeys(method_of[curves["trial_id"].unique()]))
    pal = palette_for(methods, palette)
    fig, axes = new_figure(1, len(tags), panel=(5.2, 3.6))
    highlight = set(highlight)
    for ax, tag in zip(axes[0], tags):
        for trial_id, g in curves[curves["tag"] == tag].groupby("trial_id", sort=False):
            best = trial_id in highlight
            ax.plot(g["step"], g["value"], color=pal.color(method_of[trial_id]),
                    lw=2.2 if best else 0.8, alpha=1.0 if best else 0.45, zorder=3 if best else 2)
        ax.set_xlabel("optimiser step")
        ax.set_title(tag.removeprefix("train/"))
    for m in methods:
        axes[0][0].plot([], [], color=pal.color(m), lw=2, label=pal.label(m))
    if highlight:
        axes[0][0].plot([], [], color="grey", lw=2.2, label="best config (thick)")
    fig.legend(frameon=False, loc="outside lower center",
               ncols=legend_columns(len(methods) + bool(highlight)))
    return fig
