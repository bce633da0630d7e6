"""Figures: each function takes its table(s) and ``ax=None`` (or builds its own multi-panel
figure) and returns a ``matplotlib.figure.Figure`` (pyplot-free, so nothing accumulates).
Every function takes ``palette=`` (``analysis.style.Palette``: one colour and label per method
for the whole study); without it, colours follow the methods present in the data."""

from analysis.figures.aggregate import plot_aggregate
from analysis.figures.budget import plot_budget_curves
from analysis.figures.distribution import plot_performance_distribution
from analysis.figures.headtohead import plot_head_to_head, plot_head_to_head_grid, win_matrix
from analysis.figures.kl_score import plot_kl_vs_score
from analysis.figures.sensitivity import (importance_matrix, plot_importance, plot_importances,
                                          plot_sensitivity, plot_sensitivity_param)
from analysis.figures.topk import plot_topk_kl, plot_topk_length, plot_topk_metric
from analysis.figures.variance import plot_variance

__all__ = [
    "plot_aggregate", "plot_budget_curves", "plot_performance_distribution",
    "plot_head_to_head", "plot_head_to_head_grid", "win_matrix", "plot_kl_vs_score",
    "importance_matrix", "plot_importance", "plot_importances", "plot_sensitivity",
    "plot_sensitivity_param", "plot_topk_kl", "plot_topk_length", "plot_topk_metric",
    "plot_variance",
]
