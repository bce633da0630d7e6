"""The judge-breakdown table and figure (issue 14): means of the ``judge_<component>`` columns
per model, per method's best trial and over its ok trials; absent without a breakdown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.breakdown import breakdown_table, method_breakdown, plot_breakdown
from harness.judges import build_judge, judge_columns
from harness.metrics import sample_table
from harness.toyworld.world import BENIGN_TOPICS, HEDGES, all_prompts, render

PROMPT = next(p for p in all_prompts("eval") if not p.harmful and p.topic == "cooking")
STEPS = BENIGN_TOPICS["cooking"]["steps"]


def _samples(trial_id: str, responses: list[str]) -> pd.DataFrame:
    """Sample rows the way the evaluation stage writes them (toy judge, its breakdown)."""
    judge = build_judge({"name": "toy"})
    prompts = [[{"role": "user", "content": PROMPT.text}]] * len(responses)
    score = judge.score(prompts, responses)
    n = len(responses)
    return sample_table(trial_id, [f"p{i}" for i in range(n)], responses,
                        [len(r.split()) + 1 for r in responses], score, np.zeros(n),
                        np.zeros(n), np.zeros(n), kl_sample=np.zeros(n),
                        finished=np.ones(n, dtype=bool)).assign(**judge_columns(judge, prompts, responses))


@pytest.fixture
def tables():
    baseline = _samples("sft", [render(STEPS[:1]), render(STEPS[:1] + HEDGES[:1])])
    samples = pd.concat([
        _samples("a1", [render(STEPS[:2]), render(STEPS[:3])]),             # content
        _samples("a2", [render(STEPS[:1] + HEDGES[:3]), render(STEPS[:1])]),  # padding
        _samples("b1", [render(STEPS[:1]), render(STEPS[:1])]),
    ], ignore_index=True)
    trials = pd.DataFrame({"trial_id": ["a1", "a2", "b1", "b2"],
                           "method": ["dpo", "dpo", "simpo", "simpo"],
                           "status": ["ok", "ok", "ok", "failed"]})
    return trials, samples, baseline


def test_table_holds_the_means_of_every_component(tables):
    trials, samples, baseline = tables
    t = breakdown_table(trials, samples, baseline)
    assert t["trial_id"].tolist() == ["sft", "a1", "a2", "b1"]  # failed b2 has no samples
    comps = [c for c in t.columns if c.startswith("judge_")]
    assert comps[:2] == ["judge_content", "judge_padding"]
    a2 = samples[samples["trial_id"] == "a2"]
    row = t.set_index("trial_id").loc["a2"]
    assert row["judge_padding"] == pytest.approx(a2["judge_padding"].mean()) and row["judge_padding"] < 0
    # the components still sum to the score after averaging
    np.testing.assert_allclose(t[comps].sum(axis=1), t["score"], atol=1e-12)


def test_method_rows_best_and_mean(tables):
    t = method_breakdown(breakdown_table(*tables))
    assert t[["method", "row", "n_trials"]].values.tolist() == [
        ["sft", "SFT model", 1], ["dpo", "best", 1], ["dpo", "mean", 2],
        ["simpo", "best", 1], ["simpo", "mean", 1]]
    dpo = t[t["method"] == "dpo"].set_index("row")
    assert dpo.at["best", "trial_id"] == "a1"  # higher mean score than the padded a2
    full = breakdown_table(*tables).set_index("trial_id")
    assert dpo.at["mean", "judge_content"] == pytest.approx(full.loc[["a1", "a2"], "judge_content"].mean())


def test_no_breakdown_columns_no_table(study_default):
    assert breakdown_table(study_default.trials, study_default.samples, study_default.baseline) is None
    assert method_breakdown(None) is None


def test_plot_one_point_per_trial_and_the_sft_star(tables):
    fig = plot_breakdown(breakdown_table(*tables))
    ax = fig.axes[0]
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [2, 1, 1]  # dpo, simpo, SFT
    assert "content" in ax.get_xlabel() and "padding" in ax.get_ylabel()
