"""analysis.notebook (tables formatted like the report's) and analysis.curves (TensorBoard)."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import fmt
from analysis.curves import LOSS, training_curves
from analysis.notebook import formatted, sample_replies
from analysis.style import method_palette

ROOT = Path(__file__).resolve().parents[2]


def test_intervals_join_their_estimate_and_values_keep_their_format():
    df = pd.DataFrame({"method": ["dpo", "simpo"], "learning_rate": [6e-7, 1e-6],
                       "score": [0.1234567, np.nan], "score_lo": [0.1, np.nan],
                       "score_hi": [0.2, np.nan], "poi": [0.55, 0.5], "lo": [0.5, 0.4],
                       "hi": [0.6, 0.6], "n_ok": [3, 4]})
    out = formatted(df, palette=method_palette(["dpo", "simpo"], {"dpo": "DPO"}),
                    axes=("learning_rate",))
    assert list(out.columns) == ["method", "learning rate", "score", "poi", "n ok"]
    assert list(out["method"]) == ["DPO", "simpo"]
    assert list(out["learning rate"]) == ["6e-07", "1e-06"]
    assert out.at[0, "score"] == fmt.ci(0.1234567, 0.1, 0.2) and out.at[1, "score"] == "-"
    assert out.at[0, "poi"] == fmt.pct_ci(0.55, 0.5, 0.6)
    assert list(out["n ok"]) == ["3", "4"]


def test_training_curves_from_the_harness_tensorboard_runs(fixture_factory, tmp_path):
    folder = fixture_factory(tmp_path / "tb", seed=8, grid="small", n_failed=1, n_diverged=1)
    spec = importlib.util.spec_from_file_location(
        "tensorboard_fixture", ROOT / "tests" / "fixtures" / "tensorboard_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert training_curves(folder).empty  # no logs yet: an empty table, same columns
    module.write_tensorboard(folder)
    trials = pd.read_parquet(folder / "trials.parquet")
    curves = training_curves(folder, tags=None)
    assert set(curves["tag"]) == {LOSS, "train/rewards/margins", "train/learning_rate"}
    # every trial that trained has a run; the failed one wrote none
    assert set(curves["trial_id"]) == set(trials.loc[trials["status"] != "failed", "trial_id"])
    ok = trials[trials["status"] == "ok"].iloc[0]
    loss = curves[(curves["trial_id"] == ok["trial_id"]) & (curves["tag"] == LOSS)]
    assert list(loss["step"]) == sorted(loss["step"]) and len(loss) == module.N_LOGS
    assert loss["value"].iloc[-1] < np.log(2)
    one = training_curves(folder, trial_ids=[ok["trial_id"]])
    assert set(one["trial_id"]) == {ok["trial_id"]} and set(one["tag"]) == {LOSS}


def test_sample_replies_are_the_reports_prompts(study_default):
    from analysis.analyze import analyze
    from analysis.report.responses import pick_prompts

    a = analyze(study_default, n_boot=20)
    best = study_default.grid.iloc[0]["trial_id"]
    out = sample_replies(a, {"SFT": None, "a trial": best})
    picks = pick_prompts(a)
    assert list(out["prompt_id"]) == [p for p, _ in picks for _ in range(2)]
    assert list(out["model"]) == ["SFT", "a trial"] * len(picks)
    row = out.iloc[1]
    resp = study_default.responses
    hit = resp[(resp["trial_id"] == best) & (resp["prompt_id"] == row["prompt_id"])].iloc[0]
    assert row["score"] == hit["score"] and row["length"] == hit["length"]
