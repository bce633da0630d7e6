"""The report's figures, drawn from a ``StudyAnalysis`` (never recomputed), with captions."""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.figure import Figure

from analysis import figures as F
from analysis.analyze import StudyAnalysis
from analysis.breakdown import plot_breakdown
from analysis.figures.sensitivity import axis_text
from analysis.report import sentences as S
from analysis.report.roles import roles_shown


@dataclass
class ReportFigure:
    name: str  # file stem
    title: str
    caption: str  # what it shows in this study
    png: bytes


def _png(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)  # constrained layout already fits the labels
    return buf.getvalue()


def sensitivity_axes(a: StudyAnalysis) -> list[str]:
    """Every axis with a sensitivity panel, ordered by its mean relative position in the
    methods' registered axis lists (so shared axes, registered last, come last), ties by first
    appearance."""
    seen = list(dict.fromkeys(p for m in a.study.methods for p in a.sensitivity_params[m]))
    pos = {}
    for m in a.study.methods:
        names = a.study.info(m).names
        for p in a.sensitivity_params[m]:
            pos.setdefault(p, []).append(names.index(p) / max(1, len(names)) if p in names
                                         else 1.0)
    return sorted(seen, key=lambda p: (sum(pos[p]) / len(pos[p]), seen.index(p)))


def report_figures(a: StudyAnalysis) -> list[ReportFigure]:
    cs, pal, infos = a.cs, a.palette, a.study.infos
    out = [
        ReportFigure("fig1_distribution", "Expected-performance distribution",
                     S.distribution_sentence(a),
                     _png(F.plot_performance_distribution(a.configs, cs.sft_point, cs.floor,
                                                          palette=pal))),
        ReportFigure("fig2_budget", "Expected best-of-n against the budget",
                     S.budget_sentence(a) + " Same scale as the table: the mean score itself, "
                     "the SFT model's as the dashed line; bands resample the eval prompts"
                     + (" and each config's seeds" if a.cs.max_seeds > 1 else "")
                     + "; dotted lines draw trials with replacement.",
                     _png(F.plot_budget_curves(a.curves, cs.sft_point, palette=pal))),
        ReportFigure("fig3_length_topk", "Response length of the top-k% configs",
                     S.topk_sentence(a, "length", "response length", "tokens", 0),
                     _png(F.plot_topk_length(a.topk_samples, a.topk_counts, palette=pal))),
        ReportFigure("fig4_kl_topk", "KL and per-token KL of the top-k% configs",
                     S.topk_sentence(a, "kl", "KL to SFT", "nats per response", 1) + " "
                     + S.topk_sentence(a, "kl_per_token", "per-token KL", "nats/token", 3,
                                       preface=False)
                     + " " + S.kl_note(a),
                     _png(F.plot_topk_kl(a.topk_samples, a.topk_counts, palette=pal))),
        ReportFigure("fig5_kl_vs_score", "Per-token KL against mean score",
                     S.kl_score_sentence(a),
                     _png(F.plot_kl_vs_score(a.configs, cs.sft_point, palette=pal))),
    ]
    for p in sensitivity_axes(a):
        owner = next(m for m in a.study.methods if p in a.sensitivity_params[m])
        out.append(ReportFigure(
            f"fig6_sensitivity_{p}", f"Sensitivity to {axis_text(infos, owner, p)}",
            S.sensitivity_sentence(a, p),
            _png(F.plot_sensitivity_param(a.configs, p, cs.sft_point, cs.floor,
                                          a.sensitivity_params, palette=pal, infos=infos))))
    if a.importances["importance"].notna().any():
        out.append(ReportFigure("fig6_importance", "Hyperparameter importance",
                                S.importance_sentence(a),
                                _png(F.plot_importances(a.importances, palette=pal,
                                                        infos=infos))))
    if a.variance["share"].notna().any():
        out.append(ReportFigure("fig6_variance", "Variance decomposition",
                                S.variance_sentence(a),
                                _png(F.plot_variance(a.variance, palette=pal))))
    if a.breakdown is not None:
        out.append(ReportFigure("fig8_breakdown", "Content against padding (judge breakdown)",
                                "Mean content and padding components of the gold score per "
                                "trial; further right is more content, further down more "
                                "padding.", _png(plot_breakdown(a.breakdown, palette=pal))))
    if len(a.h2h):
        h2h = a.h2h[a.h2h["role"].isin(roles_shown(a))]
        out.append(ReportFigure("fig7_head_to_head", "Head-to-head win rates (row beats column)",
                                S.h2h_sentence(a),
                                _png(F.plot_head_to_head_grid(h2h, palette=pal))))
    from analysis.report.compute import compute_figures  # it builds on this module

    out += compute_figures(a)
    return out
