"""The report's sentences: each states what a figure or table shows in *this* study, from the
numbers in ``StudyAnalysis``, and says when intervals overlap instead of claiming a difference."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import fmt
from analysis.analyze import StudyAnalysis
from analysis.sensitivity import sensitivity_table, value_spread
from analysis.style import config_label, fmt_value, method_label as L, param_label


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def answer(a: StudyAnalysis) -> list[str]:
    """The opening paragraph(s): which method to start with and why."""
    ch = a.choice
    n = ch.budget
    methods = a.study.methods
    bt = a.budgets.set_index(["method", "n"])
    lead = bt.loc[(ch.method, n)] if (ch.method, n) in bt.index else None
    paras = []
    if int(a.performance["n_ok"].sum()) == 0:
        return [f"**No trial completed** ({len(a.study.trials)} trials failed or diverged), so "
                "this study cannot recommend a method or a config. The provenance section lists "
                "the errors."]
    if len(methods) == 1:
        paras.append(
            f"This study has one method, **{L(ch.method)}**, so there is no choice of method to "
            f"make; the sections below say where to start it and what a small budget buys.")
    else:
        lead_txt = (fmt.ci(ch.expected_best, lead["expected_best_lo"], lead["expected_best_hi"])
                    if lead is not None else fmt.num(ch.expected_best))
        text = (f"**Start with {L(ch.method)}.** With a budget of {n} trials (configs drawn at "
                f"random from its grid), its expected best mean score is {lead_txt}, the highest "
                f"of the {len(methods)} methods.")
        comp = ch.comparisons[ch.comparisons["n"] == n]
        parts, unseparated, overlapping = [], [], []
        for r in comp.itertuples():
            parts.append(f"{L(r.method)} by {fmt.ci(r.diff, r.diff_lo, r.diff_hi)} (ahead in "
                         f"{fmt.pct(r.p_ahead)} of prompt resamples)")
            if not r.separated:
                unseparated.append(L(r.method))
            if r.overlap:
                overlapping.append(L(r.method))
        if parts:
            text += f" Paired over the same prompts it leads {_join(parts)}."
        if overlapping:
            text += (f" Its interval overlaps with that of {_join(overlapping)}.")
        if unseparated:
            text += (f" The paired difference with {_join(unseparated)} includes zero: at this "
                     f"budget the data do not separate {L(ch.method)} from "
                     f"{'it' if len(unseparated) == 1 else 'them'}.")
        elif comp.size:
            text += " Every paired difference excludes zero."
        paras.append(text)
        leaders = ch.leaders
        if leaders["method"].nunique() > 1:
            by = [f"{L(m)} at {_join([str(x) for x in g['n']])} trial(s)"
                  for m, g in leaders.groupby("method", sort=False)]
            paras.append(f"The leader depends on the budget: {_join(by)} (expected best, "
                         "without replacement; see the budget table).")
    if lead is not None:
        risk1 = bt.loc[(ch.method, 1)] if (ch.method, 1) in bt.index else None
        text = (f"The risk of ending at or below the SFT model with {n} trials of "
                f"{L(ch.method)} is {fmt.pct(lead['risk_below'], 1)} "
                f"[{fmt.pct(lead['risk_below_lo'], 1)}, {fmt.pct(lead['risk_below_hi'], 1)}]")
        if risk1 is not None and n != 1:
            text += f"; with a single trial it is {fmt.pct(risk1['risk_below'], 1)}"
        paras.append(text + ".")
    return paras


def start_sentence(a: StudyAnalysis) -> str:
    ch = a.choice
    row = a.starts[a.starts["method"] == ch.method].iloc[0]
    if pd.isna(row["trial_id"]):
        return f"No trial of {L(ch.method)} completed, so there is no config to recommend."
    rank = int(row["rank_by_score"])
    where = "the best single config" if rank == 1 else f"rank {rank} by its own score"
    return (f"For {L(ch.method)}, start from {config_label(row)}: its robust score (half its "
            f"own score, half the mean of its {int(row['n_neighbours'])} grid neighbours) is "
            f"{fmt.num(row['neighbourhood'])}, the highest of the grid; the config itself is "
            f"{where}.")


def model_sentence(a: StudyAnalysis) -> str | None:
    """Where the recommended config's trained model is (``policy_path`` of trials.parquet, when
    the study kept policies: ``save.policies``); None when the study keeps none."""
    trials = a.study.trials
    if "policy_path" not in trials.columns:
        return None
    row = a.starts[a.starts["method"] == a.choice.method].iloc[0]
    kept = trials.loc[trials["trial_id"] == row["trial_id"], "policy_path"].dropna()
    if pd.isna(row["trial_id"]) or kept.empty:
        return ("The recommended config's model was not kept (save.policies keeps the best "
                "trials by their own mean score).")
    return f"The recommended config's model is at `{kept.iloc[0]}`."


def provenance_counts(a: StudyAnalysis) -> str:
    t = a.study.trials
    n_expected = a.study.meta.get("n_trials")
    counts = t["status"].value_counts()
    text = (f"{len(t)} trials in trials.parquet ({counts.get('ok', 0)} ok, "
            f"{counts.get('failed', 0)} failed, {counts.get('diverged', 0)} diverged) over "
            f"{len(a.study.methods)} method(s), {len(a.study.prompt_ids)} eval prompts.")
    if n_expected is not None and int(n_expected) != len(t):
        text += (f" study.json expects {n_expected} trials: {int(n_expected) - len(t)} are "
                 "missing (a sweep still running or interrupted); the statistics cover the "
                 "trials present.")
    return text


def summary_sentence(a: StudyAnalysis) -> str:
    p = a.performance
    most = p.loc[p["share_below_sft"].idxmax()]
    least = p.loc[p["share_below_sft"].idxmin()]
    text = (f"{L(most['method'])} has the largest share of trials at or below SFT "
            f"({fmt.pct(most['share_below_sft'])}), {L(least['method'])} the smallest "
            f"({fmt.pct(least['share_below_sft'])}).")
    broken = p[(p["n_failed"] + p["n_diverged"]) > 0]
    if len(broken):
        text += " Failed or diverged: " + _join([
            f"{L(r.method)} {r.n_failed + r.n_diverged} of {r.n_trials}"
            for r in broken.itertuples()
        ]) + " (counted as below SFT)."
    else:
        text += " No trial failed or diverged."
    return text


def distribution_sentence(a: StudyAnalysis) -> str:
    p = a.performance
    top = p.loc[p["iqm"].idxmax()]
    spread = {r.method: r.best - r.worst_ok for r in p.itertuples() if np.isfinite(r.worst_ok)}
    text = (f"{L(top['method'])} has the highest IQM over its grid "
            f"({fmt.ci(top['iqm'], top['iqm_lo'], top['iqm_hi'])})")
    if len(spread) > 1:
        wide = max(spread, key=spread.get)
        narrow = min(spread, key=spread.get)
        text += (f"; {L(wide)} spreads the most (best minus worst real config "
                 f"{fmt.num(spread[wide])}), {L(narrow)} the least ({fmt.num(spread[narrow])})")
    return text + "."


def budget_sentence(a: StudyAnalysis) -> str:
    tb = a.to_beat
    bt = a.budgets
    text = []
    for n in (min(bt["n"]), max(bt["n"])):
        sub = bt[bt["n"] == n].sort_values("expected_best", ascending=False)
        text.append(f"with {n} trial{'s' if n > 1 else ''}: " + _join([
            f"{L(r.method)} {fmt.num(r.expected_best)}" for r in sub.itertuples()]))
    parts = [f"{L(r.method)} {fmt.trials(r.trials)}" for r in tb.itertuples()]
    return (f"Expected best mean score {text[0]}; {text[1]}. Trials needed to beat SFT with 95% "
            f"probability (without replacement): {_join(parts)}.")


def poi_sentence(a: StudyAnalysis) -> str:
    poi = a.poi[(a.poi["method_a"] != a.poi["method_b"]) & (a.poi["method_b"] != "sft")]
    if poi.empty:
        return "With one method there is no pair of methods to compare."
    best = poi.loc[poi["poi"].idxmax()]
    text = (f"The largest probability of improvement is {L(best['method_a'])} over "
            f"{L(best['method_b'])}: {fmt.ci(best['poi'], best['lo'], best['hi'], 2)}")
    inc = poi[(poi["lo"] <= 0.5) & (poi["hi"] >= 0.5)]
    pairs = {tuple(sorted((r.method_a, r.method_b))) for r in inc.itertuples()}
    if pairs:
        text += ("; intervals that include 0.5 (no evidence either way): "
                 + _join([f"{L(x)} vs {L(y)}" for x, y in sorted(pairs)]))
    return text + "."


def h2h_sentence(a: StudyAnalysis) -> str:
    h = a.h2h[(a.h2h["model_a"] != "sft") & (a.h2h["model_b"] != "sft")]
    if h.empty:
        vs = a.h2h[a.h2h["model_b"] == "sft"]
        if vs.empty:
            return "No representative model has responses to compare."
        return "Against the SFT model: " + _join([
            f"{L(r.model_a)} ({r.role}) wins {fmt.rate(r.raw)}% raw, {fmt.rate(r.lc)}% LC"
            for r in vs.itertuples()]) + "."
    h = h[h["model_a"] < h["model_b"]]
    sep = h[(h["lc_lo"] > 50) | (h["lc_hi"] < 50)]
    n_pairs = len(h.groupby(["model_a", "model_b"]))
    n_roles = h["role"].nunique()
    if len(sep):
        text = (f"{len(sep)} of the {len(h)} pairings ({n_pairs} method pairs x {n_roles} "
                "roles) have a length-controlled win-rate interval that excludes 50%: " + _join([
                    f"{L(r.model_a)} vs {L(r.model_b)} ({r.role}, LC "
                    f"{fmt.ci(r.lc, r.lc_lo, r.lc_hi, 1)})" for r in sep.itertuples()]))
    else:
        text = (f"None of the {len(h)} pairings ({n_pairs} method pairs x {n_roles} roles) has "
                "a length-controlled win-rate interval that excludes 50%: between methods, every "
                "head-to-head is within noise of a tie")
    moved = h[np.abs(h["lc"] - h["raw"]) >= 5]
    if len(moved):
        text += ". Length control moves " + _join([
            f"{L(r.model_a)} vs {L(r.model_b)} ({r.role}) from {fmt.rate(r.raw)}% to "
            f"{fmt.rate(r.lc)}%" for r in moved.itertuples()])
    return text + "."


def elo_sentence(a: StudyAnalysis) -> str:
    if a.elo is None or len(a.elo) < 2:
        return "No Elo table: no representative model has responses."
    top = a.elo.iloc[0]
    return (f"{elo_name(top['model'])} rates highest ({fmt.num(top['elo'], 0)} "
            f"[{fmt.num(top['lo'], 0)}, {fmt.num(top['hi'], 0)}], SFT = 1000); ratings whose "
            "intervals overlap are not separated.")


def elo_name(model: str) -> str:
    """'simpo:best' -> 'SimPO best', 'dpo:best+top25' -> 'DPO best = top-25%'."""
    if ":" not in model:
        return L(model)
    m, roles = model.split(":", 1)
    names = {"best": "best", "top25": "top-25%"}
    return f"{L(m)} " + " = ".join(names.get(r, r) for r in roles.split("+"))


def _median_by_k(a: StudyAnalysis, metric: str) -> pd.DataFrame:
    return a.topk_samples.groupby(["method", "k"])[metric].median().unstack("k")


def topk_sentence(a: StudyAnalysis, metric: str, what: str, unit: str, digits: int = 2) -> str:
    med = _median_by_k(a, metric).dropna(how="all")
    if med.empty:
        return f"No samples to show {what}."
    k_lo, k_hi = med.columns.min(), med.columns.max()
    parts = [f"{L(m)} {fmt.num(med.loc[m, k_lo], digits)} → {fmt.num(med.loc[m, k_hi], digits)}"
             for m in med.index]
    hi = med[k_hi].idxmax()
    return (f"Median {what} ({unit}) from the top {k_lo:g}% to the top {k_hi:g}% configs: "
            f"{_join(parts)}; among the top {k_hi:g}%, {L(hi)} has the highest.")


def kl_score_sentence(a: StudyAnalysis) -> str:
    ok = a.configs[a.configs["status"] == "ok"]
    parts = []
    for m in a.study.methods:
        sub = ok[ok["method"] == m]
        if len(sub) >= 3 and sub["mean_kl_per_token"].nunique() > 1:
            rho = sub["mean_kl_per_token"].rank().corr(sub["mean_score"].rank())
            parts.append(f"{L(m)} {rho:+.2f}")
    if not parts:
        return "Too few configs per method to relate KL and score."
    return ("Spearman correlation between a config's mean per-token KL and its mean score: "
            + _join(parts) + " (negative: drifting further from SFT costs score).")


def sensitivity_sentence(a: StudyAnalysis, param: str) -> str:
    parts = []
    for m, params in a.sensitivity_params.items():
        if param not in params:
            continue
        t = sensitivity_table(a.configs, m, param)
        best = t.loc[t["median"].idxmax()]
        parts.append(f"{L(m)}: best median at {param_label(param).split(' (')[0]}="
                     f"{fmt_value(best[param])} ({fmt.num(best['median'])}), medians span "
                     f"{fmt.num(value_spread(a.configs, m, param))}")
    return "; ".join(parts) + "." if parts else ""


def importance_sentence(a: StudyAnalysis) -> str:
    imp = a.importances.dropna(subset=["importance"])
    if imp.empty:
        return "No importances: no method has enough completed trials on more than one config."
    parts = []
    for m, g in imp.groupby("method", sort=False):
        top = g.groupby("param")["importance"].mean().idxmax()
        parts.append(f"{L(m)}: {param_label(top).split(' (')[0]}")
    return ("Most important hyperparameter (mean over the evaluators): " + _join(parts)
            + ". Importances come from a few dozen trials: read them as a ranking, not a "
            "measurement.")


def table1_sentence(a: StudyAnalysis) -> str:
    b = a.best.set_index("method")
    if b["mean_score"].isna().all():
        return "No method has a completed trial: there is no best config to describe."
    top = b["mean_score"].idxmax()
    longest = b["mean_length"].idxmax()
    return (f"{L(top)}'s best config has the highest mean score "
            f"({fmt.num(b.loc[top, 'mean_score'])}); "
            f"{L(longest)}'s best config writes the longest responses "
            f"({fmt.num(b.loc[longest, 'mean_length'], 1)} tokens on average).")
