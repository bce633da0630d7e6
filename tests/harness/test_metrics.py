"""Metrics on hand-built arrays, against hand-computed values (the arithmetic is written out)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.metrics import kl_per_token, model_metrics, per_token, sample_table, spearman, win_rate
from harness.schema import MODEL_METRICS, SAMPLE_COLUMNS


def test_win_rate_counts_ties_as_half():
    # 1 > 0 wins (1), 2 == 2 ties (0.5), 3 < 5 loses (0), 4 == 4 ties (0.5): 2.0 / 4
    assert win_rate([1, 2, 3, 4], [0, 2, 5, 4]) == 0.5
    # 3 > 1 (1), 1 == 1 (0.5), 2 > 1 (1): 2.5 / 3
    assert win_rate([3, 1, 2], [1, 1, 1]) == pytest.approx(2.5 / 3)
    # all ties: 0.5, whatever the values
    assert win_rate([-1.5, 7.0], [-1.5, 7.0]) == 0.5
    # antisymmetry: win(a, b) + win(b, a) == 1
    a, b = np.array([0.3, 1.0, -2.0, 5.0, 5.0]), np.array([0.1, 1.0, 3.0, 4.0, 5.0])
    assert win_rate(a, b) + win_rate(b, a) == pytest.approx(1.0)


def test_win_rate_nan_and_shape():
    assert math.isnan(win_rate([1.0, float("nan")], [0.0, 0.0]))
    assert math.isnan(win_rate([], []))
    with pytest.raises(ValueError, match="3 scores but 2"):
        win_rate([1, 2, 3], [1, 2])


def test_kl_per_token_divides_by_length_and_guards_zero():
    # 2/4 = 0.5, -1/2 = -0.5, 0/1 = 0, 3/0 -> NaN (not inf)
    out = kl_per_token([2.0, -1.0, 0.0, 3.0], [4, 2, 1, 0])
    np.testing.assert_array_equal(out[:3], [0.5, -0.5, 0.0])
    assert math.isnan(out[3])
    np.testing.assert_array_equal(per_token([-6.0, -1.0], [3, 2]), [-2.0, -0.5])


def test_spearman_hand_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [9, 7, 5, -1]) == pytest.approx(-1.0)
    # ties share the mean rank: x ranks [1, 2.5, 2.5, 4], y ranks [1, 3, 2, 4];
    # centred: x [-1.5, 0, 0, 1.5], y [-1.5, 0.5, -0.5, 1.5];
    # sum xy = 2.25 + 0 + 0 + 2.25 = 4.5, sum x^2 = 4.5, sum y^2 = 5.0 -> 4.5 / sqrt(22.5)
    x, y = [1, 2, 2, 3], [1, 3, 2, 4]
    assert spearman(x, y) == pytest.approx(4.5 / math.sqrt(22.5))
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    # monotone transforms do not change a rank correlation
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=20), rng.normal(size=20)
    assert spearman(u, v) == pytest.approx(spearman(np.exp(u), v ** 3))


def test_spearman_is_nan_safe():
    assert math.isnan(spearman([3, 3, 3], [1, 2, 3]))  # constant length
    assert math.isnan(spearman([1, 2, 3], [0.5, 0.5, 0.5]))  # constant log-prob
    assert math.isnan(spearman([1], [2]))
    # non-finite pairs are left out: the rest is perfectly monotone
    assert spearman([1, 2, 3, 4], [1, float("nan"), 3, 4]) == pytest.approx(1.0)


def hand_table() -> pd.DataFrame:
    return sample_table(
        trial_id="dpo-0001",
        prompt_id=["p0", "p1", "p2", "p3"],
        response=["a b", "", "c d e f", "g"],
        length=[3, 1, 5, 2],  # stop token included: "" is the stop token alone
        score=[2.0, -1.0, 0.5, 1.0],
        kl=[0.6, 0.1, 2.0, -0.2],
        chosen_score=[1.0, -1.0, 1.5, 0.0],
        sft_score=[2.0, -2.0, 0.5, 3.0],
        kl_sample=[0.9, -0.3, 2.4, -0.6],
        finished=[True, True, False, True],
    )


def test_sample_table_schema_and_derived_column():
    df = hand_table()
    assert list(df.columns) == list(SAMPLE_COLUMNS)
    assert (df["trial_id"] == "dpo-0001").all()
    # 0.6/3 = 0.2, 0.1/1 = 0.1, 2.0/5 = 0.4, -0.2/2 = -0.1
    np.testing.assert_allclose(df["kl_per_token"], [0.2, 0.1, 0.4, -0.1])
    assert df.loc[1, "response"] == ""  # an empty reply keeps its row
    assert list(df["sample_index"]) == [0, 0, 0, 0]  # one sample per prompt by default
    assert list(df["finished"]) == [True, True, False, True]
    with pytest.raises(ValueError, match="column score has 3 rows, expected 4"):
        sample_table("t", ["a", "b", "c", "d"], ["", "", "", ""], [1] * 4, [0.0] * 3,
                     [0.0] * 4, [0.0] * 4, [0.0] * 4, kl_sample=[0.0] * 4, finished=[True] * 4)


def test_model_metrics_hand_values():
    df = hand_table()
    logp = [-3.0, -0.5, -10.0, -1.0]  # per token: -1.0, -0.5, -2.0, -0.5
    m = model_metrics(df, logp=logp)
    assert list(m) == list(MODEL_METRICS)
    assert m["mean_score"] == pytest.approx((2.0 - 1.0 + 0.5 + 1.0) / 4)  # 0.625
    # vs chosen: 2>1 (1), -1==-1 (0.5), 0.5<1.5 (0), 1>0 (1) -> 2.5/4
    assert m["win_vs_chosen"] == pytest.approx(0.625)
    # vs sft: 2==2 (0.5), -1>-2 (1), 0.5==0.5 (0.5), 1<3 (0) -> 2.0/4
    assert m["win_vs_sft"] == pytest.approx(0.5)
    assert m["mean_kl"] == pytest.approx((0.6 + 0.1 + 2.0 - 0.2) / 4)  # 0.625
    # a ratio of means: sum kl / sum length = 2.5 / 11, not the mean of the ratios (0.15)
    assert m["kl_per_token"] == pytest.approx(2.5 / 11)
    assert m["mean_kl_sample"] == pytest.approx((0.9 - 0.3 + 2.4 - 0.6) / 4)  # 0.6
    assert m["mean_length"] == pytest.approx((3 + 1 + 5 + 2) / 4)  # 2.75
    # lengths [3, 1, 5, 2] -> ranks [3, 1, 4, 2]; logp/token [-1, -0.5, -2, -0.5] -> ranks
    # [2, 3.5, 1, 3.5]; centred: [0.5, -1.5, 1.5, -0.5] and [-0.5, 1, -1.5, 1];
    # sum xy = -0.25 - 1.5 - 2.25 - 0.5 = -4.5; sum x^2 = 5, sum y^2 = 4.5 -> -4.5/sqrt(22.5)
    assert m["length_logp_spearman"] == pytest.approx(-4.5 / math.sqrt(22.5))


def test_model_metrics_without_logp_and_on_no_rows():
    m = model_metrics(hand_table())
    assert math.isnan(m["length_logp_spearman"]) and m["mean_length"] == 2.75
    empty = model_metrics(hand_table().iloc[:0])
    assert all(math.isnan(v) for v in empty.values())
    with pytest.raises(ValueError, match="lack columns \\['kl'"):
        model_metrics(hand_table().drop(columns=["kl"]))
    with pytest.raises(ValueError, match="3 logp values for 4 rows"):
        model_metrics(hand_table(), logp=[1.0, 2.0, 3.0])


def test_float_noise_between_batches_is_a_tie_not_a_win():
    # the same texts scored in two batches differ by ~1e-7: an unchanged policy ties with SFT
    sft = np.array([0.1234567, -2.5, 3.0])
    again = sft + np.array([1e-7, -2e-7, 3e-7])
    assert win_rate(again, sft) == 0.5
    # a real difference still counts: 1 win, 1 tie, 1 loss -> (1 + 0.5 + 0) / 3
    assert win_rate(np.array([0.2, -2.5, 2.9]), sft) == pytest.approx(0.5)
    assert win_rate(np.array([0.2, -2.4, 3.1]), sft) == pytest.approx(1.0)


def test_several_samples_per_prompt():
    # prompt p0 sampled twice (sample_index 0, 1), p1 once more: rows keep their index, and
    # the per-model means run over samples
    df = sample_table("t", ["p0", "p0", "p1", "p1"], ["a", "b", "c", "d"], [2, 4, 1, 3],
                      [1.0, 3.0, 0.0, 0.0], [0.4, 1.2, 0.0, 0.6], [0.0] * 4, [0.5] * 4,
                      kl_sample=[0.5, 1.0, -0.1, 0.8], finished=[True] * 4,
                      sample_index=[0, 1, 0, 1])
    assert list(df["sample_index"]) == [0, 1, 0, 1]
    m = model_metrics(df)
    assert m["mean_score"] == pytest.approx(1.0)
    assert m["kl_per_token"] == pytest.approx(2.2 / 10)  # (0.4 + 1.2 + 0 + 0.6) / (2+4+1+3)
