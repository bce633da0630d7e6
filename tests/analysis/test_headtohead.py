import numpy as np
import pandas as pd
import pytest

from analysis.headtohead import elo_table, head_to_head, missing_models
from analysis.performance import config_table
from analysis.scores import config_scores
from analysis.topk import representatives
from analysis.winrate import lc_win_rate, win_tie_loss


def _reps(study, cs):
    return representatives(config_table(study, cs))


@pytest.fixture(scope="module")
def h2h(study_default, cs_default):
    return head_to_head(study_default, cs_default, _reps(study_default, cs_default))


def test_pairs_and_consistency(h2h):
    models = {"dpo", "ln_dpo", "simpo", "sft"}
    for role in ("best", "top25"):
        sub = h2h[h2h["role"] == role]
        assert len(sub) == 4 * 3
        assert set(sub["model_a"]) == models
    np.testing.assert_allclose(h2h["win"] + h2h["tie"] + h2h["loss"], 1.0)
    np.testing.assert_allclose(h2h["raw"], 100 * (h2h["win"] + 0.5 * h2h["tie"]))
    key = h2h.set_index(["role", "model_a", "model_b"])
    for (role, a, b), r in key.iterrows():
        back = key.loc[(role, b, a)]
        assert r["raw"] + back["raw"] == pytest.approx(100.0)
        assert r["lc"] + back["lc"] == pytest.approx(100.0, abs=1e-6)
    assert ((h2h["raw_lo"] <= h2h["raw"]) & (h2h["raw"] <= h2h["raw_hi"])).all()
    assert ((h2h["lc_lo"] <= h2h["lc"]) & (h2h["lc"] <= h2h["lc_hi"])).all()


def test_values_equal_the_functions(study_default, h2h):
    sel = (h2h["role"] == "best") & (h2h["model_a"] == "simpo") & (h2h["model_b"] == "sft")
    r = h2h[sel].iloc[0]
    s = study_default
    sa = s.matrix("score", [r["trial_a"]])[0]
    la = s.matrix("length", [r["trial_a"]])[0]
    sb, lb = s.baseline_vector("score"), s.baseline_vector("length")
    assert r["raw"] == pytest.approx(win_tie_loss(sa, sb)["raw"][0])
    assert r["lc"] == pytest.approx(lc_win_rate(sa, sb, la, lb)[0])


def test_elo(study_default, cs_default):
    e = elo_table(study_default, cs_default, _reps(study_default, cs_default))
    assert e.loc[e["model"] == "sft", "elo"].iloc[0] == 1000.0
    assert len(e) == 7
    assert ((e["lo"] <= e["elo"] + 1e-9) & (e["elo"] <= e["hi"] + 1e-9)).all()


def test_missing_when_representative_failed(tmp_path, fixture_factory):
    from analysis.load import load_study

    p = fixture_factory(tmp_path / "r", grid="small", methods=("dpo", "simpo"), n_failed=10)
    s = load_study(p)
    cs = config_scores(s, n_boot=20)
    reps = _reps(s, cs)
    miss = missing_models(s, reps)
    assert len(miss) > 0 and (miss["status"] != "ok").all()
    h = head_to_head(s, cs, reps)
    assert isinstance(h, pd.DataFrame)
    for r in miss.itertuples():
        assert r.trial_id not in set(h["trial_a"])


def test_models_average_their_runs(study_seeds, cs_seeds):
    """With confirmation runs a representative is the mean of its fresh-seed runs."""
    reps = _reps(study_seeds, cs_seeds)
    h = head_to_head(study_seeds, cs_seeds, reps)
    row = h[(h["role"] == "best") & (h["model_b"] == "sft")].iloc[0]
    assert row["source_a"] == "confirm" and row["n_a"] == 2
    t = study_seeds.confirm
    cfg = reps[(reps["role"] == "best") & (reps["method"] == row["model_a"])]["config_id"].iloc[0]
    ids = t[(t["config_id"] == cfg) & (t["status"] == "ok")]["trial_id"]
    score = study_seeds.matrix("score", ids).mean(axis=0)
    assert row["raw"] == pytest.approx(win_tie_loss(score, study_seeds.baseline_vector("score"))
                                       ["raw"][0])
    assert ((h["raw_lo"] <= h["raw"]) & (h["raw"] <= h["raw_hi"])).all()
    assert h["length_balance"].between(0, 0.5).all()
