import itertools

import numpy as np
import pandas as pd
import pytest

from analysis.importance import available_evaluators, grid_study, param_importances
from analysis.load import Study
from analysis.methods import Axis, MethodInfo

AXES = (Axis("beta", "log", "β"), Axis("learning_rate", "log", "learning rate"),
        Axis("epochs", "linear", "epochs"))


def _study(n_failed=0, single=False):
    rows = []
    grid = itertools.product([0.01, 0.03, 0.1, 0.3, 1.0], [1e-7, 3e-7, 1e-6], [1, 2])
    for i, (b, lr, ep) in enumerate([next(grid)] if single else grid):
        # only beta matters; learning rate and epochs add nothing
        score = -abs(np.log10(b) + 1.0)
        rows.append(dict(trial_id=f"t{i:02d}", method="dpo", beta=b, gamma=np.nan,
                         gamma_beta_ratio=np.nan, learning_rate=lr, epochs=ep, seed=0,
                         status="failed" if i < n_failed else "ok",
                         mean_score=np.nan if i < n_failed else score))
    trials = pd.DataFrame(rows).assign(role="grid", config_id=lambda d: d["trial_id"])
    return Study(path=None, meta={}, trials=trials, samples=pd.DataFrame(),
                 baseline=pd.DataFrame(), responses=pd.DataFrame(),
                 infos={"dpo": MethodInfo("dpo", "DPO", AXES, True)})


def test_beta_dominates_when_only_beta_matters():
    imp = param_importances(_study(n_failed=2), "dpo", seed=0)
    assert set(imp["evaluator"]) == set(available_evaluators())
    for ev, g in imp.groupby("evaluator"):
        s = g.set_index("param")["importance"]
        assert s.idxmax() == "beta", ev
        assert s.sum() == pytest.approx(1.0)
    assert (imp["n_failed"] == 2).all() and (imp["n_complete"] == 28).all()


def test_single_config_has_nothing_to_attribute():
    imp = param_importances(_study(single=True), "dpo")
    assert imp["importance"].isna().all()
    assert imp["note"].str.contains("single config").all()


def test_too_few_completed_for_ped_anova():
    imp = param_importances(_study(n_failed=26), "dpo", evaluators=["ped_anova"])
    assert imp["importance"].isna().all()
    assert imp["note"].str.contains("PED-ANOVA needs").all()


def test_unknown_evaluator():
    with pytest.raises(ValueError, match="shap"):
        param_importances(_study(), "dpo", evaluators=["shap"])


def test_scale_comes_from_the_axis():
    trials = _study().trials
    study = grid_study(trials, list(AXES))
    dists = study.trials[0].distributions
    assert dists["beta"].log and dists["learning_rate"].log and not dists["epochs"].log
    flat = (Axis("beta", "linear"),) + AXES[1:]
    assert not grid_study(trials, list(flat)).trials[0].distributions["beta"].log


def test_new_axis_tau_is_in_the_importance_table(study_family):
    imp = param_importances(study_family, "tau_po", evaluators=["ped_anova"])
    assert "tau" in set(imp["param"]) and imp["importance"].notna().all()
