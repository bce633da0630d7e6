"""The report of several studies analysed as tasks (``analysis.aggregate``), as Markdown."""

from __future__ import annotations

import pandas as pd

from analysis import fmt
from analysis.aggregate import Aggregate
from analysis.report.document import FORMULAS, md_table
from analysis.report.figures import ReportFigure, _png
from analysis.report.sentences import _join
from analysis.style import Palette


def aggregate_figures(agg: Aggregate, palette: Palette) -> list[ReportFigure]:
    from analysis.figures import plot_aggregate

    return [ReportFigure("fig1_aggregate", "Normalised scores per study and aggregated",
                         "Bars: the aggregate over the studies with its stratified-bootstrap "
                         "interval; markers: each study's own value.",
                         _png(plot_aggregate(agg, palette=palette)))]


def verdict(agg: Aggregate, palette: Palette) -> list[str]:
    L = palette.label
    n = agg.budget
    names = agg.options["names"]
    best = agg.best[agg.best["n"] == n].set_index("method")
    lead = best.loc[agg.leader]
    paras = []
    if len(agg.methods) == 1:
        paras.append(f"The {len(names)} studies share one method, **{L(agg.leader)}**: there is "
                     "no choice of method to make across them.")
    else:
        text = (f"**Across the {len(names)} studies, start with {L(agg.leader)}.** Its expected "
                f"best of {n} trials, as a gain over each study's SFT model in units of that "
                f"model's per-prompt score SD and averaged over the studies, is "
                f"{fmt.ci(lead['estimate'], lead['lo'], lead['hi'])}, the highest of the "
                f"{len(agg.methods)} shared methods.")
        parts, unsep, disagree = [], [], []
        for r in agg.comparisons.itertuples():
            parts.append(f"{L(r.method)} by {fmt.ci(r.diff, r.diff_lo, r.diff_hi)}")
            if not r.separated:
                unsep.append(L(r.method))
            for s in r.disagree:
                disagree.append(f"{s} ({L(r.method)} ahead)")
        text += f" It leads {_join(parts)}."
        if unsep:
            text += (f" The difference with {_join(unsep)} includes zero: the studies together "
                     "do not separate them.")
        paras.append(text)
        if disagree:
            paras.append("**Where the studies disagree:** " + _join(disagree) + "; the verdict "
                         "rests on all studies, so read it as the better bet on average, not in "
                         "every setting.")
        else:
            paras.append(f"Every study agrees: {L(agg.leader)} has the highest expected best of "
                         f"{n} in each of them.")
    if agg.left_out:
        paras.append("Not aggregated (missing from some studies): " + _join([
            f"{L(m)} (absent from {', '.join(s)})" for m, s in agg.left_out.items()]) + ".")
    return paras


def per_study_md(agg: Aggregate, palette: Palette) -> pd.DataFrame:
    rows = []
    for s in agg.scales.itertuples():
        row = {"study": s.study, "SFT score": fmt.num(s.sft_score), "scale d": fmt.num(s.scale),
               "prompts": s.n_prompts, "configs": s.n_configs, "seeds": s.n_seeds}
        per = agg.per_study[agg.per_study["study"] == s.study].set_index("method")
        for m in agg.methods:
            v = fmt.num(per.at[m, "best"])
            row[f"{palette.label(m)}: best of {agg.budget}"] = f"**{v}**" if per.at[m, "leader"] \
                else v
        for m in agg.methods:
            row[f"{palette.label(m)}: IQM"] = fmt.num(per.at[m, "iqm"])
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate_md(agg: Aggregate, palette: Palette) -> pd.DataFrame:
    rows = []
    iqm = agg.iqm.set_index("method")
    for m in agg.methods:
        row = {"method": palette.label(m),
               "IQM": fmt.ci(iqm.at[m, "iqm"], iqm.at[m, "lo"], iqm.at[m, "hi"])}
        for r in agg.best[agg.best["method"] == m].itertuples():
            row[f"best of {r.n}"] = fmt.ci(r.estimate, r.lo, r.hi)
        rows.append(row)
    return pd.DataFrame(rows)


def poi_md(agg: Aggregate, palette: Palette) -> pd.DataFrame:
    rows = []
    for a in agg.methods:
        row = {"P(row beats column), mean over studies": palette.label(a)}
        for b in agg.methods:
            r = agg.poi[(agg.poi["method_a"] == a) & (agg.poi["method_b"] == b)].iloc[0]
            row[palette.label(b)] = "—" if a == b else fmt.ci(r.poi, r.lo, r.hi, 2)
        rows.append(row)
    return pd.DataFrame(rows)


def render_aggregate(agg: Aggregate, figures: list[ReportFigure], palette: Palette,
                     fig_dir: str = "figures") -> str:
    names = agg.options["names"]
    level = int(round(100 * agg.options["level"]))
    out = [f"# Several studies as tasks: {', '.join(names)}", ""]
    out.append(f"_{len(names)} studies sharing {len(agg.methods)} method(s), aggregated the way "
               "rliable aggregates tasks. A config's score is normalised per study: its gain "
               "over that study's SFT model divided by d, the standard deviation of the SFT "
               f"model's per-prompt scores in that study. Intervals are {level}% percentile "
               f"intervals over {agg.options['n_boot']} stratified bootstrap resamples (each "
               "study's seeds and prompts resampled within the study; seed "
               f"{agg.options['seed']}). Formulas and sources: {FORMULAS}. Each study's own "
               "report: `python -m analysis.report results/<study>`._")
    out += ["", "## The answer", ""]
    out += [p + "\n" for p in verdict(agg, palette)]
    out += ["## Per study", "",
            f"Normalised expected best of {agg.budget} trials (bold: that study's leader) and "
            "IQM of the normalised config scores:", "", md_table(per_study_md(agg, palette)),
            ""]
    out += ["## Aggregate over the studies", "",
            "IQM of all studies' normalised config scores (rliable's aggregate IQM) and the "
            "mean over studies of the normalised expected best of n trials:", "",
            md_table(aggregate_md(agg, palette)), "",
            "Probability of improvement: the mean over studies of P(a random config of the row "
            "method beats one of the column method):", "", md_table(poi_md(agg, palette)), ""]
    for f in figures:
        out += [f"![{f.title}]({fig_dir}/{f.name}.png)", "", f"*{f.title}.* {f.caption}", ""]
    out += ["## Studies", ""]
    out += [f"- {s.study}: `{s.path}`" for s in agg.scales.itertuples()]
    return "\n".join(out).rstrip() + "\n"
