"""The report's compute-budget section: its table, sentence and figure, read from
``StudyAnalysis.compute`` (``analysis.compute``), never recomputed."""

from __future__ import annotations

import pandas as pd

from analysis import fmt
from analysis.analyze import StudyAnalysis
from analysis.compute import UNIT_GPU
from analysis.figures.compute import plot_compute_curves
from analysis.report.figures import ReportFigure, _png

FIGURE = "fig2_compute"
TITLE = "Expected best score against the compute budget"


def short_unit(unit: str) -> str:
    return "GPU-h" if unit == UNIT_GPU else "h"


def budget_text(a: StudyAnalysis) -> str:
    """The budget the section leads with, and where it comes from."""
    c = a.compute
    u = short_unit(c.unit)
    if c.given:
        return f"{fmt.hours(c.budget_hours, u)} (--budget-hours)"
    return (f"{fmt.hours(c.budget_hours, u)} ({a.options['decision_budget']} trials at the "
            f"median trial cost, {fmt.hours(c.median_cost, u)}; set it with --budget-hours)")


def _cell(r) -> str:
    if r.p_none == 1:
        return "no trial finishes"
    none = f"; none finishes in {fmt.pct(r.p_none)}" if r.p_none > 0 else ""
    return fmt.ci(r.estimate, r.lo, r.hi) + f" ({r.mean_trials:.1f} trials{none})"


def compute_md(a: StudyAnalysis) -> pd.DataFrame:
    """Per method: its trials and their cost; at each budget of the table the expected best
    score with its interval and the expected number of trials that finish; the risk of ending
    at or below SFT at the lead budget."""
    c = a.compute
    u = short_unit(c.unit)
    median = c.costs.groupby("method")["cost"].median()
    rows = []
    for m in a.study.methods:
        sub = c.table[c.table["method"] == m]
        if sub.empty:  # no grid trial (confirmation runs only): nothing was drawn from
            continue
        first = sub.iloc[0]
        row = {"method": a.palette.label(m),
               "trials (their cost)": f"{int(first.n_pool)} ({fmt.hours(first.pool_cost, u)})",
               "median trial cost": fmt.hours(median[m], u)}
        for r in sub.itertuples():
            row[f"best within {fmt.hours(r.hours, u)}"] = _cell(r)
        lead = sub[sub["hours"] == c.budget_hours].iloc[0]
        row[f"P(≤ SFT) within {fmt.hours(c.budget_hours, u)}"] = fmt.pct_ci(
            lead.risk_below, lead.risk_below_lo, lead.risk_below_hi)
        rows.append(row)
    return pd.DataFrame(rows)


def compute_sentence(a: StudyAnalysis) -> str:
    """Which method has the highest expected best score at the lead budget, and whether its
    interval overlaps the others'."""
    c = a.compute
    lead = c.table[c.table["hours"] == c.budget_hours].set_index("method")
    top = lead["estimate"].idxmax()
    L = a.palette.label
    overlap = [m for m in lead.index if m != top and lead.at[m, "hi"] >= lead.at[top, "lo"]]
    text = (f"With {budget_text(a)}, {L(top)} has the highest expected best score, "
            f"{fmt.ci(lead.at[top, 'estimate'], lead.at[top, 'lo'], lead.at[top, 'hi'])}")
    if overlap:
        text += (f"; its interval overlaps {' and '.join(L(m) for m in overlap)}'s (marginal "
                 "intervals, which carry the prompt set's shared difficulty: a coarse check), "
                 "so at this budget these numbers do not separate them")
    return text + "."


def compute_figures(a: StudyAnalysis) -> list[ReportFigure]:
    c = a.compute
    if c is None:
        return []
    return [ReportFigure(
        FIGURE, TITLE,
        f"Budgets in {c.unit} on a log axis; a curve starts where every "
        "order finishes at least one trial (the method's dearest trial's cost) and ends where "
        "the method's whole grid is affordable.",
        _png(plot_compute_curves(c.curves, a.cs.sft_point, budget_hours=c.budget_hours,
                                 palette=a.palette)))]


def compute_section(a: StudyAnalysis, figs: dict, fig_dir: str, table) -> list[str]:
    """Markdown lines of the section "What a compute budget buys"; ``table`` renders a
    DataFrame of strings (the report's table renderer, so the section follows its layout)."""
    c = a.compute
    if c is None:
        return ["### What a compute budget buys", "",
                "Left out: no trial has a recorded cost (`time_total_s` or `gpu_hours`).", ""]
    unit = ("GPU-hours (the trials' `gpu_hours`)" if c.unit == UNIT_GPU
            else "wall-clock hours (the trials' `time_total_s`; no trial used a GPU)")
    imputed = int(c.costs["imputed"].sum())
    f = figs[FIGURE]
    lines = ["### What a compute budget buys", "",
             f"Trials differ in cost, so a budget in trials hides what a budget in hours buys. "
             f"Costs are measured {unit}, failed trials included. A user with a budget runs "
             "trials drawn at random from the method's grid, without replacement, back to back "
             "until the budget is spent; the trial running when it runs out is lost. A cell is "
             "the expected best mean score of the trials that finish (Monte Carlo over "
             f"{int(c.table['n_orders'].iloc[0])} random orders per method) and the expected "
             "number of them. When no trial finishes (\"none finishes in x%\": the orders "
             "whose first trial costs more than the budget) nothing was gained: it counts as a "
             "failed trial, at the failure floor. "
             "Intervals resample the eval prompts and each config's seeds, as above; costs "
             "are not resampled.", ""]
    if imputed:
        lines += [f"{imputed} trial(s) had no recorded cost and count at their method's median "
                  "cost.", ""]
    lines += [compute_sentence(a), "", table(compute_md(a)), "",
              f"![{f.title}]({fig_dir}/{f.name}.png)", "", f"*{f.title}.* {f.caption}", ""]
    return lines

