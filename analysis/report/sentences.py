"""The report's sentences: each states what a figure or table shows in *this* study, from the
numbers in ``StudyAnalysis``, and says when intervals overlap instead of claiming a difference.
Relations between KL, length and score are associations across configs (their hyperparameters
move all of them at once), worded as such and with their n."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import fmt
from analysis.analyze import StudyAnalysis
from analysis.figures.sensitivity import axis_text
from analysis.sensitivity import sensitivity_table, value_spread
from analysis.style import config_label, fmt_value
from analysis.variance import seed_noise

LC_BALANCE_WARN = 0.1  # length_balance below this: the LC fit extrapolates


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def answer(a: StudyAnalysis) -> list[str]:
    """The opening paragraph(s): which method to start with and why."""
    L = a.palette.label
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
    seeds = a.cs.max_seeds
    draw = "configs drawn at random from its grid" + (
        ", each run with one fresh seed" if seeds > 1 else "")
    if len(methods) == 1:
        paras.append(
            f"This study has one method, **{L(ch.method)}**, so there is no choice of method to "
            f"make; the sections below say where to start it and what a small budget buys.")
    else:
        lead_txt = (fmt.ci(ch.expected_best, lead["expected_best_lo"], lead["expected_best_hi"])
                    if lead is not None else fmt.num(ch.expected_best))
        text = (f"**Start with {L(ch.method)}.** With a budget of {n} trials ({draw}), its "
                f"expected best mean score is {lead_txt}, the highest of the {len(methods)} "
                "methods.")
        comp = ch.comparisons[ch.comparisons["n"] == n]
        parts, unseparated, overlapping = [], [], []
        for r in comp.itertuples():
            parts.append(f"{L(r.method)} by {fmt.ci(r.diff, r.diff_lo, r.diff_hi)} (ahead in "
                         f"{fmt.pct(r.p_ahead)} of bootstrap resamples)")
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
        noise = noise_verdict(a)
        if noise:
            paras.append(noise)
    if lead is not None:
        risk1 = bt.loc[(ch.method, 1)] if (ch.method, 1) in bt.index else None
        text = (f"The risk of ending at or below the SFT model with {n} trials of "
                f"{L(ch.method)} is {fmt.pct(lead['risk_below'], 1)} "
                f"[{fmt.pct(lead['risk_below_lo'], 1)}, {fmt.pct(lead['risk_below_hi'], 1)}]")
        if risk1 is not None and n != 1:
            text += f"; with a single trial it is {fmt.pct(risk1['risk_below'], 1)}"
        paras.append(text + ".")
    return paras


def noise_verdict(a: StudyAnalysis) -> str:
    """Whether the gap between the leader and the runner-up exceeds the training-seed noise of
    one trial (``analysis.variance.seed_noise``, pooled over methods as a root mean square)."""
    L = a.palette.label
    comp = a.choice.comparisons
    comp = comp[comp["n"] == a.choice.budget]
    if comp.empty:
        return ""
    runner = comp.loc[comp["diff"].idxmin()]
    sds = [seed_noise(a.variance, m) for m in a.study.methods]
    sds = [s for s in sds if np.isfinite(s)]
    if not sds:
        return (f"Seed noise is unknown: every config ran with one training seed, so part of "
                f"the gap between {L(a.choice.method)} and {L(runner['method'])} "
                f"({fmt.num(runner['diff'])}) may be one lucky or unlucky seed; rerun the grid "
                "with several seeds (grid.seed: [0, 1, 2]) to measure it.")
    sd = float(np.sqrt(np.mean(np.square(sds))))
    if runner["diff"] > sd:
        return (f"The gap to the runner-up, {L(runner['method'])} ({fmt.num(runner['diff'])}), "
                f"exceeds the training-seed SD of a single trial ({fmt.num(sd)}, pooled over "
                "the methods; see the variance decomposition).")
    return (f"The gap to the runner-up, {L(runner['method'])} ({fmt.num(runner['diff'])}), is "
            f"smaller than the training-seed SD of a single trial ({fmt.num(sd)}, pooled over "
            "the methods): one rerun with another seed could reverse the order of a user's "
            "trials.")


def start_sentence(a: StudyAnalysis) -> str:
    L = a.palette.label
    ch = a.choice
    row = a.starts[a.starts["method"] == ch.method].iloc[0]
    if pd.isna(row["config_id"]):
        return f"No trial of {L(ch.method)} completed, so there is no config to recommend."
    rank = int(row["rank_by_score"])
    where = "the best single config" if rank == 1 else f"rank {rank} by its own score"
    return (f"For {L(ch.method)}, start from {config_label(row, a.study.info(ch.method).axes)}: "
            f"its robust score (half its own score, half the mean of its "
            f"{int(row['n_neighbours'])} grid neighbours) is {fmt.num(row['neighbourhood'])}, "
            f"the highest of the grid; the config itself is {where}.")


def edge_sentences(a: StudyAnalysis) -> list[str]:
    """One warning per (method, axis) where the best config or the start sits on a grid edge."""
    L = a.palette.label
    out = []
    names = {"best": "best config", "start": "recommended start",
             "best, start": "best config (also the recommended start)"}
    for r in a.edges.itertuples():
        values = ", ".join(fmt_value(v) for v in r.grid_values)
        out.append(f"**Grid edge:** {L(r.method)}'s {names.get(r.which, r.which)} has "
                   f"{r.label} = {fmt_value(r.value)}, the {r.side} value of its grid "
                   f"({values}); the best value may lie beyond it: {r.advice}.")
    return out


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
    n_conf = len(a.study.confirm)
    seeds = a.cs.max_seeds
    text += (f" The grid has {len(a.cs.config_ids)} configs x {seeds} training seed(s)"
             + (f"; {n_conf} confirmation runs of selected configs on fresh seeds." if n_conf
                else "; no confirmation runs."))
    spp = a.study.samples_per_prompt
    if spp > 1:
        text += (f" Up to {spp} responses per prompt, averaged per prompt before every "
                 "per-prompt comparison.")
    if n_expected is not None and int(n_expected) != len(t):
        text += (f" study.json expects {n_expected} trials: {int(n_expected) - len(t)} are "
                 "missing (a sweep still running or interrupted); the statistics cover the "
                 "trials present.")
    return text


def summary_sentence(a: StudyAnalysis) -> str:
    L = a.palette.label
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
    L = a.palette.label
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
    L = a.palette.label
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
    L = a.palette.label
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


def lc_note(a: StudyAnalysis) -> str:
    """One sentence on what the LC win rate is, and a warning for pairs whose lengths barely
    overlap (the LC fit then extrapolates to equal length)."""
    L = a.palette.label
    text = ("The length-controlled (LC) win rate is the win rate a logistic fit of the "
            "per-prompt wins on the two responses' length difference predicts at equal length, "
            "so it discounts wins that come only from writing longer or shorter.")
    h = a.h2h[a.h2h["model_a"] < a.h2h["model_b"]]
    low = h[h["length_balance"] < LC_BALANCE_WARN]
    if len(low):
        pairs = _join([f"{L(r.model_a)} vs {L(r.model_b)} ({r.role}: the shorter model is "
                       f"longer on only {fmt.pct(r.length_balance)} of prompts)"
                       for r in low.itertuples()])
        text += (f" **Warning:** the lengths barely overlap for {pairs}; there the LC rate "
                 "extrapolates beyond the data and is unreliable.")
    return text


def h2h_sentence(a: StudyAnalysis) -> str:
    L = a.palette.label
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
    return (f"{elo_name(top['model'], a.palette.label)} rates highest "
            f"({fmt.num(top['elo'], 0)} [{fmt.num(top['lo'], 0)}, {fmt.num(top['hi'], 0)}], "
            "SFT = 1000); ratings whose intervals overlap are not separated.")


def elo_name(model: str, label=lambda m: m) -> str:
    """'simpo:best' -> 'SimPO best', 'dpo:best+top25' -> 'DPO best = top-25%'."""
    if ":" not in model:
        return "SFT" if model == "sft" else label(model)
    m, roles = model.split(":", 1)
    names = {"best": "best", "top25": "top-25%"}
    return f"{label(m)} " + " = ".join(names.get(r, r) for r in roles.split("+"))


def _median_by_k(a: StudyAnalysis, metric: str) -> pd.DataFrame:
    return a.topk_samples.groupby(["method", "k"])[metric].median().unstack("k")


def topk_sentence(a: StudyAnalysis, metric: str, what: str, unit: str, digits: int = 2) -> str:
    L = a.palette.label
    med = _median_by_k(a, metric).dropna(how="all")
    if med.empty:
        return f"No samples to show {what}."
    k_lo, k_hi = med.columns.min(), med.columns.max()
    parts = [f"{L(m)} {fmt.num(med.loc[m, k_lo], digits)} → {fmt.num(med.loc[m, k_hi], digits)}"
             for m in med.index]
    hi = med[k_hi].idxmax()
    return (f"Median {what} ({unit}, per prompt) from the top {k_lo:g}% to the top {k_hi:g}% "
            f"configs: {_join(parts)}; among the top {k_hi:g}%, {L(hi)} has the highest.")


def kl_note(a: StudyAnalysis) -> str:
    """What the KL numbers are, and why some can be negative in older results."""
    k = a.kl
    if not a.study.kl_exact:
        neg = k[k["share_negative"] > 0]
        text = ("Per-token KL is a ratio of means (sum of KL over sum of tokens).")
        if len(neg):
            text += (" In this study `kl` is the sampled-token estimate (the log-probability "
                     "ratio of the tokens actually sampled), which is unbiased for the KL but "
                     "negative for some responses (" + _join([
                         f"{a.palette.label(r.method)} {fmt.pct(r.share_negative)}"
                         for r in neg.itertuples()]) + "); only its averages are meaningful.")
        return text
    return ("KL is the exact per-response KL to the SFT model (>= 0); per-token KL is a ratio of "
            "means (sum of KL over sum of tokens).")


def kl_score_sentence(a: StudyAnalysis) -> str:
    L = a.palette.label
    ok = a.configs[a.configs["status"] == "ok"]
    parts = []
    for m in a.study.methods:
        sub = ok[ok["method"] == m]
        if len(sub) >= 3 and sub["kl_per_token"].nunique() > 1:
            rho = sub["kl_per_token"].rank().corr(sub["mean_score"].rank())
            parts.append(f"{L(m)} {rho:+.2f} (n = {len(sub)} configs)")
    if not parts:
        return "Too few configs per method to relate KL and score."
    return ("Spearman correlation between a config's per-token KL and its mean score: "
            + _join(parts) + ". These are associations across configs, not effects: the "
            "hyperparameters move KL, length and score together, so a negative correlation "
            "does not show that drift itself costs score.")


def sensitivity_sentence(a: StudyAnalysis, param: str) -> str:
    L = a.palette.label
    parts = []
    for m, params in a.sensitivity_params.items():
        if param not in params:
            continue
        t = sensitivity_table(a.configs, m, param)
        best = t.loc[t["median"].idxmax()]
        parts.append(f"{L(m)}: best median at {axis_text(a.study.infos, m, param)}="
                     f"{fmt_value(best[param])} ({fmt.num(best['median'])}), medians span "
                     f"{fmt.num(value_spread(a.configs, m, param))}")
    return "; ".join(parts) + "." if parts else ""


def importance_sentence(a: StudyAnalysis) -> str:
    L = a.palette.label
    imp = a.importances.dropna(subset=["importance"])
    if imp.empty:
        return "No importances: no method has enough completed trials on more than one config."
    parts = []
    for m, g in imp.groupby("method", sort=False):
        top = g.groupby("param")["importance"].mean().idxmax()
        parts.append(f"{L(m)}: {axis_text(a.study.infos, m, top)}")
    return ("Most important hyperparameter (mean over the evaluators): " + _join(parts)
            + ". Importances come from a few dozen trials: read them as a ranking, not a "
            "measurement.")


def variance_sentence(a: StudyAnalysis) -> str:
    L = a.palette.label
    v = a.variance
    parts = []
    for m in a.study.methods:
        sub = v[(v["method"] == m)].set_index("component")
        if "config" not in sub.index or not np.isfinite(sub.at["config", "share"]):
            continue
        text = f"{L(m)}: hyperparameters {fmt.pct(sub.at['config', 'share'])}"
        seed = sub.loc[["seed", "config_x_seed"], "share"]
        if seed.notna().all():
            text += (f", training seed {fmt.pct(seed['seed'])}, config x seed "
                     f"{fmt.pct(seed['config_x_seed'])}")
        if np.isfinite(sub.at["generation_seed", "share"]):
            text += f", generation seed {fmt.pct(sub.at['generation_seed', 'share'])}"
        text += f", prompt sampling {fmt.pct(sub.at['prompts', 'share'])}"
        parts.append(text)
    if not parts:
        return "Too few completed trials to decompose the variance."
    text = ("Share of the variance of one trial's mean score (random-effects ANOVA): "
            + "; ".join(parts) + ".")
    if a.cs.max_seeds < 2:
        text += (" With one training seed per config, seed noise cannot be told apart from "
                 "the hyperparameters: it is inside their share.")
    return text


def seed_sentence(a: StudyAnalysis) -> str:
    L = a.palette.label
    s = a.seeds
    if s.empty:
        return ""
    parts = []
    for m, g in s.groupby("method", sort=False):
        top = g.loc[g["first"].idxmax()]
        parts.append(f"{L(m)}: seed {fmt_value(top['seed'])} scored highest in "
                     f"{fmt.pct(top['first'])} of {int(top['n_configs'])} configs")
    return ("Training seeds are shared by every config (a blocked design), so one lucky data "
            "order can lift a whole grid: " + "; ".join(parts) + ".")


def table1_sentence(a: StudyAnalysis) -> str:
    L = a.palette.label
    b = a.best.set_index("method")
    if b["mean_score"].isna().all():
        return "No method has a completed trial: there is no best config to describe."
    top = b["mean_score"].idxmax()
    longest = b["mean_length"].idxmax()
    return (f"{L(top)}'s best config has the highest mean score "
            f"({fmt.num(b.loc[top, 'mean_score'])}); "
            f"{L(longest)}'s best config writes the longest responses "
            f"({fmt.num(b.loc[longest, 'mean_length'], 1)} tokens on average).")


def selection_sentence(a: StudyAnalysis) -> str:
    """Where Table 1's and the head-to-heads' numbers come from: confirmation runs, or the grid
    rows that also selected the configs (then they are biased upwards)."""
    L = a.palette.label
    c = a.confirmation
    if not a.confirmed:
        return ("**Selection-biased values:** each best (and top-25%) config was picked as the "
                "highest of its grid on the same runs that give its numbers below, so they are "
                "biased upwards (the winner's curse). Confirmation runs of the selected configs "
                "on fresh seeds (`python -m harness.sweep STUDY --confirm K`) give unbiased "
                "values; the report then uses them.")
    used = c[c["source"] == "confirm"]
    lacking = c[c["source"] != "confirm"]
    text = (f"The configs were selected on the grid rows; their values below come from "
            f"{int(used['n_confirm'].sum())} confirmation runs on fresh seeds, so the selection "
            "and the estimate use different noise.")
    shifted = used[used["shift"].notna()]
    if len(shifted):
        text += " Confirmed minus grid score: " + _join([
            f"{L(r.method)} {r.role} {fmt.ci(r.shift, r.shift_lo, r.shift_hi)}"
            for r in shifted.itertuples()]) + " (negative: the grid flattered the winner)."
    if len(lacking):
        text += (" Without confirmation runs (grid values, selection-biased): " + _join([
            f"{L(r.method)} {r.role}" for r in lacking.itertuples()]) + ".")
    return text
