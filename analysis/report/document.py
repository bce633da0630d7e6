"""The report as Markdown: the answer first, then provenance, then the evidence.

Every number printed here is a cell of a table in ``StudyAnalysis`` passed through
``analysis.fmt``; nothing is recomputed.
"""

from __future__ import annotations

import json

import pandas as pd
import yaml

from analysis import fmt
from analysis.analyze import StudyAnalysis
from analysis.breakdown import component_label, method_breakdown
from analysis.report import sentences as S
from analysis.report.figures import ReportFigure
from analysis.sensitivity import grid_table
from analysis.style import config_label, fmt_value, method_label as L, param_label
from analysis.tables import TABLE1_METRICS, head_to_head_table, method_table, reference_method
from harness.schema import JUDGE_COLUMN_PREFIX

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


def _range_text(x) -> str:
    values = "{" + ", ".join(fmt_value(v) for v in x.values) + "}"
    return (f"{param_label(x.param).split(' (')[0]} {values}"
            + (" (whole grid)" if x.full_grid else ""))


def start_table(a: StudyAnalysis) -> pd.DataFrame:
    ranges = a.ranges
    rows = []
    for r in a.starts.itertuples():
        if r.trial_id is None or pd.isna(r.trial_id):
            rows.append({"method": L(r.method), "recommended start": "no trial completed"})
            continue
        rg = ranges[ranges["method"] == r.method]
        if rg.empty:
            rtxt = "single config: nothing to search"
        else:
            rtxt = "; ".join(_range_text(x) for x in rg.itertuples())
        rows.append({
            "method": L(r.method),
            "recommended start": config_label(r._asdict()),
            "its score": fmt.ci(r.score, r.score_lo, r.score_hi),
            "robust score (½ own + ½ neighbours)":
                fmt.ci(r.neighbourhood, r.neighbourhood_lo, r.neighbourhood_hi)
                + f" ({int(r.n_neighbours)} nbrs)",
            "rank by own score": f"{int(r.rank_by_score)} (best {fmt.num(r.best_score)})",
            "values worth searching (top quarter of configs)": rtxt,
        })
    return pd.DataFrame(rows).fillna("-")


def budget_md(a: StudyAnalysis) -> pd.DataFrame:
    rows = []
    tb = a.to_beat.set_index("method")
    for m in a.study.methods:
        sub = a.budgets[a.budgets["method"] == m]
        row = {"method": L(m), "configs": int(sub["n_configs"].iloc[0])}
        if int(a.performance.set_index("method").at[m, "n_ok"]) == 0:
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
        "method": t["method"].map(L), "trials": t["n_trials"], "ok": t["n_ok"],
        "failed": t["n_failed"], "diverged": t["n_diverged"],
        "at or below SFT": [f"{fmt.pct(r.share_below_sft)} [{fmt.pct(r.share_below_sft_lo)}, "
                            f"{fmt.pct(r.share_below_sft_hi)}]" for r in t.itertuples()],
        "IQM": [fmt.ci(r.iqm, r.iqm_lo, r.iqm_hi) for r in t.itertuples()],
        "best": [fmt.ci(r.best, r.best_lo, r.best_hi) for r in t.itertuples()],
        "best trial": t["best_trial_id"],
    })


def poi_md(a: StudyAnalysis) -> pd.DataFrame:
    methods = a.study.methods
    rows = []
    for m in methods:
        row = {"P(row config beats column)": L(m)}
        for b in methods + ["sft"]:
            r = a.poi[(a.poi["method_a"] == m) & (a.poi["method_b"] == b)].iloc[0]
            row[L(b)] = "—" if b == m else fmt.ci(r.poi, r.lo, r.hi, 2)
        rows.append(row)
    return pd.DataFrame(rows)


def table1_md(a: StudyAnalysis) -> tuple[pd.DataFrame, pd.DataFrame]:
    ref = reference_method(a.study)
    rel, ab = a.table1_rel, a.table1_abs
    digits = {"mean_score": 3, "win_vs_chosen": 3, "win_vs_sft": 3, "mean_kl": 2,
              "mean_kl_per_token": 4, "mean_length": 1}
    names = {"mean_score": "mean score", "win_vs_chosen": "win vs chosen",
             "win_vs_sft": "win vs SFT", "mean_kl": "KL (nats)",
             "mean_kl_per_token": "per-token KL (nats/token)", "mean_length": "length (tokens)"}
    rel_rows, abs_rows = [], []
    best = a.best.set_index("method")
    for m in rel.index:
        cfg = config_label(best.loc[m])
        r = {"method": L(m), "best config": cfg}
        q = {"method": L(m), "best config": cfg}
        for c in TABLE1_METRICS:
            q[names[c]] = fmt.num(ab.loc[m, c], digits[c])
            r[names[c]] = (fmt.num(rel.loc[m, c], digits[c]) if m == ref
                           else fmt.signed_pct(rel.loc[m, c]))
        rel_rows.append(r)
        abs_rows.append(q)
    return pd.DataFrame(rel_rows), pd.DataFrame(abs_rows)


