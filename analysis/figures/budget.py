"""Fig. 2: expected best score after n trials drawn from the grid, per method, with bands."""

from __future__ import annotations

import pandas as pd

from analysis.style import (SFT_COLOR, Palette, legend_columns, metric_label, new_axes,
                            palette_for, styled)


@styled
def plot_budget_curves(curves: pd.DataFrame, sft_score: float, ax=None, band: bool = True,
                       palette: Palette | None = None):
    """``budget_curves`` output: solid lines without replacement (with the bootstrap band),
    dotted with replacement; each method's solid line ends at its pool size (configs x seeds).
    For curves made with ``relative=True`` the y axis is the gain over SFT (SFT at 0)."""
    methods = list(dict.fromkeys(curves["method"]))
    pal = palette_for(methods, palette)
    fig, ax = new_axes(ax, figsize=(6.4 + 0.15 * max(0, len(methods) - 4), 4.6))
    for m in methods:
        c = pal.color(m)
        rows = curves[curves["method"] == m]
        n_pool = int(rows["n_pool"].iloc[0])
        n_cfg = int(rows["n_configs"].iloc[0])
        wo = rows[(~rows["replace"]) & (rows["n"] <= n_pool)]
        wr = rows[rows["replace"]]
        size = f"{n_cfg} config{'s' if n_cfg != 1 else ''}"
        if n_pool != n_cfg:
            size += f", {n_pool} trials"
        label = f"{pal.label(m)} ({size})"
        if n_pool == 1:  # a single trial: one point with its interval
            r = wo.iloc[0]
            err = [[r["estimate"] - r["lo"]], [r["hi"] - r["estimate"]]]
            ax.errorbar([1], [r["estimate"]], yerr=err, color=c, marker="o", ms=5, capsize=4,
                        lw=2, label=label)
        else:
            ax.plot(wo["n"], wo["estimate"], color=c, lw=2, marker="o", ms=3, label=label)
            if band:
                ax.fill_between(wo["n"], wo["lo"], wo["hi"], color=c, alpha=0.15, lw=0)
        ax.plot(wr["n"], wr["estimate"], color=c, lw=1.2, ls=":")
    relative = bool(curves["relative"].any())
    ax.axhline(0.0 if relative else sft_score, color=SFT_COLOR, ls="--", lw=1.2, label="SFT model")
    ax.plot([], [], color="grey", lw=1.2, ls=":", label="with replacement")
    ax.set_xscale("log")
    n_max = int(curves["n"].max())
    ticks = [t for t in (1, 2, 3, 5, 10, 20, 50, 100, 200, 500) if t < 0.8 * n_max] + [n_max]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("budget: number of trials n (configs drawn at random, one seed each)")
    if relative:
        ax.set_ylabel("expected best score − SFT score (reward units)")
    else:
        ax.set_ylabel("expected best " + metric_label("score"))
    ax.set_title("Expected best-of-n (bands: 95% seed-and-prompt bootstrap)")
    if len(methods) <= 4:
        ax.legend(frameon=False, loc="upper left", ncols=2)
    else:  # many methods: below the axes, so no curve is hidden
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  ncols=legend_columns(len(methods) + 2))
    return fig
