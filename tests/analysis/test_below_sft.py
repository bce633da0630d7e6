"""One definition of "below SFT" (issue 15): harness.schema.below_sft, used by the sweep's
summary (harness.summary) and the report's share of trials below SFT (analysis.performance) and
risk below SFT (analysis.expected_max). At or below counts; a trial without a score (failed,
diverged) counts as below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.expected_max import prob_beat
from analysis.performance import performance_table
from harness.schema import below_sft, share_below_sft
from harness.summary import summary_frame


def test_the_definition_ties_and_missing_scores_are_below():
    scores = np.array([0.2, 0.3, 0.31, np.nan])
    assert below_sft(scores, 0.3).tolist() == [True, True, False, True]
    assert share_below_sft(scores, 0.3) == pytest.approx(0.75)
    assert np.isnan(share_below_sft(scores, np.nan)) and np.isnan(share_below_sft([], 0.3))
    # batched over bootstrap replicates: (B, N) scores against (B, 1) targets
    reps = np.array([[0.1, 0.5], [0.6, 0.7]])
    np.testing.assert_allclose(share_below_sft(reps, np.array([[0.2], [0.65]])), [0.5, 0.5])
    # the risk of the best of one draw ending below is the same share
    assert 1 - prob_beat(scores[:3], 0.3, 1) == pytest.approx(share_below_sft(scores[:3], 0.3))


@pytest.mark.parametrize("name", ["edge", "seeds"])
def test_summary_and_report_agree(name, request):
    study = request.getfixturevalue(f"study_{name}")
    cs = request.getfixturevalue(f"cs_{name}")
    grid = study.grid
    assert (grid["status"] != "ok").any()  # failures are part of the comparison
    summary = summary_frame(grid, cs.sft_point).set_index("method")["below_sft"]
    report = performance_table(study, cs).set_index("method")["share_below_sft"]
    pd.testing.assert_series_equal(summary.loc[report.index], report, check_names=False)


def test_a_trial_exactly_at_sft_is_below_in_the_summary():
    trials = pd.DataFrame({"method": ["dpo"] * 4, "status": ["ok", "ok", "failed", "diverged"],
                           "mean_score": [0.5, 0.7, np.nan, np.nan]})
    row = summary_frame(trials, 0.5).iloc[0]
    assert row["below_sft"] == pytest.approx(3 / 4)
    assert row["best"] == 0.7 and row["ok"] == 2
