"""Several studies as tasks: aggregate studies that share methods the way rliable aggregates
tasks (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice").

Each study (a different dataset, model or toy-world seed) is a task. Scores are normalised per
study: a config's score becomes ``(score - s_i) / d_i``, its gain over that study's SFT model
(``s_i``, its mean score) in units of ``d_i``, the standard deviation of the SFT model's
per-prompt scores in that study (so a gain of 0.1 is a tenth of the spread of the SFT model's
own scores, comparable across reward scales). Then, per method:

- IQM: the interquartile mean of the normalised config scores of all studies pooled
  (``scipy.stats.trim_mean(x, 0.25)`` of the pooled scores, rliable's ``aggregate_iqm``) when
  every study has the same number of configs for the method; otherwise each study's configs
  weigh ``1 / N_i`` (every study counts equally) in a weighted IQM (the weighted mean of the
  middle 50% of the weight, boundary values counted fractionally: ``weighted_iqm``);
- probability of improvement of A over B: the mean over studies of each study's
  ``P(X > Y)`` between their config scores (rliable's ``probability_of_improvement``);
- expected best-of-n at the decision budget (``analysis.expected_max``, over (config, seed)
  trials): the mean over studies of the normalised value.

Intervals come from a stratified bootstrap: each replicate takes, for every study, a replicate
of that study's own hierarchical bootstrap (its seeds and prompts resampled within the study,
``analysis.scores``), so studies are never mixed. With one study every number equals that
study's own: its PoI table exactly, and its IQM and budget gain divided by ``d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import trim_mean

from analysis.expected_max import expected_max_curve
from analysis.load import ResultsError, Study
from analysis.poi import probability_of_improvement
from analysis.scores import ConfigScores, config_scores

BUDGET = 3


def sft_scale(study: Study) -> float:
    """The normalising scale ``d``: SD (ddof=1) of the SFT model's per-prompt scores."""
    d = float(np.std(study.baseline_vector("score"), ddof=1))
    return d if d > 0 else 1.0


def weighted_iqm(values, weights) -> float:
    """Weighted interquartile mean: the weighted mean of the values between the weighted 25th
    and 75th percentiles, values straddling a boundary counted with the weight inside."""
    v = np.asarray(values, float)
    w = np.asarray(weights, float)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order] / w.sum()
    upper = np.cumsum(w)
    lower = upper - w
    inside = np.clip(np.minimum(upper, 0.75) - np.maximum(lower, 0.25), 0.0, None)
    return float((inside * v).sum() / inside.sum())


def aggregate_iqm(scores: list) -> float:
    """IQM over studies: ``scores`` is one 1-D array per study (same method)."""
    sizes = {len(s) for s in scores}
    pooled = np.concatenate([np.asarray(s, float) for s in scores])
    if len(sizes) == 1:
        return float(trim_mean(pooled, 0.25))
    weights = np.concatenate([np.full(len(s), 1.0 / len(s)) for s in scores])
    return weighted_iqm(pooled, weights)


def aggregate_poi(x: list, y: list) -> float:
    """Mean over studies of P(X > Y): ``x`` and ``y`` are one 1-D array per study."""
    return float(np.mean([probability_of_improvement(a, b) for a, b in zip(x, y)]))


@dataclass(frozen=True)
class Aggregate:
    """The aggregate of several studies (see the module docstring)."""

    studies: list  # Study
    scores: list  # ConfigScores, one per study
    methods: list  # shared methods, in the first study's order
    left_out: dict  # method -> studies lacking it
    scales: pd.DataFrame  # study, sft_score, scale, n_prompts, n_seeds
    iqm: pd.DataFrame  # method, iqm, lo, hi
    poi: pd.DataFrame  # method_a, method_b, poi, lo, hi
    best: pd.DataFrame  # method, n, estimate, lo, hi (normalised expected best-of-n)
    per_study: pd.DataFrame  # study, method, iqm, best (normalised), leader
    comparisons: pd.DataFrame  # leader vs each method: diff (+lo/hi), p_ahead, disagree
    leader: str
    budget: int
    options: dict


def _names(studies) -> list[str]:
    names = [s.name for s in studies]
    return [n if names.count(n) == 1 else f"{n} ({i + 1})" for i, n in enumerate(names)]


