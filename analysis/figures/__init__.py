"""Figures: each function takes its table(s) and ``ax=None`` (or builds its own multi-panel
figure) and returns a ``matplotlib.figure.Figure`` (pyplot-free, so nothing accumulates)."""

from analysis.figures.budget import plot_budget_curves
from analysis.figures.distribution import plot_performance_distribution
from analysis.figures.headtohead import plot_head_to_head, plot_head_to_head_grid, win_matrix
from analysis.figures.kl_score import plot_kl_vs_score
from analysis.figures.sensitivity import (plot_importance, plot_importances, plot_sensitivity,
                                          plot_sensitivity_param)
from analysis.figures.topk import plot_topk_kl, plot_topk_length, plot_topk_metric

__all__ = [
    "plot_budget_curves", "plot_performance_distribution", "plot_head_to_head",
    "plot_head_to_head_grid", "win_matrix", "plot_kl_vs_score", "plot_importance",
    "plot_importances", "plot_sensitivity", "plot_sensitivity_param", "plot_topk_kl",
    "plot_topk_length", "plot_topk_metric",
]
