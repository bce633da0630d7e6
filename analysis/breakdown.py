"""Where a method's score and length come from: the judge's per-sample breakdown.

A judge that splits its score into components (the toy judge: content, padding, repeats,
garbled, unsafe, over_refusal, off_topic, rambling, empty) has them recorded as ``judge_<component>``
columns of the samples and baseline tables (``harness.schema.JUDGE_COLUMN_PREFIX``); for every
sample they sum to ``score``. A study whose judge has no breakdown has no such columns, and
everything here returns None.

- :func:`breakdown_table`: one row per model (the SFT model, then every ok trial): mean response
  length (tokens), mean of every component over the eval prompts, mean score.
- :func:`method_breakdown`: per method, its best trial (highest mean score) and the mean over
  its ok trials, next to the SFT model: so a reader sees whether a method's extra length came
  with content or with padding.
- :func:`plot_breakdown`: content against padding (score points), one point per ok trial.

Means over prompts only; no interval is claimed here (the report's intervals are elsewhere).
"""

from __future__ import annotations

import pandas as pd

from analysis.style import SFT_COLOR, Palette, new_axes, palette_for, styled
from harness.schema import (
    BASELINE_TRIAL_ID,
    JUDGE_COLUMN_PREFIX,
    STATUS_OK,
    judge_breakdown_columns,
)


def breakdown_columns(samples: pd.DataFrame) -> list[str]:
    """The ``judge_<component>`` columns of a samples table, in their order."""
    return judge_breakdown_columns(samples.columns)


def breakdown_table(trials: pd.DataFrame, samples: pd.DataFrame,
                    baseline: pd.DataFrame) -> pd.DataFrame | None:
    """One row per model: ``trial_id, method`` (``"sft"`` for the baseline), ``length`` and
    ``score`` (means over prompts), and the mean of every ``judge_<component>`` column. Rows:
    the SFT model first, then the ok trials in ``trials`` order. None without a breakdown."""
    cols = breakdown_columns(samples)
    if not cols or any(c not in baseline.columns for c in cols):
        return None
    values = ["length", "score", *cols]
    base = baseline[values].mean().to_frame().T
    base.insert(0, "method", BASELINE_TRIAL_ID)
    base.insert(0, "trial_id", BASELINE_TRIAL_ID)
    ok = trials[trials["status"] == STATUS_OK][["trial_id", "method"]]
    means = samples.groupby("trial_id", sort=False)[values].mean().reset_index()
    rows = ok.merge(means, on="trial_id", how="inner")
    return pd.concat([base, rows], ignore_index=True)


def method_breakdown(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per method: ``row`` ``"best"`` (its trial of highest mean score) and ``"mean"`` (over its
    ok trials, ``n_trials`` of them), after the SFT model's row; the columns of
    :func:`breakdown_table`."""
    if table is None:
        return None
    values = [c for c in table.columns if c not in ("trial_id", "method")]
    sft = table[table["method"] == BASELINE_TRIAL_ID].assign(row="SFT model", n_trials=1)
    out = [sft]
    for method, sub in table[table["method"] != BASELINE_TRIAL_ID].groupby("method", sort=False):
        best = sub.loc[[sub["score"].idxmax()]].assign(row="best", n_trials=1)
        mean = sub[values].mean().to_frame().T.assign(
            trial_id="", method=method, row="mean", n_trials=len(sub))
        out += [best, mean]
    return pd.concat(out, ignore_index=True)[["method", "row", "n_trials", "trial_id", *values]]


def component_label(column: str) -> str:
    """``judge_padding`` -> ``padding``."""
    return column.removeprefix(JUDGE_COLUMN_PREFIX).replace("_", " ")


@styled
def plot_breakdown(table: pd.DataFrame, ax=None, x: str = "judge_content",
                   y: str = "judge_padding", palette: Palette | None = None):
    """Mean ``x`` against mean ``y`` (default: content against padding, in score points), one
    point per ok trial, coloured by method; the SFT model as a black star."""
    fig, ax = new_axes(ax, figsize=(6.0, 4.2))
    sft = table[table["method"] == BASELINE_TRIAL_ID]
    trials = table[table["method"] != BASELINE_TRIAL_ID]
    pal = palette_for(trials["method"], palette)
    for m in dict.fromkeys(trials["method"]):
        sub = trials[trials["method"] == m]
        ax.scatter(sub[x], sub[y], s=24, color=pal.color(m), alpha=0.8, edgecolor="white",
                   linewidth=0.4, label=f"{pal.label(m)} ({len(sub)})")
    ax.scatter(sft[x], sft[y], s=120, marker="*", color=SFT_COLOR, label="SFT model", zorder=3)
    ax.set_xlabel(f"{component_label(x)} (mean score points per reply)")
    ax.set_ylabel(f"{component_label(y)} (mean score points per reply)")
    ax.set_title("Judge breakdown per trial")
    ax.legend(frameon=False)
    return fig
