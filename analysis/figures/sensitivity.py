"""Figs. 4-7 of the paper: score against each hyperparameter axis, and importance heatmaps.

Axis labels come from the methods' registrations (``analysis.methods.MethodInfo``, passed as
``infos``); without them the axis name is shown."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import seaborn as sns

from analysis.style import (FAILED_COLOR, SFT_COLOR, Palette, fmt_value, metric_label,
                            new_axes, new_figure, palette_for, styled)
from harness.schema import STATUS_OK

MAX_COLS = 4


def axis_text(infos: dict | None, method: str, param: str) -> str:
    """The display label of ``param`` for ``method`` (the name without registrations)."""
    info = (infos or {}).get(method)
    if info is not None and param in info.names:
        return info.axis(param).text
    return param


@styled
def plot_sensitivity(configs: pd.DataFrame, method: str, param: str, sft_score: float,
                     floor: float, ax=None, metric: str = "score", palette: Palette | None = None,
                     infos: dict | None = None):
    """One method's configs: ``metric`` by each value of ``param`` (a box over the other axes,
    points per config), configs that never completed as red crosses at the floor."""
    pal = palette_for([method], palette)
    fig, ax = new_axes(ax, figsize=(4.4, 3.6))
    sub = configs[(configs["method"] == method) & configs[param].notna()]
    values = sorted(sub[param].unique())
    labels = [fmt_value(v) for v in values]
    ok = sub[sub["status"] == STATUS_OK].assign(tick=lambda d: d[param].map(fmt_value))
    color = pal.color(method)
    if len(ok):
        sns.boxplot(data=ok, x="tick", y=metric, order=labels, color=color, showfliers=False,
                    boxprops=dict(alpha=0.35), width=0.6, linewidth=0.8, ax=ax)
        sns.stripplot(data=ok, x="tick", y=metric, order=labels, color=color, size=3.5,
                      jitter=0.15, ax=ax, edgecolor="white", linewidth=0.3)
    bad = sub[sub["status"] != STATUS_OK]
    if len(bad):
        xs = bad[param].map({v: i for i, v in enumerate(values)})
        ax.scatter(xs, np.full(len(bad), floor), marker="x", color=FAILED_COLOR, s=30, zorder=5,
                   label=f"failed/diverged ({len(bad)})")
    ax.axhline(sft_score, color=SFT_COLOR, ls="--", lw=1.0, label="SFT")
    ax.set_xticks(range(len(labels)), labels)
    if len(labels) > 5:
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel(axis_text(infos, method, param))
    ax.set_ylabel(metric_label(metric))
    ax.set_title(pal.label(method), color=color)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return fig


@styled
def plot_sensitivity_param(configs: pd.DataFrame, param: str, sft_score: float, floor: float,
                           params_by_method: dict[str, list[str]], palette: Palette | None = None,
                           infos: dict | None = None):
    """One panel per method that has ``param`` among its sensitivity axes
    (``params_by_method``), at most four per row; y axes shared."""
    methods = [m for m in dict.fromkeys(configs["method"])
               if param in params_by_method.get(m, [])]
    n = max(1, len(methods))
    ncols = min(n, MAX_COLS)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, panel=(4.2 if n > 1 else 6.0, 3.6), sharey=True)
    flat = axes.ravel()
    for ax, m in zip(flat, methods):
        plot_sensitivity(configs, m, param, sft_score, floor, ax=ax, palette=palette,
                         infos=infos)
    for i, ax in enumerate(flat):
        if i >= len(methods):
            ax.set_axis_off()
        elif i % ncols:
            ax.set_ylabel("")
    label = axis_text(infos, methods[0], param) if methods else param
    fig.suptitle(f"Score vs {label}: each box spans the other hyperparameters")
    return fig


def importance_matrix(importances: pd.DataFrame, evaluator: str) -> pd.DataFrame:
    """Methods x axes table of ``evaluator``'s importances (NaN where a method lacks the axis)."""
    sub = importances[(importances["evaluator"] == evaluator) & importances["param"].notna()]
    methods = list(dict.fromkeys(sub["method"]))
    params = list(dict.fromkeys(sub["param"]))
    return sub.pivot_table(index="method", columns="param", values="importance",
                           aggfunc="first", dropna=False).reindex(index=methods, columns=params)


@styled
def plot_importance(importances: pd.DataFrame, evaluator: str = "ped_anova", ax=None,
                    palette: Palette | None = None, infos: dict | None = None):
    """Heatmap of normalised importance (shares summing to 1 per method): rows are methods,
    columns the axes (blank where a method has no such axis or it was not computed)."""
    table = importance_matrix(importances, evaluator)
    title = {"ped_anova": "PED-ANOVA importance (top quantile)",
             "fanova": "fANOVA importance (variance share)"}.get(evaluator, evaluator)
    fig, ax = new_axes(ax, figsize=(1.1 * max(3, table.shape[1]) + 2.4,
                                    0.42 * max(3, table.shape[0]) + 1.6))
    if table.empty or table.isna().all().all():
        ax.text(0.5, 0.5, f"{evaluator}: not computed", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    pal = palette_for(list(table.index), palette)
    xlabels = []
    for p in table.columns:
        owner = next((m for m in table.index if infos and m in infos and p in infos[m].names),
                     None)
        xlabels.append(axis_text(infos, owner, p) if owner else p)
    sns.heatmap(table.to_numpy(float), annot=True, fmt=".2f", vmin=0, vmax=1, cmap="Blues",
                cbar_kws={"label": "importance (share, sums to 1)"}, ax=ax,
                xticklabels=xlabels, yticklabels=[pal.label(m) for m in table.index],
                annot_kws={"fontsize": 8}, linewidths=0.5, linecolor="white")
    for t, m in zip(ax.get_yticklabels(), table.index):
        t.set_color(pal.color(m))
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel("hyperparameter")
    ax.set_ylabel("method")
    ax.set_title(title)
    return fig


@styled
def plot_importances(importances: pd.DataFrame, palette: Palette | None = None,
                     infos: dict | None = None):
    """The evaluators present in ``importances`` side by side (one above the other when there
    are many axes)."""
    evaluators = list(dict.fromkeys(importances["evaluator"])) or ["ped_anova"]
    sizes = [importance_matrix(importances, ev).shape for ev in evaluators]
    rows = max(3, max(s[0] for s in sizes))
    cols = max(3, max(s[1] for s in sizes))
    stacked = cols > 5  # many axes: one evaluator under the other
    shape = (len(evaluators), 1) if stacked else (1, len(evaluators))
    fig, axes = new_figure(*shape, panel=(1.1 * cols + 2.4, 0.42 * rows + 1.6))
    for ax, ev in zip(axes.ravel(), evaluators):
        plot_importance(importances, ev, ax=ax, palette=palette, infos=infos)
    return fig
