import json
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis.load import ResultsError, grid_axes, load_study
from harness.schema import SAMPLE_COLUMNS, TRIAL_BASE_COLUMNS


@pytest.fixture
def copy(results_edge, tmp_path):
    dest = tmp_path / "r"
    shutil.copytree(results_edge, dest, ignore=shutil.ignore_patterns("report"))
    return dest


def test_loads_contract_tables(study_default):
    s = study_default
    assert s.name == "fixture"
    assert s.methods == ["dpo", "ln_dpo", "simpo"]
    assert list(s.trials.columns[: len(TRIAL_BASE_COLUMNS)]) == list(TRIAL_BASE_COLUMNS)
    assert len(s.prompt_ids) == 100 and s.prompt_ids == sorted(s.prompt_ids)
    m = s.matrix("score")
    assert m.shape == (len(s.trials), 100)
    row = s.samples[s.samples["trial_id"] == s.trials["trial_id"].iloc[3]]
    np.testing.assert_allclose(m[3], row.sort_values("prompt_id")["score"])


def test_matrix_nan_rows_for_failed(study_edge):
    bad = study_edge.trials["status"] != "ok"
    m = study_edge.matrix("score")
    assert np.isnan(m[bad.to_numpy()]).all()
    assert not np.isnan(m[~bad.to_numpy()]).any()


def test_row_order_does_not_matter(copy):
    ref = load_study(copy)
    for name in ("trials", "samples", "baseline"):
        df = pd.read_parquet(copy / f"{name}.parquet")
        df.sample(frac=1.0, random_state=3).to_parquet(copy / f"{name}.parquet", index=False)
    shuffled = load_study(copy)
    pd.testing.assert_frame_equal(ref.trials, shuffled.trials)
    pd.testing.assert_frame_equal(ref.samples, shuffled.samples)
    pd.testing.assert_frame_equal(ref.baseline, shuffled.baseline)


def test_missing_file(copy):
    (copy / "baseline.parquet").unlink()
    with pytest.raises(ResultsError, match="baseline.parquet"):
        load_study(copy)


def test_missing_column(copy):
    t = pd.read_parquet(copy / "trials.parquet").drop(columns="mean_kl")
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match="mean_kl"):
        load_study(copy)


def test_bad_status_names_trial(copy):
    t = pd.read_parquet(copy / "trials.parquet")
    t.loc[2, "status"] = "exploded"
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match=f"{t.loc[2, 'trial_id']}.*exploded"):
        load_study(copy)


def test_ok_trial_missing_prompts(copy):
    s = pd.read_parquet(copy / "samples.parquet")
    victim = s["trial_id"].iloc[0]
    s = s.drop(index=s.index[0])
    s.to_parquet(copy / "samples.parquet")
    with pytest.raises(ResultsError, match=f"{victim}.*99 of the 100"):
        load_study(copy)


def test_failed_trial_with_samples(copy):
    t = pd.read_parquet(copy / "trials.parquet")
    ok_id = t.loc[t["status"] == "ok", "trial_id"].iloc[0]
    t.loc[t["trial_id"] == ok_id, "status"] = "failed"
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match=f"failed trial '{ok_id}' has samples"):
        load_study(copy)


def test_mean_score_must_match_samples(copy):
    t = pd.read_parquet(copy / "trials.parquet")
    i = t.index[t["status"] == "ok"][0]
    t.loc[i, "mean_score"] += 0.5
    t.to_parquet(copy / "trials.parquet")
    with pytest.raises(ResultsError, match="mean_score"):
        load_study(copy)


def test_unknown_trial_in_samples(copy):
    s = pd.read_parquet(copy / "samples.parquet")
    s.loc[0, "trial_id"] = "ghost"
    s.to_parquet(copy / "samples.parquet")
    with pytest.raises(ResultsError, match="ghost"):
        load_study(copy)


def test_bad_json(copy):
    (copy / "study.json").write_text("{not json")
    with pytest.raises(ResultsError, match="study.json"):
        load_study(copy)


def test_grid_axes(study_default, study_edge):
    t = study_default.trials
    assert grid_axes(t[t["method"] == "dpo"]) == ["beta", "learning_rate", "epochs"]
    assert grid_axes(t[t["method"] == "simpo"]) == ["beta", "gamma_beta_ratio", "learning_rate",
                                                     "epochs"]
    e = study_edge.trials
    assert grid_axes(e[e["method"] == "ln_dpo"]) == []  # the single-config method


def test_absolute_gamma_axis(tmp_path, fixture_factory):
    s = load_study(fixture_factory(tmp_path / "abs", grid="small", methods=("simpo",),
                                simpo_gamma="absolute"))
    assert s.trials["gamma_beta_ratio"].isna().all()
    assert "gamma" in grid_axes(s.trials)
    assert json.loads((tmp_path / "abs" / "study.json").read_text())["n_trials"] == len(s.trials)
    assert list(s.samples.columns) == list(SAMPLE_COLUMNS)
