import math

import numpy as np
import pandas as pd
import pytest

from analysis.topk import bin_size, rank_trials, representatives, top_k, top_k_counts, top_k_samples


def _trials(scores, status=None):
    n = len(scores)
    return pd.DataFrame({
        "trial_id": [f"t{i:02d}" for i in range(n)],
        "mean_score": scores,
        "status": status or ["ok"] * n,
    })


@pytest.mark.parametrize("n,k,expected", [(24, 1, 1), (24, 5, 2), (24, 10, 3), (24, 25, 6),
                                          (54, 25, 14), (1, 25, 1), (100, 5, 5), (20, 5, 1)])
def test_bin_size_is_ceil(n, k, expected):
    assert bin_size(n, k) == expected == max(1, math.ceil(k * n / 100))


def test_ties_broken_by_trial_id_and_failures_last():
    t = _trials([0.5, 0.9, np.nan, 0.9, 0.1], ["ok", "ok", "failed", "ok", "ok"])
    ranked = rank_trials(t.iloc[::-1])  # row order must not matter
    assert list(ranked["trial_id"]) == ["t01", "t03", "t00", "t04", "t02"]
    assert list(ranked["rank"]) == [1, 2, 3, 4, 5]
    assert list(top_k(t, 25)["trial_id"]) == ["t01", "t03"]  # ceil(0.25 * 5) = 2


def test_representatives(study_default):
    reps = representatives(study_default)
    for m, g in reps.groupby("method"):
        n = int(g["n_trials"].iloc[0])
        ranked = rank_trials(study_default.method_trials(m))
        best = g[g["role"] == "best"].iloc[0]
        top25 = g[g["role"] == "top25"].iloc[0]
        assert best["trial_id"] == ranked["trial_id"].iloc[0]
        assert top25["rank"] == math.ceil(0.25 * n)
        assert top25["trial_id"] == ranked["trial_id"].iloc[math.ceil(0.25 * n) - 1]
        # 25% of the grid is at least as good as the top-25% config
        assert (ranked["mean_score"] >= top25["mean_score"]).sum() == math.ceil(0.25 * n)


def test_top_k_samples_and_counts(study_edge):
    counts = top_k_counts(study_edge)
    samples = top_k_samples(study_edge)
    n_prompts = len(study_edge.prompt_ids)
    for r in counts.itertuples():
        sel = samples[(samples["method"] == r.method) & (samples["k"] == r.k)]
        assert sel["trial_id"].nunique() == r.n_with_samples
        assert len(sel) == r.n_with_samples * n_prompts
        assert r.n_configs == bin_size(r.n_trials, r.k)
    single = counts[counts["method"] == "ln_dpo"]
    assert (single["n_configs"] == 1).all()
