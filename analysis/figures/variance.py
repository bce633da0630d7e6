"""The variance decomposition per method: one stacked bar of shares per method."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.style import Palette, new_axes, palette_for, styled

# Hyperparameter parts in blues (one shade per axis), then the noise parts.
NOISE_COLORS = {"axis_interactions": "#9ECAE1", "seed": "#E6550D", "config_x_seed": "#FDAE6B",
                "generation_seed": "#A1D99B", "prompts": "#BDBDBD"}
AXIS_SHADES = ["#08306B", "#08519C", "#2171B5", "#4292C6", "#6BAED6"]


def _segments(variance: pd.DataFrame, method: str) -> list[tuple[str, str, float]]:
    """(key, label, share) of one method's bar: its axes (or the whole config share when no
    axis split exists), then the noise components."""
    sub = variance[variance["method"] == method]
    out = []
    axes = sub[sub["component"] == "axis"]
    if len(axes):
        out += [(f"axis:{r.axis}", r.label, r.share) for r in axes.itertuples()]
        inter = sub[sub["component"] == "axis_interactions"]
        out += [("axis_interactions", r.label, r.share) for r in inter.itertuples()]
    else:
        out += [("config", r.label, r.share) for r in sub[sub["component"] == "config"]
                .itertuples()]
    for key in ("seed", "config_x_seed", "generation_seed", "prompts"):
        out += [(key, r.label, r.share) for r in sub[sub["component"] == key].itertuples()]
    return [(k, lab, float(s)) for k, lab, s in out if np.isfinite(s)]


@styled
def plot_variance(variance: pd.DataFrame, ax=None, palette: Palette | None = None):
    """Horizontal stacked bars (``variance_table``): the share of a trial's mean-score
    variance from each hyperparameter axis, their interactions, the training seed, config x
    seed, the generation seed and prompt sampling; segments over 6% are labelled."""
    methods = list(dict.fromkeys(variance["method"]))
    pal = palette_for(methods, palette)
    fig, ax = new_axes(ax, figsize=(8.0, 0.5 * len(methods) + 2.2))
    seen = {}
    for i, m in enumerate(methods):
        left, shade = 0.0, 0
        for key, label, share in _segments(variance, m):
            if key.startswith("axis:") or key == "config":
                colour = AXIS_SHADES[shade % len(AXIS_SHADES)]
                shade += 1
                legend = "hyperparameter axis (labelled)"
            else:
                colour = NOISE_COLORS[key]
                legend = label
            ax.barh(i, share, left=left, color=colour, edgecolor="white", linewidth=0.6,
                    label=None if legend in seen else legend)
            seen[legend] = True
            if share >= 0.06:
                text = label if key.startswith("axis:") else f"{100 * share:.0f}%"
                ax.text(left + share / 2, i, text, ha="center", va="center", fontsize=7,
                        color="white" if key.startswith(("axis:", "config", "seed")) else "#222")
            left += share
    ax.set_yticks(range(len(methods)), [pal.label(m) for m in methods])
    for t, m in zip(ax.get_yticklabels(), methods):
        t.set_color(pal.color(m))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the variance of one trial's mean score")
    ax.set_ylabel("method")
    ax.set_title("Where score differences come from (random-effects ANOVA)")
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3,
              fontsize=8)
    return fig
