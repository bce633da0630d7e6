"""Fig. 2: expected best score after n trials drawn from the grid, per method, with bands."""

from __future__ import annotations

import pandas as pd

from analysis.style import (SFT_COLOR, method_color, method_label, metric_label, new_axes,
                            styled)


@styled
def plot_budget_curves(curves: pd.DataFrame, sft_score: float, ax=None, band: bool = True):
    """``budget_curves`` output: solid lines without replacement (with the prompt-bootstrap
    band), dotted with replacement; each method's solid line ends at its grid size. For curves
    made with ``relative=True`` the y axis is the gain over SFT (SFT at 0)."""
    fig, ax = new_axes(ax, figsize=(6.4, 4.4))
    for m in dict.fromkeys(curves["method"]):
        c = method_color(m)
        n_cfg = int(curves.loc[curves["method"] == m, "n_configs"].iloc[0])
        wo = curves[(curves["method"] == m) & (~curves["replace"]) & (curves["n"] <= n_cfg)]
        wr = curves[(curves["method"] == m) & (curves["replace"])]
        label = f"{method_label(m)} ({n_cfg} config{'s' if n_cfg != 1 else ''})"
        if n_cfg == 1:  # a single config: one point with its interval
            r = wo.iloc[0]
            err = [[r["estimate"] - r["lo"]], [r["hi"] - r["estimate"]]]
            ax.errorbar([1], [r["estimate"]], yerr=err, color=c, marker="o", ms=5, capsize=4, lw=2, label=label)
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
    ax.set_xlabel("budget: number of trials n (configs drawn at random)")
    if relative:
        ax.set_ylabel("expected best score − SFT score (reward units)")
    else:
        ax.set_ylabel("expected best " + metric_label("score"))
    ax.set_title("Expected best-of-n (bands: 95% prompt bootstrap)")
    ax.legend(frameon=False, loc="upper left", ncols=2)
    return fig
