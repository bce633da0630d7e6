"""Top-k% configs by score, and the samples of the configs in each bin (the paper's Fig. 2-3).

Ranking, bins and the representatives ``best`` / ``top25`` are :mod:`harness.selection`'s (the
one rule the sweep's ``--confirm`` uses too): a config's grid ``score`` (mean over its seeds,
failures at the floor; ``analysis.performance.config_table``) descending, configs that never
completed last, ties broken by the config's first ``trial_id`` ascending. The top-k% bin of a
method with N configs holds the first ``ceil(k/100 * N)`` of that ranking (at least one);
``best`` = rank 1 and ``top25`` = rank ``ceil(0.25 * N)`` (the paper's Table 3). Selection uses
the grid rows only; estimates for the selected configs come from confirmation runs when the
study has them (``analysis.confirm``).
"""

from __future__ import annotations

import pandas as pd

from analysis.load import Study
from harness.schema import STATUS_OK
from harness.selection import ROLES, bin_size, rank_configs, role_rank

DEFAULT_KS = (1, 5, 10, 25)
__all__ = ["DEFAULT_KS", "ROLES", "bin_size", "rank_configs", "representatives", "top_k",
           "top_k_counts", "top_k_samples"]


def top_k(configs: pd.DataFrame, k: float, by: str = "score") -> pd.DataFrame:
    """The top ``k``% of one method's ``configs`` (``ceil(k% x N)`` rows, rank order)."""
    return rank_configs(configs, by).head(bin_size(len(configs), k))


def representatives(configs: pd.DataFrame, axes=()) -> pd.DataFrame:
    """Per method the ``best`` and ``top25`` config of ``configs`` (``config_table``). Columns:
    method, role, config_id, trial_id, rank, n_configs, score, n_seeds, status, then the
    ``axes`` columns (``analysis.performance.axis_columns``)."""
    rows = []
    fixed = ["method", "role", "config_id", "trial_id", "rank", "n_configs", "score", "n_seeds",
             "status"]
    axes = [a for a in axes if a in configs.columns]
    for m in dict.fromkeys(configs["method"]):
        ranked = rank_configs(configs[configs["method"] == m])
        for role in ROLES:
            r = role_rank(len(ranked), role)
            row = ranked.iloc[r - 1]
            rows.append({"method": m, "role": role, "n_configs": len(ranked),
                         **{c: row[c] for c in fixed[2:] if c != "n_configs"},
                         **{a: row[a] for a in axes}})
    return pd.DataFrame(rows, columns=fixed + axes)


def top_k_samples(study: Study, configs: pd.DataFrame, ks=DEFAULT_KS,
                  columns=("length", "kl", "kl_per_token")) -> pd.DataFrame:
    """Per-prompt samples of every grid trial (all seeds) of the configs in each method's
    top-k% bin. Long table: method, k, trial_id, prompt_id, the ``columns``; bins overlap (top
    1% is inside top 5%). Bin sizes are in ``top_k_counts``."""
    grid = study.grid
    frames = []
    for m in dict.fromkeys(configs["method"]):
        ranked = rank_configs(configs[configs["method"] == m])
        for k in ks:
            cfgs = ranked["config_id"].head(bin_size(len(ranked), k))
            ids = grid.loc[grid["config_id"].isin(cfgs), "trial_id"]
            sel = study.samples[study.samples["trial_id"].isin(ids)]
            frames.append(sel[["trial_id", "prompt_id", *columns]].assign(method=m, k=k))
    out = pd.concat(frames, ignore_index=True)
    return out[["method", "k", "trial_id", "prompt_id", *columns]]


def top_k_counts(configs: pd.DataFrame, ks=DEFAULT_KS) -> pd.DataFrame:
    """Per method and k: n_grid (configs in the grid), n_configs (= ceil(k% x N), in the bin)
    and n_with_samples (those with a completed seed)."""
    rows = []
    for m in dict.fromkeys(configs["method"]):
        ranked = rank_configs(configs[configs["method"] == m])
        for k in ks:
            sel = ranked.head(bin_size(len(ranked), k))
            rows.append(dict(method=m, k=k, n_grid=len(ranked), n_configs=len(sel),
                             n_with_samples=int((sel["status"] == STATUS_OK).sum())))
    return pd.DataFrame(rows)


def distinct_bins(counts: pd.DataFrame) -> dict:
    """The top-k% bins that differ, as {k: label}: bins are prefixes of one ranking, so two
    consecutive ks whose bins hold as many configs for every method select the same configs;
    they are merged into one bin labelled by its range ("top 1–25%") and keyed by its largest
    k. ``counts``: ``top_k_counts``."""
    ks = sorted(counts["k"].unique())
    sizes = {k: tuple(counts[counts["k"] == k].sort_values("method")["n_configs"]) for k in ks}
    groups: list[list] = []
    for k in ks:
        if groups and sizes[groups[-1][-1]] == sizes[k]:
            groups[-1].append(k)
        else:
            groups.append([k])
    return {g[-1]: (f"top {g[0]:g}%" if len(g) == 1 else f"top {g[0]:g}–{g[-1]:g}%")
            for g in groups}