def h2h_md(a: StudyAnalysis) -> pd.DataFrame:
    """One row per unordered pair (methods in study order, SFT last): B's rate is 100 - A's."""
    t = head_to_head_table(a.h2h, include_sft=True)
    order = {m: i for i, m in enumerate(a.study.methods + ["sft"])}
    t = t[[order[x] < order[y] for x, y in zip(t["model_a"], t["model_b"])]]
    t = t.assign(_a=t["model_a"].map(order), _b=t["model_b"].map(order)).sort_values(["_a", "_b"])
    rows = []
    for r in t.to_dict("records"):
        row = {"A": L(r["model_a"]), "B": L(r["model_b"])}
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
        "method": r["method"].map(L), "role": r["role"].map(ROLE_NAMES),
        "rank": [f"{x} of {n}" for x, n in zip(r["rank"], r["n_trials"])],
        "config": [config_label(row) for row in r.to_dict("records")],
        "mean score": r["mean_score"].map(fmt.num), "status": r["status"], "trial": r["trial_id"],
    })


def elo_md(a: StudyAnalysis) -> pd.DataFrame:
    e = a.elo
    return pd.DataFrame({"model": e["model"].map(S.elo_name),
                         "Elo": e["elo"].map(lambda x: fmt.num(x, 0)),
                         "95% interval": [f"[{fmt.num(lo, 0)}, {fmt.num(hi, 0)}]"
                                          for lo, hi in zip(e["lo"], e["hi"])],
                         "trial": e["trial_id"]})


def grid_md(a: StudyAnalysis, method: str) -> str | None:
    params = a.sensitivity_params.get(method, [])
    if "beta" not in params or "learning_rate" not in params:
        return None
    g = grid_table(a.configs, method, "beta", "learning_rate", "score", "mean")
    out = pd.DataFrame({"β \\ learning rate": [fmt_value(v) for v in g.index]})
    for c in g.columns:
        out[fmt_value(c)] = [fmt.num(v) for v in g[c]]
    return md_table(out)


def failures_md(a: StudyAnalysis) -> pd.DataFrame | None:
    t = a.study.trials
    bad = t[t["status"] != "ok"]
    if bad.empty:
        return None
    return pd.DataFrame({"trial": bad["trial_id"], "method": bad["method"].map(L),
                         "config": [config_label(r) for r in bad.to_dict("records")],
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


def render_markdown(a: StudyAnalysis, figures: list[ReportFigure], fig_dir: str = "figures") -> str:
    study = a.study
    opts = a.options
    figs = {f.name: f for f in figures}
    level = int(round(100 * opts["level"]))
    out = [f"# Which method, which hyperparameters: {study.name}", ""]
    out.append(f"_Study `{study.name}` from `{study.path}`. Intervals are {level}% percentile "
               f"intervals over {opts['n_boot']} bootstrap resamples of the "
               f"{len(study.prompt_ids)} eval prompts (seed {opts['seed']}); scores are the gold "
               f"reward model's. Failed and diverged trials count as scoring below every real "
               f"model. Formulas and sources: {FORMULAS}._")
    out += ["", "## The answer", ""]
    out += [p + "\n" for p in S.answer(a)]
    out.append(S.start_sentence(a) + "\n")
    out += ["### Where to start, per method", "",
            "The recommended start maximises a robust score: half its own mean score, half the "
            "mean of its grid neighbours (the configs one grid step away on one "
            "hyperparameter), so it is a good config in a good region, not only the single "
            "best run.", "",
            md_table(start_table(a)), ""]
    out += ["### What a budget buys", "",
            "Expected best mean score after n trials drawn at random from the method's grid "
            "(without replacement), and the probability that all n end at or below the SFT "
            f"model (SFT mean score {fmt.num(a.cs.sft_point)}). † n exceeds the grid: the value "
            "is the grid's best. The last column: trials needed for a 95% chance that the best "
            "of them beats SFT (never: not within the grid).", "", md_table(budget_md(a)), ""]

    out += ["## Provenance", "", S.provenance_counts(a), ""]
    meta = study.meta
    versions = meta.get("versions") or {}
    out += [f"- created: {meta.get('created', '-')}",
            f"- git revision: {meta.get('git_revision') or 'not recorded'}",
            f"- seeds: {meta.get('seeds', '-')}",
            "- versions: " + (", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
                              or "not recorded"),
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
    out += ["### Probability of improvement", "",
            "P(a config drawn at random from the row method's grid scores above one drawn from "
            "the column's); 0.5 means no difference. " + S.poi_sentence(a), "",
            md_table(poi_md(a)), ""]
    rel, ab = table1_md(a)
    ref = reference_method(study)
    out += ["### Best config per method", "", S.table1_sentence(a), "",
            f"{L(ref)} in absolute values, the others as relative change to {L(ref)}'s best "
            "(the paper's Table 1 shape):", "", md_table(rel), "", "Absolute values:", "",
            md_table(ab), ""]
    out += ["### Head-to-head", "",
            "Per prompt, the representative configs (best = rank 1, top-25% = the config at the "
            "75th percentile of mean score) meet; win rates of A over B in %, ties as half; LC "
            "is the length-controlled win rate.", "", md_table(reps_md(a)), ""]
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
            out += [f"Mean score of {L(m)} by β and learning rate (mean over the other "
                    "hyperparameters; failed trials at the floor):", "", g, ""]
    return "\n".join(out).rstrip() + "\n"