def aggregate(studies: list, n_boot: int = 1000, seed: int = 0, budget: int = BUDGET,
              level: float = 0.95, scores: list | None = None) -> Aggregate:
    """Aggregate ``studies`` (``Study`` objects sharing at least one method); ``scores``: their
    ``ConfigScores`` if already built (same ``n_boot``, ``seed``, ``level``)."""
    if not studies:
        raise ValueError("aggregate needs at least one study")
    cs_list = scores or [config_scores(s, n_boot=n_boot, seed=seed, level=level)
                         for s in studies]
    names = _names(studies)
    shared = [m for m in studies[0].methods if all(m in s.methods for s in studies)]
    if not shared:
        raise ResultsError("the studies have no method in common: "
                         + "; ".join(f"{n}: {s.methods}" for n, s in zip(names, studies)))
    every = list(dict.fromkeys(m for s in studies for m in s.methods))
    left_out = {m: [n for n, s in zip(names, studies) if m not in s.methods]
                for m in every if m not in shared}
    scales = [sft_scale(s) for s in studies]
    cs0 = cs_list[0]

    def norm(cs: ConfigScores, d: float, m: str, trials: bool = False):
        point, reps = cs.effective_trials(m) if trials else cs.effective(m)
        return (point - cs.sft_point) / d, (reps - cs.sft_reps[:, None]) / d

    configs = {m: [norm(cs, d, m) for cs, d in zip(cs_list, scales)] for m in shared}
    pools = {m: [norm(cs, d, m, True) for cs, d in zip(cs_list, scales)] for m in shared}
    B = min(cs.n_boot for cs in cs_list)

    iqm_rows, best_rows, per_study = [], [], []
    curves, curve_reps = {}, {}
    n_max = max(budget, 10)
    for m in shared:
        pts = [p for p, _ in configs[m]]
        est = aggregate_iqm(pts)
        if len({len(p) for p in pts}) == 1:  # rliable's pooled IQM, all replicates at once
            reps = trim_mean(np.concatenate([r[:B] for _, r in configs[m]], axis=1), 0.25,
                             axis=1)
        else:
            reps = np.array([aggregate_iqm([r[b] for _, r in configs[m]]) for b in range(B)])
        lo, hi = cs0.interval(reps)
        iqm_rows.append(dict(method=m, iqm=est, lo=float(lo), hi=float(hi)))
        per = [expected_max_curve(p, n_max) for p, _ in pools[m]]
        per_reps = [expected_max_curve(r[:B], n_max) for _, r in pools[m]]
        curves[m] = np.mean(per, axis=0)
        curve_reps[m] = np.mean(per_reps, axis=0)
        c_lo, c_hi = cs0.interval(curve_reps[m])
        for n in sorted({1, budget, 5, 10}):
            best_rows.append(dict(method=m, n=n, estimate=float(curves[m][n - 1]),
                                  lo=float(c_lo[n - 1]), hi=float(c_hi[n - 1])))
        for name, (p, _), curve in zip(names, configs[m], per):
            per_study.append(dict(study=name, method=m, iqm=float(trim_mean(p, 0.25)),
                                  best=float(curve[budget - 1])))
    per_study = pd.DataFrame(per_study)
    per_study["leader"] = per_study.groupby("study")["best"].transform("max") == per_study["best"]

    # PoI is invariant to each study's normalisation: compare the raw scores, so a one-study
    # aggregate reproduces the study's own PoI exactly
    raw = {m: [cs.effective(m) for cs in cs_list] for m in shared}
    poi_rows = []
    for a in shared:
        for b in shared:
            xa, xb = raw[a], raw[b]
            est = aggregate_poi([p for p, _ in xa], [p for p, _ in xb])
            reps = np.mean([probability_of_improvement(ra[:B, :, None], rb[:B, :, None])
                            for (_, ra), (_, rb) in zip(xa, xb)], axis=0)
            lo, hi = cs0.interval(reps)
            poi_rows.append(dict(method_a=a, method_b=b, poi=est, lo=float(lo), hi=float(hi)))

    leader = max(shared, key=lambda m: (curves[m][budget - 1], -shared.index(m)))
    comp = []
    for m in shared:
        if m == leader:
            continue
        diff = curve_reps[leader][:, budget - 1] - curve_reps[m][:, budget - 1]
        d_lo, d_hi = cs0.interval(diff)
        sub = per_study[per_study["method"].isin([leader, m])].pivot(
            index="study", columns="method", values="best")
        against = [s for s in sub.index if sub.at[s, m] > sub.at[s, leader]]
        comp.append(dict(method=m, diff=float(curves[leader][budget - 1] - curves[m][budget - 1]),
                         diff_lo=float(d_lo), diff_hi=float(d_hi),
                         p_ahead=float(np.mean(diff > 0)), separated=bool(d_lo > 0 or d_hi < 0),
                         disagree=against))
    scale_table = pd.DataFrame({
        "study": names, "path": [str(s.path) for s in studies],
        "sft_score": [cs.sft_point for cs in cs_list], "scale": scales,
        "n_prompts": [len(s.prompt_ids) for s in studies],
        "n_seeds": [cs.max_seeds for cs in cs_list],
        "n_configs": [len(cs.config_ids) for cs in cs_list]})
    return Aggregate(
        studies=list(studies), scores=cs_list, methods=shared, left_out=left_out,
        scales=scale_table, iqm=pd.DataFrame(iqm_rows), poi=pd.DataFrame(poi_rows),
        best=pd.DataFrame(best_rows), per_study=per_study,
        comparisons=pd.DataFrame(comp, columns=["method", "diff", "diff_lo", "diff_hi",
                                                "p_ahead", "separated", "disagree"]),
        leader=leader, budget=budget,
        options=dict(n_boot=B, seed=seed, level=level, budget=budget, names=names))
