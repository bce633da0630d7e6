"""Expected best score against the compute spent, per method, with bands (``analysis.compute``)."""

from __future__ import annotations

import pandas as pd

from analysis.style import (SFT_COLOR, Palette, legend_columns, new_axes, palette_for, styled)


@styled
def plot_compute_curves(curves: pd.DataFrame, sft_score: float, ax=None,
                        budget_hours: float | None = None, band: bool = True,
                        palette: Palette | None = None):
    """``compute_curves`` output: per method the expected best mean score (absolute, the same
    scale as the compute table) against the budget on a log axis, with its bootstrap band; the
    SFT model's score dashed; ``budget_hours`` a vertical line. Each method's curve starts at
    the first budget at which every order finishes a trial (below it the expected best mixes in
    the failure floor and says more about the floor than about the method) and ends where its
    whole pool is affordable (beyond it the value is the pool's best)."""
    methods = list(dict.fromkeys(curves["method"]))
    pal = palette_for(methods, palette)
    fig, ax = new_axes(ax, figsize=(6.4 + 0.15 * max(0, len(methods) - 4), 4.6))
    unit = str(curves["unit"].iloc[0])
    for m in methods:
        rows = curves[(curves["method"] == m) & (curves["p_none"] == 0)]
        if rows.empty:
            continue
        pool = float(rows["pool_cost"].iloc[0])
        # keep the first budget that affords the whole pool, drop the flat rest
        full = rows.index[rows["hours"] >= pool]
        rows = rows.loc[:full[0]] if len(full) else rows
        c = pal.color(m)
        ax.plot(rows["hours"], rows["estimate"], color=c, lw=2,
                label=f"{pal.label(m)} ({int(rows['n_pool'].iloc[0])} trials, "
                      f"{pool:.3g} {unit} in all)")
        if band:
            ax.fill_between(rows["hours"], rows["lo"], rows["hi"], color=c, alpha=0.15, lw=0)
    ax.axhline(sft_score, color=SFT_COLOR, ls="--", lw=1.2, label="SFT model")
    if budget_hours is not None:
        ax.axvline(budget_hours, color="grey", lw=1, ls=":",
                   label=f"budget {budget_hours:.3g} {unit}")
    ax.set_xscale("log")
    ax.set_xlabel(f"compute budget ({unit}, log scale)")
    ax.set_ylabel("expected best mean gold score")
    ax.set_title("Expected best score for a compute budget")
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncols=legend_columns(len(methods) + 2, max_cols=2))
    return fig
