"""One colour and one display name per method everywhere, axis labels with units, number format.

Known methods (``harness.schema.METHODS``) have fixed colours; a method added later takes the next
colour of a colour-blind-safe palette in alphabetical order, so its colour is stable too.
"""

from __future__ import annotations

import functools

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure


# seaborn "colorblind": blue, orange, green for DPO, LN-DPO, SimPO.
_PALETTE = ["#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4",
            "#949494", "#ECE133", "#56B4E9"]
METHOD_COLORS = {"dpo": _PALETTE[0], "ln_dpo": _PALETTE[1], "simpo": _PALETTE[2]}
METHOD_LABELS = {"dpo": "DPO", "ln_dpo": "LN-DPO", "simpo": "SimPO", "sft": "SFT"}
SFT_COLOR = "#333333"
FAILED_COLOR = "#B00020"

PARAM_LABELS = {
    "beta": "β",
    "gamma": "γ (SimPO target margin)",
    "gamma_beta_ratio": "γ/β",
    "learning_rate": "learning rate",
    "epochs": "epochs",
}
METRIC_LABELS = {
    "score": "mean gold score (reward units)",
    "mean_score": "mean gold score (reward units)",
    "length": "response length (tokens)",
    "mean_length": "mean response length (tokens)",
    "kl": "KL to SFT (nats per response)",
    "mean_kl": "mean KL to SFT (nats per response)",
    "kl_per_token": "per-token KL to SFT (nats/token)",
    "mean_kl_per_token": "mean per-token KL (nats/token)",
    "win_vs_chosen": "win rate vs dataset's chosen",
    "win_vs_sft": "win rate vs SFT",
}

RC = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
      "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.spines.top": False,
      "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 130}


def method_color(method: str) -> str:
    if method in METHOD_COLORS:
        return METHOD_COLORS[method]
    if method == "sft":
        return SFT_COLOR
    return _PALETTE[3 + sum(map(ord, method)) % (len(_PALETTE) - 3)]


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def palette(methods) -> dict[str, str]:
    return {m: method_color(m) for m in methods}


def param_label(param: str) -> str:
    return PARAM_LABELS.get(param, param)


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def fmt_value(v) -> str:
    """Hyperparameter value for tick labels and tables: 6e-07, 0.1, 2."""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if np.isnan(v):
        return "-"
    if v.is_integer() and abs(v) < 1e4:
        return str(int(v))
    return f"{v:.3g}"


def config_label(row, params=None) -> str:
    """Short text for a config, e.g. 'β=0.1, learning rate=6e-07, epochs=2' (``params``
    default: every hyperparameter the row has a value for)."""
    from analysis.load import GRID_AXES

    params = [p for p in (params or GRID_AXES) if p in row and not _isnan(row[p])]
    return ", ".join(f"{param_label(p).split(' (')[0]}={fmt_value(row[p])}" for p in params)


def _isnan(v) -> bool:
    try:
        return bool(np.isnan(float(v)))
    except (TypeError, ValueError):
        return v is None


def styled(fn):
    """Run a plotting function under the package's rcParams."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(RC):
            return fn(*args, **kwargs)

    return wrapper


def new_axes(ax=None, figsize=(6.4, 4.2)):
    """``ax`` and its figure, or a fresh pyplot-free figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def new_figure(nrows: int, ncols: int, panel=(4.0, 3.4), **kwargs):
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes
