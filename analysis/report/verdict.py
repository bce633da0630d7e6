"""The verdict card that opens the report, and the banner of a simulated study.

The card is five lines a reader can act on (six with a budget in hours), each a cell of a ``StudyAnalysis`` table passed
through ``analysis.fmt``: the method to start with, its recommended config, the expected best at
the user's budget (with its interval), the risk of ending at or below the SFT model, and how
sure this is (is the gap to the runner-up separated, and is it larger than one trial's
training-seed noise, or was that noise not measured at all).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import fmt
from analysis.analyze import StudyAnalysis
from analysis.report.sentences import pooled_seed_sd
from analysis.style import config_label

# What in a study's recorded config marks the toy world (harness/toyworld, a simulation): its
# own config section, or its data adapter, policy model or judge chosen by name. Read from
# study.json's ``config``, so analysis imports nothing from the harness's plug-in.
SIMULATION_SECTION = "toyworld"
SIMULATION_NAMES = {"toyworld", "toy"}


def simulation_parts(config: dict) -> list[str]:
    """The parts of ``config`` (study.json's resolved study config) that are simulated."""
    if not isinstance(config, dict):
        return []
    parts = []
    if SIMULATION_SECTION in config:
        parts.append("world")
    data = config.get("data") or {}
    for split in ("train", "eval"):
        spec = data.get(split) if isinstance(data, dict) else None
        if isinstance(spec, dict) and spec.get("adapter") in SIMULATION_NAMES:
            parts.append(f"{split} data")
    policy = config.get("policy") or {}
    if isinstance(policy, dict) and policy.get("model") in SIMULATION_NAMES:
        parts.append("SFT model")
    judge = config.get("judge") or {}
    if isinstance(judge, dict) and judge.get("name") in SIMULATION_NAMES:
        parts.append("judge")
    return parts


def simulation_banner(a: StudyAnalysis) -> str | None:
    """A one-paragraph warning when the study ran in the toy world; None otherwise."""
    parts = simulation_parts(a.study.meta.get("config", {}))
    if not parts:
        return None
    return ("**Simulation.** This study ran in the toy world (" + ", ".join(parts) + " from "
            "harness/toyworld): a small synthetic world whose judge is a known formula. Its "
            "numbers show how the harness and the statistics behave; they say nothing about "
            "how these methods rank on real models and data.")


def budget_text(a: StudyAnalysis) -> str:
    """The user's budget in trials, in words."""
    n = a.choice.budget
    return f"{n} trial{'s' if n != 1 else ''}"


def compute_row(a: StudyAnalysis) -> tuple[str, str] | None:
    """The verdict's line for a budget in hours (``--budget-hours``): the method with the
    highest expected best score within it and that score, from the compute view
    (``StudyAnalysis.compute``, ``analysis.compute``: branch ``notebooks``, issue 15). None
    when the analysis has no compute view or the user gave no budget in hours."""
    c = getattr(a, "compute", None)  # the compute view merges from branch notebooks
    if c is None or not c.given:
        return None
    from analysis.fmt import hours

    from analysis.compute import UNIT_GPU

    unit = "GPU-h" if c.unit == UNIT_GPU else "h"
    lead = c.table[c.table["hours"] == c.budget_hours].set_index("method")
    top = lead["estimate"].idxmax()
    r = lead.loc[top]
    text = (f"**{a.palette.label(top)}**: {fmt.ci(r['estimate'], r['lo'], r['hi'])} mean score "
            f"from the {r['mean_trials']:.1f} trials that finish on average; risk at or below "
            f"SFT {fmt.pct_ci(r['risk_below'], r['risk_below_lo'], r['risk_below_hi'])}")
    if top != a.choice.method:
        text += (f" (by trials, {a.palette.label(a.choice.method)} leads: its trials cost more "
                 "or less than the others')")
    return (f"Expected best within your compute budget ({hours(c.budget_hours, unit)})", text)


def _budget_row(a: StudyAnalysis, method: str, n: int):
    bt = a.budgets.set_index(["method", "n"])
    return bt.loc[(method, n)] if (method, n) in bt.index else None


def sureness(a: StudyAnalysis) -> str:
    """One line: is the lead separated from the runner-up, and against which noise."""
    L = a.palette.label
    ch = a.choice
    parts = []
    comp = ch.comparisons[ch.comparisons["n"] == ch.budget] if len(ch.comparisons) else \
        ch.comparisons
    if len(a.study.methods) == 1:
        parts.append("one method: no choice of method to be sure about")
    elif len(comp):
        r = comp.loc[comp["diff"].idxmin()]
        gap = fmt.ci(r["diff"], r["diff_lo"], r["diff_hi"])
        parts.append(f"ahead of the runner-up {L(r['method'])} by {gap}, "
                     + ("an interval that excludes zero" if r["separated"]
                        else "an interval that includes zero: not separated"))
        sd = pooled_seed_sd(a)
        if np.isfinite(sd):
            parts.append(f"the gap is {'larger' if r['diff'] > sd else 'smaller'} than one "
                         f"trial's training-seed SD ({fmt.num(sd)}, variance decomposition)")
    if a.cs.max_seeds < 2:
        parts.append("one seed per config: training noise was not measured and is not in the "
                     "intervals")
    return "; ".join(parts) + "." if parts else "-"


def verdict_rows(a: StudyAnalysis) -> list[tuple[str, str]]:
    """(label, text) lines of the verdict card."""
    L = a.palette.label
    ch = a.choice
    if int(a.performance["n_ok"].sum()) == 0:
        return [("Method to start with", f"none: all {len(a.study.trials)} trials failed or "
                 "diverged (the appendix lists their errors)")]
    n_methods = len(a.study.methods)
    rows = [("Method to start with",
             f"**{L(ch.method)}**" + (f" (highest expected best of {budget_text(a)} among "
                                       f"{n_methods} methods)" if n_methods > 1
                                       else " (the study's only method)"))]
    start = a.starts[a.starts["method"] == ch.method]
    if len(start) and not pd.isna(start.iloc[0]["config_id"]):
        rows.append(("Recommended config",
                     config_label(start.iloc[0], a.study.info(ch.method).axes)))
    lead = _budget_row(a, ch.method, ch.budget)
    if lead is not None:
        rows.append((f"Expected best at your budget ({budget_text(a)})",
                     fmt.ci(lead["expected_best"], lead["expected_best_lo"],
                            lead["expected_best_hi"])
                     + f" mean score (SFT model: {fmt.num(a.cs.sft_point)})"
                     + (" — the grid holds fewer trials: this is its best" if lead["exhausted"]
                        else "")))
        risk = fmt.pct_ci(lead["risk_below"], lead["risk_below_lo"], lead["risk_below_hi"])
        one = _budget_row(a, ch.method, 1)
        rows.append(("Risk of ending at or below SFT",
                     risk + (f" with {budget_text(a)}; {fmt.pct(one['risk_below'], 1)} with "
                             "a single trial" if one is not None and ch.budget != 1 else "")
                     + (" (prompt resampling only: seed noise not measured)"
                        if a.cs.max_seeds < 2 else "")))
    if (row := compute_row(a)) is not None:
        rows.append(row)
    rows.append(("How sure", sureness(a)))
    return rows


def verdict_md(a: StudyAnalysis) -> list[str]:
    """The card as Markdown lines (a ``<div class="verdict">`` the HTML styles)."""
    out = ['<div class="verdict" markdown="1">', ""]
    out += [f"- **{label}:** {text}" for label, text in verdict_rows(a)]
    return out + ["", "</div>", ""]
