"""Several studies as tasks: per-study and aggregate normalised scores per method."""

from __future__ import annotations

from analysis.style import Palette, new_figure, palette_for, styled

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


@styled
def plot_aggregate(agg, palette: Palette | None = None):
    """Left: IQM of the normalised config scores; right: expected best-of-budget (normalised).
    Per method, one marker per study and the aggregate (bar) with its stratified-bootstrap
    interval. ``agg``: ``analysis.aggregate.Aggregate``."""
    methods = agg.methods
    pal = palette_for(methods, palette)
    fig, axes = new_figure(1, 2, panel=(max(4.8, 0.6 * len(methods) + 2.5), 4.2))
    names = agg.options["names"]
    best = agg.best[agg.best["n"] == agg.budget].set_index("method")
    for ax, (title, agg_table, col) in zip(axes[0], (
            ("IQM of config scores", agg.iqm.set_index("method"), "iqm"),
            (f"expected best of {agg.budget} trials", best, "best"))):
        est = "iqm" if col == "iqm" else "estimate"
        for i, m in enumerate(methods):
            r = agg_table.loc[m]
            ax.bar(i, r[est], color=pal.color(m), alpha=0.35, width=0.7)
            ax.errorbar(i, r[est], yerr=[[r[est] - r["lo"]], [r["hi"] - r[est]]],
                        color=pal.color(m), capsize=4, lw=1.5)
            per = agg.per_study[agg.per_study["method"] == m].set_index("study")
            for j, name in enumerate(names):
                ax.scatter(i + (j - (len(names) - 1) / 2) * 0.12, per.at[name, col],
                           marker=MARKERS[j % len(MARKERS)], color="#222", s=18, zorder=5,
                           label=name if i == 0 else None)
        ax.axhline(0.0, color="#333333", ls="--", lw=1.0)
        ax.set_xticks(range(len(methods)), [pal.label(m) for m in methods])
        if len(methods) > 5:
            ax.tick_params(axis="x", labelrotation=35)
        for t, m in zip(ax.get_xticklabels(), methods):
            t.set_color(pal.color(m))
        ax.set_xlabel("method (bar: aggregate over studies, markers: each study)")
        ax.set_ylabel("gain over SFT / SD of SFT's per-prompt scores")
        ax.set_title(title)
    axes[0, 0].legend(frameon=False, fontsize=8, title="study", title_fontsize=8)
    return fig
