"""Where the variance of a trial's mean score comes from: hyperparameters, seeds, prompts.

Per method, on its completed grid trials, a random-effects ANOVA by the expected-mean-squares
(method-of-moments) estimators of Searle, Casella & McCulloch (1992, "Variance Components",
ch. 4), for a balanced design of C configs crossed with S training seeds (the blocked design:
the same seeds for every config), optionally G generation seeds within each (config, seed) cell,
and P prompts shared by all trials. For trial mean scores ``y_csg``:

- prompts: the prompt-sampling noise of one trial's mean, ``MS_E / P``, where ``MS_E`` is the
  residual mean square of the (trial x prompt) table after removing trial and prompt means
  (the prompt set's shared difficulty moves every trial alike and is not a between-trial
  variance);
- generation seed (only when a cell holds G > 1 trials): ``max(0, MS_G - MS_E/P)`` with
  ``MS_G`` the pooled within-cell mean square; the noise of a cell mean is then
  ``tau = (var_gen + MS_E/P) / G``, else ``tau = MS_E/P``;
- on the C x S table of cell means: ``var(config x seed) = max(0, MS_CS - tau)``,
  ``var(seed) = max(0, (MS_S - MS_CS) / C)``, ``var(config) = max(0, (MS_C - MS_CS) / S)``;
- each grid axis a (``analysis.methods``; derived axes left out) gets the main-effect part of
  the config variance, ``max(0, SS_a - (L_a - 1) MS_CS / S) / (C - 1)`` with ``SS_a`` the sum
  over configs of the squared deviation of their axis-level mean from the grand mean (L_a
  levels; the subtraction removes the noise the level means carry); the rest of the config
  variance is "interactions between axes" (if the axis parts exceed it, they are scaled down
  to it).

Shares are each component over their sum: the variance of one new trial's mean score (config
drawn from the grid, fresh seeds). Configs missing a completed seed are left out (balanced
design; their count is reported). With one seed, seed and config x seed are not estimable and
stay in the config component (noted); with one config, only seed and prompt parts exist.
``seed_table`` breaks the grid down by training seed: each seed's mean over the complete
configs and how often it was the best of a config's seeds (a blocked design shares one data
order per seed across configs, so one lucky seed can lift every config).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import Study
from harness.schema import STATUS_OK

COMPONENTS = ("config", "seed", "config_x_seed", "generation_seed", "prompts")
COMPONENT_LABELS = {
    "config": "hyperparameters (config)",
    "axis_interactions": "interactions between axes",
    "seed": "training seed",
    "config_x_seed": "config x seed",
    "generation_seed": "generation seed",
    "prompts": "prompt sampling",
}


def _balanced(trials: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """The completed trials of configs that have every seed with the most common number of
    completed trials per (config, seed) cell; returns them, that G, and the configs left out."""
    ok = trials[trials["status"] == STATUS_OK]
    seeds = sorted(trials["seed"].dropna().unique())
    cells = ok.groupby(["config_id", "seed"]).size()
    g = int(cells.mode().iloc[0]) if len(cells) else 1
    keep = []
    for c, sub in cells.groupby(level=0):
        sizes = sub.droplevel(0)
        if sorted(sizes.index) == seeds and (sizes == g).all():
            keep.append(c)
    n_out = trials["config_id"].nunique() - len(keep)
    return ok[ok["config_id"].isin(keep)], g, n_out


def _prompt_noise(matrix: np.ndarray) -> float:
    """``MS_E / P``: the residual mean square of a (T, P) table over P."""
    T, P = matrix.shape
    if T < 2 or P < 2:
        return 0.0
    r = (matrix - matrix.mean(axis=1, keepdims=True) - matrix.mean(axis=0, keepdims=True)
         + matrix.mean())
    return float((r**2).sum() / ((T - 1) * (P - 1)) / P)


def method_components(study: Study, method: str) -> dict:
    """The decomposition of one method (see the module docstring). Returns a dict with
    ``variance`` ({component: variance or NaN}), ``axes`` ({axis: variance}),
    ``axis_interactions``, ``notes`` (list of str), n_configs, n_left_out, n_seeds,
    n_generation, n_prompts."""
    info = study.info(method)
    trials = study.method_trials(method)
    data, G, n_out = _balanced(trials)
    configs = list(dict.fromkeys(data["config_id"]))
    seeds = sorted(data["seed"].unique())
    C, S, P = len(configs), len(seeds), len(study.prompt_ids)
    notes = []
    nan = float("nan")
    out = dict(variance={k: nan for k in COMPONENTS}, axes={}, axis_interactions=nan,
               notes=notes, n_configs=C, n_left_out=n_out, n_seeds=S, n_generation=G,
               n_prompts=P)
    if n_out:
        notes.append(f"{n_out} config(s) without a completed run of every seed left out")
    if len(data) < 2:
        notes.append("fewer than two completed trials: nothing to decompose")
        return out
    y = study.matrix("score", data["trial_id"])
    pt = _prompt_noise(y)
    means = pd.Series(y.mean(axis=1), index=data.index)
    var = out["variance"]
    var["prompts"] = pt
    cell_key = [data["config_id"], data["seed"]]
    if G > 1:
        cell_mean = means.groupby(cell_key).transform("mean")
        ms_g = float(((means - cell_mean) ** 2).sum() / (C * S * (G - 1)))
        var["generation_seed"] = max(0.0, ms_g - pt)
        tau = (var["generation_seed"] + pt) / G
    else:
        tau = pt
        gen = study.meta.get("replicates", {}).get("generation_seed") \
            if isinstance(study.meta.get("replicates"), dict) else None
        if gen == "per_replicate":
            notes.append("the generation seed changes with the training seed: its share is "
                          "inside the seed components")
    z = (means.groupby(cell_key).mean().unstack("seed")
         .reindex(index=configs, columns=seeds).to_numpy(float))  # (C, S)
    grand = z.mean()
    zc, zs = z.mean(axis=1), z.mean(axis=0)
    if S > 1 and C > 1:
        ms_c = S * ((zc - grand) ** 2).sum() / (C - 1)
        ms_s = C * ((zs - grand) ** 2).sum() / (S - 1)
        ms_cs = float(((z - zc[:, None] - zs[None, :] + grand) ** 2).sum()
                      / ((C - 1) * (S - 1)))
        var["config_x_seed"] = max(0.0, ms_cs - tau)
        var["seed"] = max(0.0, (ms_s - ms_cs) / C)
        var["config"] = max(0.0, (ms_c - ms_cs) / S)
        noise_c = ms_cs / S  # noise variance of one config's mean over its seeds
    elif C > 1:  # one seed: config and seed effects cannot be told apart
        var["config"] = max(0.0, float(((zc - grand) ** 2).sum() / (C - 1)) - tau)
        noise_c = tau
        notes.append("one training seed: seed and config x seed are not estimable and are "
                     "inside the config share")
    else:  # one config: only the seeds vary
        var["seed"] = max(0.0, float(((zs - grand) ** 2).sum() / (S - 1)) - tau) if S > 1 \
            else nan
        noise_c = nan
        notes.append("one config: no hyperparameter share")
    if C > 1:
        rows = data.drop_duplicates("config_id").set_index("config_id").loc[configs]
        parts = {}
        for a in info.varying(rows):
            level = pd.Series(zc, index=configs).groupby(rows[a.name].to_numpy()).transform("mean")
            ss = float(((level.to_numpy() - grand) ** 2).sum())
            n_levels = rows[a.name].nunique()
            parts[a.name] = max(0.0, ss - (n_levels - 1) * noise_c) / (C - 1)
        total = sum(parts.values())
        if total > var["config"] > 0:
            parts = {k: v * var["config"] / total for k, v in parts.items()}
        elif var["config"] == 0:
            parts = {k: 0.0 for k in parts}
        out["axes"] = parts
        out["axis_interactions"] = max(0.0, var["config"] - sum(parts.values()))
    return out


def variance_table(study: Study) -> pd.DataFrame:
    """Long table over the study's methods: method, component (one of ``COMPONENTS``, or
    "axis" / "axis_interactions" for the parts of "config"), axis (name, for "axis" rows),
    label, variance, share (of the sum of ``COMPONENTS``), sd (sqrt of the variance),
    n_configs, n_left_out, n_seeds, n_generation, n_prompts, note."""
    rows = []
    for m in study.methods:
        d = method_components(study, m)
        total = np.nansum(list(d["variance"].values()))
        base = {k: d[k] for k in ("n_configs", "n_left_out", "n_seeds", "n_generation",
                                  "n_prompts")}
        note = "; ".join(d["notes"]) or None
        for comp in COMPONENTS:
            v = d["variance"][comp]
            rows.append(dict(method=m, component=comp, axis=None,
                             label=COMPONENT_LABELS[comp], variance=v,
                             share=v / total if total > 0 else np.nan, **base, note=note))
        info = study.info(m)
        for a, v in d["axes"].items():
            rows.append(dict(method=m, component="axis", axis=a, label=info.axis(a).text,
                             variance=v, share=v / total if total > 0 else np.nan, **base,
                             note=note))
        if d["axes"]:
            v = d["axis_interactions"]
            rows.append(dict(method=m, component="axis_interactions", axis=None,
                             label=COMPONENT_LABELS["axis_interactions"], variance=v,
                             share=v / total if total > 0 else np.nan, **base, note=note))
    out = pd.DataFrame(rows)
    out["sd"] = np.sqrt(out["variance"])
    return out


def seed_noise(variance: pd.DataFrame, method: str) -> float:
    """SD of one trial's mean score from its training seed (seed + config x seed), or NaN."""
    v = variance[(variance["method"] == method)
                 & variance["component"].isin(["seed", "config_x_seed"])]["variance"]
    return float(np.sqrt(v.sum())) if v.notna().all() and len(v) == 2 else np.nan


def seed_table(study: Study) -> pd.DataFrame:
    """Per method and training seed, over the configs with every seed completed: n_configs,
    mean (of the configs' scores under this seed), first (share of configs where this seed
    scored highest of the config's seeds) and last (where it scored lowest)."""
    rows = []
    for m in study.methods:
        data, _, _ = _balanced(study.method_trials(m))
        if data["seed"].nunique() < 2:
            continue
        table = data.groupby(["config_id", "seed"])["mean_score"].mean().unstack("seed")
        best = table.idxmax(axis=1)
        worst = table.idxmin(axis=1)
        for s in table.columns:
            rows.append(dict(method=m, seed=s, n_configs=len(table),
                             mean=float(table[s].mean()), first=float((best == s).mean()),
                             last=float((worst == s).mean())))
    return pd.DataFrame(rows, columns=["method", "seed", "n_configs", "mean", "first", "last"])
