"""The report as Markdown: a verdict card, a table of contents, the recommendation and the
evidence (each figure beside the table it explains), every trial, sample responses, and the
provenance with the resolved config in an appendix.

Every number printed here is a cell of a table in ``StudyAnalysis`` passed through
``analysis.fmt``; nothing is recomputed. The best value of a column is bold where "best" has a
direction (higher score, lower risk). Sections adapt to the study: panels and tables that
cannot be computed, or that would repeat another (a best config that is also the top-25%
config), are left out with one sentence saying why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis import fmt
from analysis.analyze import StudyAnalysis
from analysis.breakdown import component_label, method_breakdown
from analysis.report import sentences as S
from analysis.report.compute import compute_section
from analysis.report.figures import ReportFigure
from analysis.report.html import anchor
from analysis.report.leaderboard import leaderboard
from analysis.report.responses import response_tables
from analysis.report.roles import roles_shown
from analysis.report.verdict import simulation_banner, verdict_md
from analysis.sensitivity import grid_table, top_two_axes
from analysis.style import config_label, fmt_value
from analysis.tables import (RATE_METRICS, TABLE1_METRICS, head_to_head_table, method_table,
                             reference_method)
from harness.schema import JUDGE_COLUMN_PREFIX, describe_excluded

FORMULAS = "docs/analysis.md"
ROLE_NAMES = {"best": "best", "top25": "top-25%"}
KIND_NAMES = {"raw": "raw", "lc": "LC"}


def md_table(df: pd.DataFrame) -> str:
    """A pipe table of strings (index dropped)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [str(v).replace("|", "\\|").replace("\n", " ") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bold_best(df: pd.DataFrame, column: str, values, higher: bool = True) -> pd.DataFrame:
    """Bold the cells of ``column`` whose value (``values``, one per row) is the best of the
    column, and every cell that prints the same estimate (a tie as the reader sees it); nothing
    when every row prints the same, or with fewer than two finite values."""
    v = pd.to_numeric(pd.Series(list(values), index=df.index), errors="coerce")
    if column not in df or v.notna().sum() < 2:
        return df
    shown = df[column].astype(str).str.split(" [", regex=False).str[0]
    best = shown[v.idxmax() if higher else v.idxmin()]
    hit = (shown == best) & v.notna()
    if hit[v.notna()].all():
        return df
    df = df.copy()
    df.loc[hit, column] = [f"**{x}**" for x in df.loc[hit, column]]
    return df


def _range_text(a: StudyAnalysis, x) -> str:
    values = "{" + ", ".join(fmt_value(v) for v in x.values) + "}"
    label = a.study.info(x.method).axis(x.param).text
    if x.full_grid:
        return f"{label}: every value {values} (does not narrow it)"
    return f"{label} {values}"


def start_table(a: StudyAnalysis) -> pd.DataFrame:
    L = a.palette.label
    ranges = a.ranges
    rows, scores, hoods = [], [], []
    for r in a.starts.to_dict("records"):
        if r["config_id"] is None or pd.isna(r["config_id"]):
            rows.append({"method": L(r["method"]), "recommended start": "no trial completed"})
            scores.append(np.nan)
            hoods.append(np.nan)
            continue
        rg = ranges[ranges["method"] == r["method"]]
        if rg.empty:
            rtxt = "single config: nothing to search"
        elif rg["full_grid"].all():
            rtxt = (f"top {int(rg['n_top'].iloc[0])}: every value of every axis (the grid "
                    "does not narrow)")
        else:
            rtxt = "; ".join(_range_text(a, x) for x in rg.itertuples())
            rtxt = f"top {int(rg['n_top'].iloc[0])}: " + rtxt
        rows.append({
            "method": L(r["method"]),
            "recommended start": config_label(r, a.study.info(r["method"]).axes),
            "its score": fmt.ci(r["score"], r["score_lo"], r["score_hi"]),
            "robust score": (fmt.ci(r["neighbourhood"], r["neighbourhood_lo"],
                                    r["neighbourhood_hi"]) + f" ({int(r['n_neighbours'])} nbrs)"
                             if int(r["n_neighbours"]) else "= its score (no neighbours)"),
            "rank by own score": f"{int(r['rank_by_score'])} (best {fmt.num(r['best_score'])})",
            "values among the top configs": rtxt,
        })
        scores.append(r["score"])
        hoods.append(r["neighbourhood"] if int(r["n_neighbours"]) else np.nan)
    out = pd.DataFrame(rows).fillna("-")
    out = bold_best(out, "its score", scores)
    return bold_best(out, "robust score", hoods)


def _pool_text(sub: pd.DataFrame) -> str:
    n_cfg, n_pool = int(sub["n_configs"].iloc[0]), int(sub["n_pool"].iloc[0])
    return f"{n_pool} ({n_cfg} x {n_pool // max(n_cfg, 1)})" if n_pool != n_cfg else str(n_cfg)


def budget_md(a: StudyAnalysis) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(expected best of n per method, risk of ending at or below SFT and trials to beat it)."""
    best_rows, risk_rows = [], []
    tb = a.to_beat.set_index("method")
    perf = a.performance.set_index("method")
    bt = a.budgets[a.budgets["n"] <= a.budgets["n_pool"].max()]  # beyond: every grid's best
    for m in a.study.methods:
        sub = bt[bt["method"] == m]
        best = {"method": a.palette.label(m), "trials (configs x seeds)": _pool_text(sub)}
        risk = {"method": a.palette.label(m)}
        if int(perf.at[m, "n_ok"]) == 0:
            best["best of 1"] = "no trial completed"
            best_rows.append(best)
            risk_rows.append(risk)
            continue
        for r in sub.itertuples():
            best[f"best of {r.n}"] = fmt.ci(r.expected_best, r.expected_best_lo,
                                            r.expected_best_hi) + (" †" if r.exhausted else "")
            risk[f"P(≤ SFT), n={r.n}"] = fmt.pct_ci(r.risk_below, r.risk_below_lo,
                                                    r.risk_below_hi)
        t = tb.loc[m]
        risk["trials to beat SFT w.p. 95%"] = fmt.trials_ci(t["trials"], t["trials_lo"],
                                                            t["trials_hi"])
        best_rows.append(best)
        risk_rows.append(risk)
    best_df, risk_df = pd.DataFrame(best_rows).fillna("-"), pd.DataFrame(risk_rows).fillna("-")
    for n in sorted(bt["n"].unique()):
        sub = bt[bt["n"] == n].set_index("method").reindex(a.study.methods)
        best_df = bold_best(best_df, f"best of {n}", sub["expected_best"])
        risk_df = bold_best(risk_df, f"P(≤ SFT), n={n}", sub["risk_below"], higher=False)
    risk_df = bold_best(risk_df, "trials to beat SFT w.p. 95%",
                        tb.reindex(a.study.methods)["trials"], higher=False)
    return best_df, risk_df


def summary_md(a: StudyAnalysis) -> pd.DataFrame:
    t = method_table(a.performance)
    out = pd.DataFrame({
        "method": t["method"].map(a.palette.label),
        "trials (configs x seeds)": [f"{r.n_trials} ({r.n_configs} x {r.n_seeds})"
                                     for r in t.itertuples()],
        "ok / failed / diverged": [f"{r.n_ok} / {r.n_failed} / {r.n_diverged}"
                                   for r in t.itertuples()],
        "trials at or below SFT": [fmt.pct_ci(r.share_below_sft, r.share_below_sft_lo,
                                              r.share_below_sft_hi, 0) for r in t.itertuples()],
        "IQM of configs": [fmt.ci(r.iqm, r.iqm_lo, r.iqm_hi) for r in t.itertuples()],
        "best config": [fmt.ci(r.best, r.best_lo, r.best_hi) for r in t.itertuples()],
    })
    out = bold_best(out, "trials at or below SFT", t["share_below_sft"], higher=False)
    out = bold_best(out, "IQM of configs", t["iqm"])
    return bold_best(out, "best config", t["best"])


def poi_md(a: StudyAnalysis) -> pd.DataFrame:
    L = a.palette.label
    methods = a.study.methods
    rows = []
    for m in methods:
        row = {"P(row config beats column)": L(m)}
        for b in methods + ["sft"]:
            r = a.poi[(a.poi["method_a"] == m) & (a.poi["method_b"] == b)].iloc[0]
            row["SFT" if b == "sft" else L(b)] = ("—" if b == m
                                                 else fmt.ci(r.poi, r.lo, r.hi, 2))
        rows.append(row)
    return pd.DataFrame(rows)


NAMES = {"mean_score": "mean score", "win_vs_chosen": "win vs chosen",
         "win_vs_sft": "win vs SFT", "mean_kl": "KL (nats)",
         "kl_per_token": "per-token KL (nats/token)", "mean_length": "length (tokens)"}
HIGHER_IS_BETTER = ("mean_score", "win_vs_chosen", "win_vs_sft")  # KL and length: no "best"
DIGITS = {"mean_score": 3, "win_vs_chosen": 3, "win_vs_sft": 3, "mean_kl": 2,
          "kl_per_token": 4, "mean_length": 1}


def table1_md(a: StudyAnalysis) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(relative to the reference method, absolute): the best config per method. Relative
    rows: % change, or percentage points for rates (``analysis.tables.RATE_METRICS``)."""
    L = a.palette.label
    ref = reference_method(a.table1_rel.index)
    rel, ab = a.table1_rel, a.table1_abs
    rel_rows, abs_rows = [], []
    best = a.best.set_index("method")
    for m in rel.index:
        cfg = config_label(best.loc[m], a.study.info(m).axes)
        src = best.loc[m, "source"]
        n = int(best.loc[m, "n_runs"])
        runs = (f"{n} confirmation run{'s' if n != 1 else ''}" if src == "confirm"
                else f"grid, {n} seed{'s' if n != 1 else ''} (selection-biased)")
        r = {"method": L(m), "best config": cfg, "values from": runs}
        q = {"method": L(m), "best config": cfg, "values from": runs}
        for c in TABLE1_METRICS:
            q[NAMES[c]] = fmt.num(ab.loc[m, c], DIGITS[c])
            r[NAMES[c]] = (fmt.num(ab.loc[m, c], DIGITS[c]) if m == ref
                           else fmt.signed_pp(rel.loc[m, c]) if c in RATE_METRICS
                           else fmt.signed_pct(rel.loc[m, c]))
        rel_rows.append(r)
        abs_rows.append(q)
    absolute = pd.DataFrame(abs_rows)
    for c in HIGHER_IS_BETTER:
        absolute = bold_best(absolute, NAMES[c], ab[c].reindex(rel.index))
    return pd.DataFrame(rel_rows), absolute


def confirmation_md(a: StudyAnalysis) -> pd.DataFrame:
    c = a.confirmation
    return pd.DataFrame({
        "method": c["method"].map(a.palette.label), "role": c["role"].map(ROLE_NAMES),
        "grid score (selected on it)": [
            fmt.ci(r.grid, r.grid_lo, r.grid_hi) + f" ({r.n_grid} seeds)" for r in c.itertuples()],
        "confirmed score": [fmt.ci(r.confirm, r.confirm_lo, r.confirm_hi) + f" ({r.n_confirm} runs)"
                            if r.n_confirm else "-" for r in c.itertuples()],
        "confirmed − grid": [fmt.ci(r.shift, r.shift_lo, r.shift_hi) if r.n_confirm else "-"
                             for r in c.itertuples()],
    })


def h2h_md(a: StudyAnalysis) -> pd.DataFrame:
    """One row per unordered pair (methods in study order, SFT last): B's rate is 100 - A's.
    Columns for the roles shown (``roles_shown``: top-25% only when it differs from best)."""
    L = a.palette.label
    t = head_to_head_table(a.h2h, include_sft=True)
    order = {m: i for i, m in enumerate(a.study.methods + ["sft"])}
    t = t[[order[x] < order[y] for x, y in zip(t["model_a"], t["model_b"])]]
    t = t.assign(_a=t["model_a"].map(order), _b=t["model_b"].map(order)).sort_values(["_a", "_b"])
    rows = []
    for r in t.to_dict("records"):
        row = {"A": L(r["model_a"]), "B": "SFT" if r["model_b"] == "sft" else L(r["model_b"])}
        for role in roles_shown(a):
            for kind in ("raw", "lc"):
                key = f"{role}_{kind}"
                label = f"{ROLE_NAMES[role]} {KIND_NAMES[kind]} (A wins %)"
                row[label] = (fmt.ci(r[key], r[f"{key}_lo"], r[f"{key}_hi"], 1)
                              if key in r and not pd.isna(r[key]) else "-")
        rows.append(row)
    return pd.DataFrame(rows)


def reps_md(a: StudyAnalysis) -> pd.DataFrame:
    """The representative configs; a method whose best is also its top-25% config gets one row
    ("best = top-25%")."""
    r = a.representatives
    rows = []
    for m, g in r.groupby("method", sort=False):
        same = g["config_id"].nunique() == 1
        for x in (g.iloc[:1] if same else g).to_dict("records"):
            rows.append({
                "method": a.palette.label(m),
                "role": "best = top-25%" if same else ROLE_NAMES[x["role"]],
                "rank": f"{x['rank']} of {x['n_configs']}",
                "config": config_label(x, a.study.info(m).axes),
                "grid score": fmt.num(x["score"]), "status": x["status"],
                "first trial": x["trial_id"]})
    return pd.DataFrame(rows)


def elo_md(a: StudyAnalysis) -> pd.DataFrame:
    e = a.elo
    return pd.DataFrame({"model": e["model"].map(lambda x: S.elo_name(x, a.palette.label)),
                         "Elo": e["elo"].map(lambda x: fmt.num(x, 0)),
                         "95% interval": [f"[{fmt.num(lo, 0)}, {fmt.num(hi, 0)}]"
                                          for lo, hi in zip(e["lo"], e["hi"])],
                         "trial": e["trial_id"]})


def variance_md(a: StudyAnalysis) -> pd.DataFrame:
    """Per method: the share (and SD) of each component; axes inside the config share."""
    v = a.variance
    rows = []
    for m in a.study.methods:
        sub = v[v["method"] == m]
        main = sub.set_index("component")
        axes = sub[sub["component"] == "axis"]
        row = {"method": a.palette.label(m)}
        for comp, label in (("config", "hyperparameters"), ("seed", "training seed"),
                            ("config_x_seed", "config x seed"),
                            ("generation_seed", "generation seed"),
                            ("prompts", "prompt sampling")):
            share, sd = main.at[comp, "share"], main.at[comp, "sd"]
            row[label] = (f"{fmt.pct(share)} (SD {fmt.num(sd)})" if np.isfinite(share)
                          else "not estimable" if comp in ("seed", "config_x_seed")
                          else "-")
        parts = [f"{r.label} {fmt.pct(r.share)}" for r in axes.itertuples()]
        inter = sub[sub["component"] == "axis_interactions"]
        parts += [f"interactions {fmt.pct(r.share)}" for r in inter.itertuples()]
        row["of which, by axis"] = ", ".join(parts) or "-"
        row["configs used"] = (f"{int(main.at['config', 'n_configs'])} x "
                               f"{int(main.at['config', 'n_seeds'])} seeds")
        rows.append(row)
    return pd.DataFrame(rows)


def seeds_md(a: StudyAnalysis) -> pd.DataFrame:
    s = a.seeds
    return pd.DataFrame({
        "method": s["method"].map(a.palette.label), "seed": s["seed"].map(fmt_value),
        "mean score over configs": s["mean"].map(fmt.num),
        "best of the config's seeds": s["first"].map(fmt.pct),
        "worst of the config's seeds": s["last"].map(fmt.pct),
        "configs": s["n_configs"]})


def grid_md(a: StudyAnalysis, method: str) -> tuple[str, str] | None:
    """(caption, table) of the mean score over the two most important axes, or None."""
    pair = top_two_axes(a.importances, method, a.grid_axes.get(method, []))
    if pair is None:
        return None
    rows, cols = pair
    info = a.study.info(method)
    g = grid_table(a.configs, method, rows, cols, "score", "mean")
    out = pd.DataFrame({f"{info.axis(rows).text} \\ {info.axis(cols).text}":
                        [fmt_value(v) for v in g.index]})
    for c in g.columns:
        out[fmt_value(c)] = [fmt.num(v) for v in g[c]]
    caption = (f"Mean score of {a.palette.label(method)} by {info.axis(rows).text} and "
               f"{info.axis(cols).text} (its two most important axes; mean over the other "
               "axes; failed trials at the floor):")
    return caption, md_table(out)


def failures_md(a: StudyAnalysis) -> pd.DataFrame | None:
    t = a.study.trials
    bad = t[t["status"] != "ok"]
    if bad.empty:
        return None
    return pd.DataFrame({"trial": bad["trial_id"], "method": bad["method"].map(a.palette.label),
                         "config": [config_label(r, a.study.info(r["method"]).axes)
                                    for r in bad.to_dict("records")],
                         "seed": bad["seed"].map(fmt_value), "role": bad["role"],
                         "status": bad["status"],
                         "error": bad["error"].fillna("").astype(str).str.slice(0, 120)})


def breakdown_md(a: StudyAnalysis, figs: dict, fig_dir: str) -> list[str]:
    """The judge-breakdown section (only when the judge records one): does a method's length
    come with content or with padding?"""
    t = method_breakdown(a.breakdown)
    if t is None:
        return []
    comps = [c for c in t.columns if c.startswith(JUDGE_COLUMN_PREFIX)]
    L = a.palette.label
    table = pd.DataFrame({
        "model": [L(m) if r == "SFT model" else f"{L(m)} {r}" + (f" of {n}" if r == "mean" else "")
                  for m, r, n in zip(t["method"], t["row"], t["n_trials"])],
        "length (tokens)": t["length"].map(lambda v: fmt.num(v, 1)),
        **{component_label(c): t[c].map(lambda v: fmt.num(v, 2)) for c in comps},
        "score": t["score"].map(fmt.num),
    })
    return ["### Where the score and the length come from (judge breakdown)", "",
            "The gold judge splits every score into components that sum to it (score points "
            "per reply, means over the eval prompts): the best trial of each method and the "
            "mean over its ok trials, next to the SFT model. Padding lengthens a reply without "
            "adding content.", "", md_table(table), "",
            _figure(figs["fig8_breakdown"], fig_dir), ""]


def _figure(f: ReportFigure, fig_dir: str) -> str:
    return f"![{f.title}]({fig_dir}/{f.name}.png)\n\n*{f.title}.* {f.caption}"


def pair(left: list[str], right: list[str]) -> list[str]:
    """Two blocks side by side in the HTML (stacked on a narrow screen), one after the other in
    report.md."""
    return (['<div class="pair" markdown="1">', '<div markdown="1">', "", *left, "", "</div>",
             '<div markdown="1">', "", *right, "", "</div>", "</div>", ""])


def _replicates_line(a: StudyAnalysis) -> str:
    rep = a.study.meta.get("replicates")
    seeds = a.study.seeds
    gen = rep.get("generation_seed") if isinstance(rep, dict) else None
    gen_text = {"fixed": "one generation seed for every trial",
                "per_replicate": "the generation seed follows the training seed"}.get(
        gen, "generation seed not recorded")
    return f"- training seeds (replicates of every config): {seeds}; {gen_text}"


def relative_paths(value, base: Path):
    """``value`` (study.json's config) with every absolute path made relative to ``base`` (the
    study's results folder), so the report names no machine's folders."""
    if isinstance(value, dict):
        return {k: relative_paths(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [relative_paths(v, base) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        try:
            return os.path.relpath(value, base)
        except ValueError:  # another drive (Windows): the name alone
            return Path(value).name
    return value


# The report's sections in order: (title, anchor). The table of contents lists them; the test
# checks every link resolves to a heading id.
SECTIONS = ("Verdict", "Contents", "Recommendation", "Budget", "Methods over the grid",
            "Best configs", "Head-to-head", "Length and KL", "Hyperparameters", "Leaderboard",
            "Sample responses", "Appendix: provenance and config")


def _toc() -> list[str]:
    out = ["## Contents", "", '<div class="toc" markdown="1">', ""]
    out += [f"- [{t}](#{anchor(t)})" for t in SECTIONS if t not in ("Verdict", "Contents")]
    return out + ["", "</div>", ""]


def _intro(a: StudyAnalysis) -> str:
    opts = a.options
    level = int(round(100 * opts["level"]))
    n_prompts = len(a.study.prompt_ids)
    seeds = a.cs.max_seeds
    resampled = (f"the {n_prompts} eval prompts and, within each config, its {seeds} training "
                 "seeds" if seeds > 1 else f"the {n_prompts} eval prompts only")
    text = (f"_Study `{a.study.name}` (results folder `{a.study.path.name}/`). Intervals are "
            f"{level}% percentile intervals over {opts['n_boot']} bootstrap resamples (seed "
            f"{opts['seed']}) of {resampled}")
    if seeds < 2:
        text += ("; with one training seed per config, training noise is not measured and "
                 "not in the intervals")
    return (text + ". Scores are the gold judge's. Failed and diverged trials count as "
            f"scoring below every real model. Formulas and sources: {FORMULAS}._")


def _recommendation(a: StudyAnalysis) -> list[str]:
    out = ["## Recommendation", ""]
    out += [p + "\n" for p in S.answer(a)]
    out.append(S.start_sentence(a) + "\n")
    if (where := S.model_sentence(a)) is not None:  # issue 12: the kept policy
        out.append(where + "\n")
    out += ["The recommended start of each method maximises a robust score: half its own mean "
            "score, half the mean of its grid neighbours (the configs one grid step away on one "
            "hyperparameter), so it is a good config in a good region, not only the single best "
            "run. The last column lists the values of each axis among the method's top configs "
            "by score.", "", md_table(start_table(a)), ""]
    for w in S.edge_sentences(a):
        out += [w, ""]
    return out


def _budget(a: StudyAnalysis, figs: dict, fig_dir: str) -> list[str]:
    best, risk = budget_md(a)
    pool = int(a.budgets["n_pool"].max())
    shown = a.budgets[a.budgets["n"] <= pool]
    beyond = ("" if not shown["exhausted"].any() else
              " † the budget exceeds the method's trials: the value is its grid's best.")
    if a.choice.budget > pool:
        beyond += (f" Your budget, {a.choice.budget} trials, exceeds every grid: the expected "
                   f"best is each grid's best, the last column.")
    out = ["## Budget", "",
           "Expected best mean score after n trials drawn at random from the method's grid "
           "(without replacement; a trial is one config run with one seed; SFT mean score "
           f"{fmt.num(a.cs.sft_point)}). Budgets stop at the largest grid "
           f"({pool} trial{'s' if pool != 1 else ''}).{beyond}", ""]
    out += pair([md_table(best)], [_figure(figs["fig2_budget"], fig_dir)])
    out += ["The probability that all n trials end at or below the SFT model, and the trials "
            "needed for a 95% chance that the best of them beats it (never: not within the "
            "grid):", "", md_table(risk), ""]
    out += compute_section(a, figs, fig_dir, md_table)
    return out


def _methods(a: StudyAnalysis, figs: dict, fig_dir: str) -> list[str]:
    out = ["## Methods over the grid", "", S.summary_sentence(a), ""]
    out += pair([md_table(summary_md(a))], [_figure(figs["fig1_distribution"], fig_dir)])
    out += ["P(a config drawn at random from the row method's grid scores above one drawn from "
            "the column's); 0.5 means no difference. " + S.poi_sentence(a), "",
            md_table(poi_md(a)), ""]
    return out


def _best_configs(a: StudyAnalysis, figs: dict, fig_dir: str) -> list[str]:
    L = a.palette.label
    rel, ab = table1_md(a)
    ref = reference_method(a.table1_rel.index)
    out = ["## Best configs", "", S.selection_sentence(a), "", S.table1_sentence(a), "",
           md_table(ab), ""]
    if len(rel) > 1:
        out += [f"The same as changes from {L(ref)}'s best (the paper's Table 1 shape): "
                "relative change in %, win rates in percentage points (pp):", "",
                md_table(rel), ""]
    if a.confirmed:
        out += ["Selected configs: grid score against confirmed score (fresh seeds):", "",
                md_table(confirmation_md(a)), ""]
    return out


def _head_to_head(a: StudyAnalysis, figs: dict, fig_dir: str) -> list[str]:
    L = a.palette.label
    roles = roles_shown(a)
    out = ["## Head-to-head", "",
           "Per prompt, each method's representative configs meet: best = rank 1"
           + (", top-25% = the config at the 75th percentile of the grid score" if
              "top25" in roles else
              "; the top-25% config is the best config for every method here (small grids), "
              "so it is shown once")
           + ". Win rates of A over B in %, ties as half. " + S.lc_note(a), "",
           md_table(reps_md(a)), ""]
    if len(a.missing):
        out += ["Representatives without responses (left out of the head-to-head): "
                + ", ".join(f"{L(r.method)} {r.role} ({r.trial_id}, {r.status})"
                            for r in a.missing.itertuples()), ""]
    if len(a.h2h):
        out += [md_table(h2h_md(a)), "", _figure(figs["fig7_head_to_head"], fig_dir), ""]
        out += ["Bradley-Terry ratings over all these pairings (SFT anchored at 1000). "
                + S.elo_sentence(a), "", md_table(elo_md(a)), ""]
    return out


def _length_kl(a: StudyAnalysis, figs: dict, fig_dir: str) -> list[str]:
    return ["## Length and KL", "", _figure(figs["fig3_length_topk"], fig_dir), "",
            _figure(figs["fig4_kl_topk"], fig_dir), "",
            _figure(figs["fig5_kl_vs_score"], fig_dir), ""]


def _notes(items: list[tuple[str, str]]) -> list[str]:
    """Bullets "who: note", one per distinct note (its subjects joined), so a note that holds
    for every method is said once."""
    by_note: dict[str, list[str]] = {}
    for who, note in items:
        by_note.setdefault(note, []).append(who)
    out = [f"- {S._join(whos)}: {note}." for note, whos in by_note.items()]
    return out + [""] if out else []


def _hyperparameters(a: StudyAnalysis, figs: dict, fig_dir: str) -> list[str]:
    L = a.palette.label
    out = ["## Hyperparameters", ""]
    panels = [f for name, f in figs.items() if name.startswith("fig6_sensitivity_")]
    for f in panels:
        out += [_figure(f, fig_dir), ""]
    if not panels:
        out += ["No sensitivity panels: no method's grid varies an axis.", ""]
    if "fig6_importance" in figs:
        out += [_figure(figs["fig6_importance"], fig_dir), ""]
    notes = a.importances[a.importances["note"].notna()]
    for note, g in notes.groupby("note", sort=False):
        out.append(f"- Importance ({S._join(list(dict.fromkeys(g['evaluator'])))}) not computed "
                   f"for {S._join([L(m) for m in dict.fromkeys(g['method'])])}: {note}.")
    if len(notes):
        out.append("")
    for m in a.study.methods:
        g = grid_md(a, m)
        if g:
            out += [g[0], "", g[1], ""]
    out += ["### Seeds, prompts and hyperparameters", ""]
    if "fig6_variance" in figs:
        out += [_figure(figs["fig6_variance"], fig_dir), "", md_table(variance_md(a)), ""]
        notes = a.variance.dropna(subset=["note"]).drop_duplicates("method")
        out += _notes([(L(r.method), r.note) for r in notes.itertuples()])
    else:
        out += ["No variance decomposition: too few completed trials.", ""]
    if len(a.seeds):
        out += [S.seed_sentence(a), "", md_table(seeds_md(a)), ""]
    return out


def _leaderboard(a: StudyAnalysis) -> list[str]:
    return ["## Leaderboard", "",
            f"Every trial of the study ({len(a.study.trials)}: grid and confirmation rows, "
            "failed ones too), best mean score first; in the HTML, click a column's header to "
            "sort by it. Values are trials.parquet's own (per-token KL: sum of KL over sum of "
            "tokens).", "", '<div class="sortable" markdown="1">', "", md_table(leaderboard(a)),
            "", "</div>", ""]


def _responses(a: StudyAnalysis) -> list[str]:
    out = ["## Sample responses", "",
           "The results record neither the prompt texts nor whether a prompt is harmful or "
           "benign, so the prompts are picked by score: where the SFT model scores lowest, "
           "its median and its highest, and where the recommended method's best config gains "
           "most over it. Each method's best config and the SFT model; the reply is the "
           "first response (cut after 400 characters; samples.parquet has all), score and "
           "length the per-prompt values the statistics use.", ""]
    for title, table in response_tables(a):
        out += [f"**{title}**", "", md_table(table), ""]
    return out


def _appendix(a: StudyAnalysis) -> list[str]:
    study = a.study
    meta = study.meta
    versions = meta.get("versions") or {}
    out = ["## Appendix: provenance and config", "", S.provenance_counts(a), ""]
    out += [f"- created: {meta.get('created', '-')}",
            f"- git revision: {meta.get('git_revision') or 'not recorded'}",
            _replicates_line(a),
            "- versions: " + (", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
                              or "not recorded"),
            "- trials kept aside (recorded in the results folder, not analysed): "
            + (describe_excluded(meta.get("excluded")) or "none"),
            ""]
    fails = failures_md(a)
    if fails is not None:
        out += ["Trials that failed or diverged:", "", md_table(fails), ""]
    config = relative_paths(json.loads(json.dumps(meta.get("config", {}), default=str)),
                            Path(study.path).resolve())
    out += ["<details><summary>Resolved study config (paths relative to the results "
            "folder)</summary>", "", "```yaml",
            yaml.safe_dump(config, sort_keys=False).rstrip(), "```", "", "</details>", ""]
    return out


def render_markdown(a: StudyAnalysis, figures: list[ReportFigure], fig_dir: str = "figures") -> str:
    figs = {f.name: f for f in figures}
    out = [f"# Which method, which hyperparameters: {a.study.name}", ""]
    if (banner := simulation_banner(a)) is not None:
        out += ['<div class="banner" markdown="1">', "", banner, "", "</div>", ""]
    out += ["## Verdict", ""] + verdict_md(a) + [_intro(a), ""]
    out += _toc()
    out += _recommendation(a)
    out += _budget(a, figs, fig_dir)
    out += _methods(a, figs, fig_dir)
    out += _best_configs(a, figs, fig_dir)
    out += _head_to_head(a, figs, fig_dir)
    out += _length_kl(a, figs, fig_dir)
    out += breakdown_md(a, figs, fig_dir)
    out += _hyperparameters(a, figs, fig_dir)
    out += _leaderboard(a)
    out += _responses(a)
    out += _appendix(a)
    return "\n".join(out).rstrip() + "\n"
