"""The report as Markdown: the answer first, then provenance, then the evidence.

Every number printed here is a cell of a table in ``StudyAnalysis`` passed through
``analysis.fmt``; nothing is recomputed.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml

from analysis import fmt
from analysis.analyze import StudyAnalysis
from analysis.breakdown import component_label, method_breakdown
from analysis.report import sentences as S
from analysis.report.compute import compute_section
from analysis.report.figures import ReportFigure
from analysis.sensitivity import grid_table, top_two_axes
from analysis.style import config_label, fmt_value
from analysis.tables import TABLE1_METRICS, head_to_head_table, method_table, reference_method
from harness.schema import JUDGE_COLUMN_PREFIX
from harness.schema import describe_excluded

FORMULAS = "docs/analysis.md"
ROLE_NAMES = {"best": "best", "top25": "top-25%"}
KIND_NAMES = {"raw": "raw", "lc": "LC"}
WIDE = 6  # with more methods, matrix cells put the interval on a second line


def md_table(df: pd.DataFrame) -> str:
    """A pipe table of strings (index dropped)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [str(v).replace("|", "\\|").replace("\n", " ") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _range_text(a: StudyAnalysis, x) -> str:
    values = "{" + ", ".join(fmt_value(v) for v in x.values) + "}"
    label = a.study.info(x.method).axis(x.param).text
    return f"{label} {values}" + (" (whole grid)" if x.full_grid else "")


def start_table(a: StudyAnalysis) -> pd.DataFrame:
    L = a.palette.label
    ranges = a.ranges
    rows = []
    for r in a.starts.to_dict("records"):
        if r["config_id"] is None or pd.isna(r["config_id"]):
            rows.append({"method": L(r["method"]), "recommended start": "no trial completed"})
            continue
        rg = ranges[ranges["method"] == r["method"]]
        if rg.empty:
            rtxt = "single config: nothing to search"
        else:
            rtxt = "; ".join(_range_text(a, x) for x in rg.itertuples())
        rows.append({
            "method": L(r["method"]),
            "recommended start": config_label(r, a.study.info(r["method"]).axes),
            "its score": fmt.ci(r["score"], r["score_lo"], r["score_hi"]),
            "robust score (½ own + ½ neighbours)":
                fmt.ci(r["neighbourhood"], r["neighbourhood_lo"], r["neighbourhood_hi"])
                + f" ({int(r['n_neighbours'])} nbrs)",
            "rank by own score": f"{int(r['rank_by_score'])} (best {fmt.num(r['best_score'])})",
            "values worth searching (top quarter of configs)": rtxt,
        })
    return pd.DataFrame(rows).fillna("-")


def budget_md(a: StudyAnalysis) -> pd.DataFrame:
    rows = []
    tb = a.to_beat.set_index("method")
    perf = a.performance.set_index("method")
    for m in a.study.methods:
        sub = a.budgets[a.budgets["method"] == m]
        n_cfg, n_pool = int(sub["n_configs"].iloc[0]), int(sub["n_pool"].iloc[0])
        row = {"method": a.palette.label(m),
               "trials (configs x seeds)": f"{n_pool} ({n_cfg} x {n_pool // max(n_cfg, 1)})"
               if n_pool != n_cfg else str(n_cfg)}
        if int(perf.at[m, "n_ok"]) == 0:
            row["best of 1"] = "no trial completed"
            rows.append(row)
            continue
        for r in sub.itertuples():
            mark = " †" if r.exhausted else ""
            row[f"best of {r.n}"] = fmt.ci(r.expected_best, r.expected_best_lo,
                                           r.expected_best_hi) + mark
        for r in sub.itertuples():
            row[f"P(≤ SFT), n={r.n}"] = fmt.pct_ci(r.risk_below, r.risk_below_lo, r.risk_below_hi)
        t = tb.loc[m]
        row["trials to beat SFT w.p. 95%"] = fmt.trials_ci(t["trials"], t["trials_lo"],
                                                           t["trials_hi"])
        rows.append(row)
    return pd.DataFrame(rows).fillna("-")


def summary_md(a: StudyAnalysis) -> pd.DataFrame:
    t = method_table(a.performance)
    return pd.DataFrame({
        "method": t["method"].map(a.palette.label), "configs": t["n_configs"],
        "seeds": t["n_seeds"], "trials": t["n_trials"], "ok": t["n_ok"],
        "failed": t["n_failed"], "diverged": t["n_diverged"],
        "trials at or below SFT": [f"{fmt.pct(r.share_below_sft)} [{fmt.pct(r.share_below_sft_lo)}"
                                   f", {fmt.pct(r.share_below_sft_hi)}]" for r in t.itertuples()],
        "IQM of configs": [fmt.ci(r.iqm, r.iqm_lo, r.iqm_hi) for r in t.itertuples()],
        "best config": [fmt.ci(r.best, r.best_lo, r.best_hi) for r in t.itertuples()],
        "its first trial": t["best_trial_id"],
    })


def _cell(est, lo, hi, digits, wide: bool) -> str:
    text = fmt.ci(est, lo, hi, digits)
    return text.replace(" [", "<br>[") if wide else text


def poi_md(a: StudyAnalysis) -> pd.DataFrame:
    L = a.palette.label
    methods = a.study.methods
    wide = len(methods) > WIDE
    rows = []
    for m in methods:
        row = {"P(row config beats column)": L(m)}
        for b in methods + ["sft"]:
            r = a.poi[(a.poi["method_a"] == m) & (a.poi["method_b"] == b)].iloc[0]
            row["SFT" if b == "sft" else L(b)] = ("—" if b == m
                                                 else _cell(r.poi, r.lo, r.hi, 2, wide))
        rows.append(row)
    return pd.DataFrame(rows)


NAMES = {"mean_score": "mean score", "win_vs_chosen": "win vs chosen",
         "win_vs_sft": "win vs SFT", "mean_kl": "KL (nats)",
         "kl_per_token": "per-token KL (nats/token)", "mean_length": "length (tokens)"}
DIGITS = {"mean_score": 3, "win_vs_chosen": 3, "win_vs_sft": 3, "mean_kl": 2,
          "kl_per_token": 4, "mean_length": 1}


def table1_md(a: StudyAnalysis) -> tuple[pd.DataFrame, pd.DataFrame]:
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
            r[NAMES[c]] = (fmt.num(rel.loc[m, c], DIGITS[c]) if m == ref
                           else fmt.signed_pct(rel.loc[m, c]))
        rel_rows.append(r)
        abs_rows.append(q)
    return pd.DataFrame(rel_rows), pd.DataFrame(abs_rows)


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
    """One row per unordered pair (methods in study order, SFT last): B's rate is 100 - A's."""
    L = a.palette.label
    t = head_to_head_table(a.h2h, include_sft=True)
    order = {m: i for i, m in enumerate(a.study.methods + ["sft"])}
    t = t[[order[x] < order[y] for x, y in zip(t["model_a"], t["model_b"])]]
    t = t.assign(_a=t["model_a"].map(order), _b=t["model_b"].map(order)).sort_values(["_a", "_b"])
    rows = []
    for r in t.to_dict("records"):
        row = {"A": L(r["model_a"]), "B": "SFT" if r["model_b"] == "sft" else L(r["model_b"])}
        for role in ("best", "top25"):
            for kind in ("raw", "lc"):
                key = f"{role}_{kind}"
                label = f"{ROLE_NAMES[role]} {KIND_NAMES[kind]} (A wins %)"
                row[label] = (fmt.ci(r[key], r[f"{key}_lo"], r[f"{key}_hi"], 1)
                              if key in r and not pd.isna(r[key]) else "-")
        rows.append(row)
    return pd.DataFrame(rows)


def reps_md(a: StudyAnalysis) -> pd.DataFrame:
    r = a.representatives
    return pd.DataFrame({
        "method": r["method"].map(a.palette.label), "role": r["role"].map(ROLE_NAMES),
        "rank": [f"{x} of {n}" for x, n in zip(r["rank"], r["n_configs"])],
        "config": [config_label(row, a.study.info(row["method"]).axes)
                   for row in r.to_dict("records")],
        "grid score": r["score"].map(fmt.num), "status": r["status"], "first trial": r["trial_id"],
    })


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


def _replicates_line(a: StudyAnalysis) -> str:
    rep = a.study.meta.get("replicates")
    seeds = a.study.seeds
    gen = rep.get("generation_seed") if isinstance(rep, dict) else None
    gen_text = {"fixed": "one generation seed for every trial",
                "per_replicate": "the generation seed follows the training seed"}.get(
        gen, "generation seed not recorded")
    return f"- training seeds (replicates of every config): {seeds}; {gen_text}"


def render_markdown(a: StudyAnalysis, figures: list[ReportFigure], fig_dir: str = "figures") -> str:
    study = a.study
    L = a.palette.label
    opts = a.options
    figs = {f.name: f for f in figures}
    level = int(round(100 * opts["level"]))
    seeds = a.cs.max_seeds
    resampled = (f"the {len(study.prompt_ids)} eval prompts and, within each config, its "
                 f"{seeds} training seeds" if seeds > 1
                 else f"the {len(study.prompt_ids)} eval prompts (one training seed per config)")
    out = [f"# Which method, which hyperparameters: {study.name}", ""]
    out.append(f"_Study `{study.name}` from `{study.path}`. Intervals are {level}% percentile "
               f"intervals over {opts['n_boot']} bootstrap resamples of {resampled} "
               f"(seed {opts['seed']}); scores are the gold reward model's. Failed and diverged "
               f"trials count as scoring below every real model. Formulas and sources: "
               f"{FORMULAS}._")
    out += ["", "## The answer", ""]
    out += [p + "\n" for p in S.answer(a)]
    out.append(S.start_sentence(a) + "\n")
    if (where := S.model_sentence(a)) is not None:  # issue 12: the kept policy
        out.append(where + "\n")
    out += ["### Where to start, per method", "",
            "The recommended start maximises a robust score: half its own mean score, half the "
            "mean of its grid neighbours (the configs one grid step away on one "
            "hyperparameter), so it is a good config in a good region, not only the single "
            "best run.", "",
            md_table(start_table(a)), ""]
    for w in S.edge_sentences(a):
        out += [w, ""]
    out += ["### What a budget buys", "",
            "Expected best mean score after n trials drawn at random from the method's grid "
            "(without replacement; a trial is one config run with one seed), and the "
            "probability that all n end at or below the SFT model (SFT mean score "
            f"{fmt.num(a.cs.sft_point)}). † n exceeds the trials of the grid: the value is its "
            "best. The last column: trials needed for a 95% chance that the best of them "
            "beats SFT (never: not within the grid).", "", md_table(budget_md(a)), ""]

    out += ["## Provenance", "", S.provenance_counts(a), ""]
    meta = study.meta
    versions = meta.get("versions") or {}
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
    out += ["<details><summary>Resolved study config</summary>", "", "```yaml",
            yaml.safe_dump(json.loads(json.dumps(meta.get("config", {}), default=str)),
                           sort_keys=False).rstrip(), "```", "", "</details>", ""]

    out += ["## Evidence", "", "### Trials per method", "", S.summary_sentence(a), "",
            md_table(summary_md(a)), ""]
    out += ["### Expected performance over the grid", "",
            _figure(figs["fig1_distribution"], fig_dir), ""]
    out += ["### Budget", "", _figure(figs["fig2_budget"], fig_dir), ""]
    out += compute_section(a, figs, fig_dir, md_table)
    out += ["### Probability of improvement", "",
            "P(a config drawn at random from the row method's grid scores above one drawn from "
            "the column's); 0.5 means no difference. " + S.poi_sentence(a), "",
            md_table(poi_md(a)), ""]
    out += ["### Seeds, prompts and hyperparameters", ""]
    if "fig6_variance" in figs:
        out += [_figure(figs["fig6_variance"], fig_dir), "", md_table(variance_md(a)), ""]
        notes = a.variance.dropna(subset=["note"]).drop_duplicates("method")
        for r in notes.itertuples():
            out.append(f"- {L(r.method)}: {r.note}.")
        if len(notes):
            out.append("")
    if len(a.seeds):
        out += [S.seed_sentence(a), "", md_table(seeds_md(a)), ""]
    rel, ab = table1_md(a)
    ref = reference_method(a.table1_rel.index)
    out += ["### Best config per method", "", S.selection_sentence(a), "",
            S.table1_sentence(a), "",
            f"{L(ref)} in absolute values, the others as relative change to {L(ref)}'s best "
            "(the paper's Table 1 shape):", "", md_table(rel), "", "Absolute values:", "",
            md_table(ab), ""]
    if a.confirmed:
        out += ["Selected configs: grid score against confirmed score (fresh seeds):", "",
                md_table(confirmation_md(a)), ""]
    out += ["### Head-to-head", "",
            "Per prompt, the representative configs (best = rank 1, top-25% = the config at the "
            "75th percentile of the grid score) meet; win rates of A over B in %, ties as half. "
            + S.lc_note(a), "", md_table(reps_md(a)), ""]
    if len(a.missing):
        out += ["Representatives without responses (left out of the head-to-head): "
                + ", ".join(f"{L(r.method)} {r.role} ({r.trial_id}, {r.status})"
                            for r in a.missing.itertuples()), ""]
    if len(a.h2h):
        out += [md_table(h2h_md(a)), "", _figure(figs["fig7_head_to_head"], fig_dir), ""]
        out += ["Bradley-Terry ratings over all these pairings (SFT anchored at 1000). "
                + S.elo_sentence(a), "", md_table(elo_md(a)), ""]
    out += ["### Length and KL of the best configs", "", _figure(figs["fig3_length_topk"], fig_dir),
            "", _figure(figs["fig4_kl_topk"], fig_dir), "",
            _figure(figs["fig5_kl_vs_score"], fig_dir), ""]
    out += breakdown_md(a, figs, fig_dir)
    out += ["### Hyperparameter sensitivity", ""]
    for name, f in figs.items():
        if name.startswith("fig6_sensitivity_"):
            out += [_figure(f, fig_dir), ""]
    if "fig6_importance" in figs:
        out += [_figure(figs["fig6_importance"], fig_dir), ""]
    notes = a.importances[a.importances["note"].notna()]
    for (m, ev), g in notes.groupby(["method", "evaluator"], sort=False):
        out += [f"- {L(m)}, {ev}: not computed ({g['note'].iloc[0]})."]
    if len(notes):
        out.append("")
    for m in study.methods:
        g = grid_md(a, m)
        if g:
            out += [g[0], "", g[1], ""]
    return "\n".join(out).rstrip() + "\n"
