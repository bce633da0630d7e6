"""The fixture generator writes exactly the results layout (design.md, harness.schema)."""

import json

import numpy as np
import pandas as pd
import pytest

from harness.schema import BASELINE_TRIAL_ID, MODEL_METRICS, SAMPLE_COLUMNS, TRIAL_BASE_COLUMNS
from results_fixture import AXIS_COLUMNS


def _read(p):
    return (json.loads((p / "study.json").read_text()), pd.read_parquet(p / "trials.parquet"),
            pd.read_parquet(p / "samples.parquet"), pd.read_parquet(p / "baseline.parquet"))


def test_layout(results_default):
    meta, trials, samples, baseline = _read(results_default)
    assert set(meta) == {"study", "config", "versions", "git_revision", "seeds", "n_trials",
                         "created"}
    assert meta["n_trials"] == len(trials) == 24 + 24 + 54
    assert list(trials.columns) == list(TRIAL_BASE_COLUMNS) + list(AXIS_COLUMNS)
    assert list(samples.columns) == list(SAMPLE_COLUMNS)
    assert list(baseline.columns) == list(SAMPLE_COLUMNS)
    assert (baseline["trial_id"] == BASELINE_TRIAL_ID).all() and len(baseline) == 100
    assert len(samples) == len(trials) * 100
    assert trials["trial_id"].is_unique
    assert trials.loc[trials["method"] != "simpo", "gamma"].isna().all()
    simpo = trials[trials["method"] == "simpo"]
    np.testing.assert_allclose(simpo["gamma"], simpo["beta"] * simpo["gamma_beta_ratio"])
    np.testing.assert_allclose(samples["kl_per_token"], samples["kl"] / samples["length"])


def test_seeded(tmp_path, fixture_factory):
    a = _read(fixture_factory(tmp_path / "a", grid="small", seed=3))
    b = _read(fixture_factory(tmp_path / "b", grid="small", seed=3))
    c = _read(fixture_factory(tmp_path / "c", grid="small", seed=4))
    assert a[0] == b[0]
    for x, y in zip(a[1:], b[1:]):
        pd.testing.assert_frame_equal(x, y)
    assert not np.allclose(a[1]["mean_score"], c[1]["mean_score"])


def test_failed_and_diverged(results_edge):
    _, trials, samples, _ = _read(results_edge)
    failed = trials[trials["status"] == "failed"]
    diverged = trials[trials["status"] == "diverged"]
    assert len(failed) == 3 and len(diverged) == 2
    assert failed[list(MODEL_METRICS)].isna().all().all()
    assert diverged[list(MODEL_METRICS)].isna().all().all()
    assert diverged["reward_accuracy"].notna().all()  # a diverged trial keeps train metrics
    assert failed["error"].str.len().gt(0).all()
    assert not set(samples["trial_id"]) & (set(failed["trial_id"]) | set(diverged["trial_id"]))
    assert (trials["method"] == "ln_dpo").sum() == 1  # the single-config method
    assert trials.loc[trials["method"] == "ln_dpo", "status"].eq("ok").all()


def test_one_method_and_absolute_gamma(results_one_method, tmp_path, fixture_factory):
    _, trials, _, _ = _read(results_one_method)
    assert set(trials["method"]) == {"simpo"}
    _, t, _, _ = _read(fixture_factory(tmp_path / "abs", grid="small", simpo_gamma="absolute"))
    s = t[t["method"] == "simpo"]
    assert s["gamma_beta_ratio"].isna().all() and s["gamma"].notna().all()


def test_realistic_effects(results_default):
    _, trials, _, baseline = _read(results_default)
    sft = baseline["score"].mean()
    assert (trials["mean_score"] < sft).any()  # some configs end below SFT
    for m, g in trials.groupby("method"):
        # KL grows with learning rate and falls with beta (Spearman over the grid)
        assert g["mean_kl"].corr(g["learning_rate"], method="spearman") > 0.2, m
        assert g["mean_kl"].corr(g["beta"], method="spearman") < -0.2, m
    s = trials[trials["method"] == "simpo"]
    assert s["mean_length"].corr(s["gamma"], method="spearman") < -0.2
    assert s["mean_length"].corr(s["learning_rate"], method="spearman") > 0.2
    ln = trials[trials["method"] == "ln_dpo"]["mean_length"]
    assert ln.max() - ln.min() < s["mean_length"].max() - s["mean_length"].min()


def test_too_many_failures(tmp_path, fixture_factory):
    with pytest.raises(ValueError, match="exceeds"):
        fixture_factory(tmp_path / "x", grid="small", methods=("dpo",), n_failed=7)
