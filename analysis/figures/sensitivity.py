"""Figs. 4-7 of the paper: score against each hyperparameter, and importance bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from analysis.style import (FAILED_COLOR, SFT_COLOR, fmt_value, method_color, method_label,
                            metric_label, new_axes, new_figure, param_label, styled)
from harness.schema import STATUS_OK


@styled
def plot_sensitivity(configs: pd.DataFrame, method: str, param: str, sft_score: float,
                     floor: float, ax=None, metric: str = "score"):
    """One method's configs: ``metric`` by each value of ``param`` (a box over the other
    hyperparameters, points per config), failed/diverged as red crosses at the floor."""
    fig, ax = new_axes(ax, figsize=(4.4, 3.6))
    sub = configs[(configs["method"] == method) & configs[param].notna()]
    values = sorted(sub[param].unique())
    labels = [fmt_value(v) for v in values]
    ok = sub[sub["status"] == STATUS_OK].assign(tick=lambda d: d[param].map(fmt_value))
    color = method_color(method)
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
    ax.set_xlabel(param_label(param))
    ax.set_ylabel(metric_label(metric))
    ax.set_title(method_label(method), color=color)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return fig


@styled
def plot_sensitivity_param(configs: pd.DataFrame, param: str, sft_score: float, floor: float,
                           params_by_method: dict[str, list[str]] | None = None):
    """One panel per method that has ``param`` on its grid; y axes shared."""
    from analysis.sensitivity import sensitivity_params

    methods = [m for m in dict.fromkeys(configs["method"])
               if param in (params_by_method or {}).get(m, sensitivity_params(configs, m))]
    n = max(1, len(methods))
    fig, axes = new_figure(1, n, panel=(4.2 if n > 1 else 6.0, 3.6), sharey=True)
    for ax, m in zip(axes[0], methods):
        plot_sensitivity(configs, m, param, sft_score, floor, ax=ax)
    for ax in axes[0][1:]:
        ax.set_ylabel("")
    fig.suptitle(f"Score vs {param_label(param)}: each box spans the other hyperparameters")
    return fig


@styled
def plot_importance(importances: pd.DataFrame, evaluator: str = "ped_anova", ax=None):
    """Bars of normalised importance per grid axis, one colour per method."""
    fig, ax = new_axes(ax, figsize=(5.6, 3.8))
    sub = importances[(importances["evaluator"] == evaluator) & importances["importance"].notna()]
    if sub.empty:
        ax.text(0.5, 0.5, f"{evaluator}: not computed", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    methods = list(dict.fromkeys(sub["method"]))
    data = sub.assign(name=sub["method"].map(method_label),
                      label=sub["param"].map(lambda p: param_label(p).split(" (")[0]))
    sns.barplot(data=data, x="label", y="importance", hue="name",
                hue_order=[method_label(m) for m in methods],
                palette={method_label(m): method_color(m) for m in methods}, ax=ax)
    ax.set_ylim(0, 1)
    ax.set_xlabel("hyperparameter")
    ax.set_ylabel("importance (share, sums to 1)")
    ax.set_title({"ped_anova": "PED-ANOVA importance (top quantile)",
                  "fanova": "fANOVA importance (variance share)"}.get(evaluator, evaluator))
    ax.legend(title=None, frameon=False)
    return fig


@styled
def plot_importances(importances: pd.DataFrame):
    """PED-ANOVA and fANOVA side by side (the evaluators present in ``importances``)."""
    evaluators = list(dict.fromkeys(importances["evaluator"])) or ["ped_anova"]
    fig, axes = new_figure(1, len(evaluators), panel=(5.6, 3.8))
    for ax, ev in zip(axes[0], evaluators):
        plot_importance(importances, ev, ax=ax)
    return fig
