"""One colour and one display name per method everywhere, axis labels with units, number format.

Colours (``method_palette``): the three methods of the original study keep their colours (DPO
blue, LN-DPO orange, SimPO green, seaborn "colorblind"); every other method takes, in the
study's method order, the next unused colour of that colour-blind-safe palette (its two pale
colours last), then of a second set of dark hues, then evenly spaced HUSL hues, so no two
methods share a colour and the same study always gets the same colours. Display names come
from study.json (``Study.labels``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

# seaborn "colorblind"; its first three are the original three methods'.
_PALETTE = ["#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4",
            "#949494", "#ECE133", "#56B4E9"]
_EXTRA = ["#332288", "#882255", "#999933", "#6A3D9A", "#B15928", "#117733"]
_PALE = ("#FBAFE4", "#ECE133")  # hard to read as text on white: used last
FIXED_COLORS = {"dpo": _PALETTE[0], "ln_dpo": _PALETTE[1], "simpo": _PALETTE[2]}
SFT_COLOR = "#333333"
FAILED_COLOR = "#B00020"
SFT = "sft"

METRIC_LABELS = {
    "score": "mean gold score (reward units)",
    "mean_score": "mean gold score (reward units)",
    "length": "response length (tokens)",
    "mean_length": "mean response length (tokens)",
    "kl": "KL to SFT (nats per response)",
    "mean_kl": "mean KL to SFT (nats per response)",
    "kl_per_token": "per-token KL to SFT (nats/token)",
    "win_vs_chosen": "win rate vs dataset's chosen",
    "win_vs_sft": "win rate vs SFT",
}

RC = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
      "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.spines.top": False,
      "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 130}


@dataclass(frozen=True)
class Palette:
    """Colour and display name of each method (and of the SFT model)."""

    colors: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)

    def color(self, method: str) -> str:
        if method == SFT:
            return SFT_COLOR
        if method in self.colors:
            return self.colors[method]
        return method_palette([*self.colors, method]).colors[method]

    def label(self, method: str) -> str:
        if method == SFT:
            return "SFT"
        return self.labels.get(method, method)

    def __contains__(self, method: str) -> bool:
        return method in self.colors


def method_palette(methods, labels: dict | None = None) -> Palette:
    """Colours for ``methods`` in this order (see the module docstring) and their labels."""
    methods = [m for m in dict.fromkeys(methods) if m != SFT]
    colors = {m: FIXED_COLORS[m] for m in methods if m in FIXED_COLORS}
    free = [c for c in _PALETTE + _EXTRA if c not in FIXED_COLORS.values() and c not in _PALE]
    free += list(_PALE)
    rest = [m for m in methods if m not in colors]
    if len(rest) > len(free):
        import seaborn as sns

        free += [mpl.colors.to_hex(c) for c in sns.color_palette("husl", len(rest) - len(free))]
    colors.update(zip(rest, free))
    return Palette(colors={m: colors[m] for m in methods}, labels=dict(labels or {}))


def palette_for(data_methods, palette: Palette | None) -> Palette:
    """``palette`` or, without one, a palette of the methods in the data (their order)."""
    return palette if palette is not None else method_palette(data_methods)


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


def config_label(row, axes) -> str:
    """Short text for a config, e.g. 'β=0.1, learning rate=6e-07, epochs=2': every axis of
    ``axes`` (``analysis.methods.Axis``, display order) the row has a value for."""
    parts = []
    for a in axes:
        if a.name in row and not _isnan(row[a.name]):
            parts.append(f"{a.text}={fmt_value(row[a.name])}")
    return ", ".join(parts)


def _isnan(v) -> bool:
    try:
        return bool(np.isnan(float(v)))
    except (TypeError, ValueError):
        return v is None


def legend_columns(n: int, max_cols: int = 4) -> int:
    return max(1, min(n, max_cols))


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
