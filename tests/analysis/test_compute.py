"""Compute as a budget (analysis.compute): the estimator against brute force and its limits,
the costs' unit, and the report's compute section against the package function."""

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis import fmt
from analysis.compute import (UNIT_GPU, UNIT_WALL, afforded, best_afforded, compute_budget,
                              compute_curves, trial_costs)
from analysis.expected_max import expected_max
from analysis.load import ResultsError, load_study
from analysis.report.__main__ import MIN_N_BOOT, main
from analysis.scores import config_scores

N_BOOT = 40
SEED = 5


def brute_force(values, costs, budget, empty):
    """Mean over every order of the pool of the best value among the trials that finish before
    ``budget`` runs out (run back to back; the one running when it runs out is lost), ``empty``
    when none does: the definition, by enumeration."""
    outcomes = []
    for order in itertools.permutations(range(len(values))):
        spent, best = 0.0, None
        for i in order:
            spent += costs[i]
            if spent > budget + 1e-12:
                break
            best = values[i] if best is None else max(best, values[i])
        outcomes.append(empty if best is None else best)
    return float(np.mean(outcomes))


def test_every_order_gives_the_brute_force_value():
    values = np.array([0.3, -0.1, 0.9, 0.5, 0.2])
    costs = np.array([1.0, 0.5, 3.0, 2.0, 0.5])
    hours = np.array([0.4, 0.5, 1.0, 1.7, 2.5, 3.0, 4.0, 6.9, 7.0, 100.0])
    orders = np.array(list(itertools.permutations(range(5))))
    k = afforded(costs, orders, hours)
    best = best_afforded(values[None], orders, k, np.array([-5.0]))[0].mean(axis=0)
    expected = [brute_force(values, costs, h, -5.0) for h in hours]
    assert best == pytest.approx(expected, abs=1e-12)
    assert best[0] == -5.0 and best[-1] == pytest.approx(0.9)  # nothing fits; all fits


@pytest.fixture(scope="module")
def cs(study_default):
    return config_scores(study_default, n_boot=N_BOOT, seed=SEED)


def test_equal_costs_give_the_trial_count_budget(study_default, cs):
    costs = trial_costs(study_default, cs.trial_ids).assign(cost=0.25)
    curves = compute_curves(cs, costs, hours=[0.25, 0.75, 1.25], n_orders=4000, seed=SEED)
    for m in cs.method_list:
        point, _ = cs.effective_trials(m)
        rows = curves[curves["method"] == m]
        for n, r in zip((1, 3, 5), rows.itertuples()):
            assert r.mean_trials == n and r.p_none == 0
            assert abs(r.estimate - expected_max(point, n)) < 4 * r.mc_se + 1e-12
            assert r.lo <= r.estimate <= r.hi


def test_limits_and_independence_of_the_other_budgets(study_default, cs):
    costs = trial_costs(study_default, cs.trial_ids)
    small = float(costs["cost"].min()) * 0.99
    full = float(costs.groupby("method")["cost"].sum().max())
    curves = compute_curves(cs, costs, hours=[small, 1.0, full], n_orders=200, seed=SEED)
    lone = compute_curves(cs, costs, hours=[1.0], n_orders=200, seed=SEED)
    for m in cs.method_list:
        point, _ = cs.effective_trials(m)
        r = curves[curves["method"] == m].set_index("hours")
        assert r.at[small, "estimate"] == pytest.approx(cs.floor) and r.at[small, "p_none"] == 1
        assert r.at[small, "risk_below"] == 1.0
        assert r.at[full, "estimate"] == pytest.approx(point.max())
        assert r.at[full, "mean_trials"] == len(point)
        assert r.at[full, "mc_se"] == pytest.approx(0.0, abs=1e-12)
        one = lone[lone["method"] == m].iloc[0]
        # the same orders whatever else is asked for (up to the summation order's rounding)
        assert one["estimate"] == pytest.approx(r.at[1.0, "estimate"], rel=1e-12)
        assert one["lo"] == pytest.approx(r.at[1.0, "lo"], rel=1e-12)
    # more compute never lowers the expected best
    for _, g in compute_curves(cs, costs, n_orders=200, seed=SEED).groupby("method"):
        assert (np.diff(g["estimate"]) >= -1e-12).all()


def test_cheaper_trials_buy_more_trials(study_default, cs):
    costs = trial_costs(study_default, cs.trial_ids)
    h = 3 * float(costs["cost"].median())
    r = compute_curves(cs, costs, hours=[h], n_orders=500, seed=SEED).set_index("method")
    med = costs.groupby("method")["cost"].median()
    # the fixture's SimPO trials skip the reference model: cheaper, so more of them fit
    assert med["simpo"] < med["dpo"] and r.at["simpo", "mean_trials"] > r.at["dpo", "mean_trials"]


def test_cost_unit_and_imputation(results_default, results_old, tmp_path):
    study = load_study(results_default)
    c = trial_costs(study, study.grid["trial_id"])
    assert (c["unit"] == UNIT_WALL).all() and not c["imputed"].any()
    assert c["cost"].to_numpy() == pytest.approx(study.grid["time_total_s"].to_numpy() / 3600)
    old = load_study(results_old)  # no gpu_hours column: wall-clock hours
    assert (trial_costs(old, old.grid["trial_id"])["unit"] == UNIT_WALL).all()

    trials = pd.read_parquet(results_default / "trials.parquet")
    trials["gpu_hours"] = trials["time_total_s"] * 2 / 3600  # two GPUs per trial
    first = trials.index[trials["method"] == "dpo"][0]
    trials.loc[first, "gpu_hours"] = np.nan
    gpu = _copy_with(results_default, tmp_path / "gpu", trials)
    c = trial_costs(gpu, gpu.grid["trial_id"]).set_index("trial_id")
    assert (c["unit"] == UNIT_GPU).all()
    tid = trials.at[first, "trial_id"]
    assert c.at[tid, "imputed"] and c["imputed"].sum() == 1
    dpo = trials[(trials["method"] == "dpo") & trials["gpu_hours"].notna()]
    assert c.at[tid, "cost"] == pytest.approx(dpo["gpu_hours"].median())

    trials["gpu_hours"] = np.nan
    trials["time_total_s"] = np.nan
    none = _copy_with(results_default, tmp_path / "none", trials)
    with pytest.raises(ResultsError, match="no trial has a recorded cost"):
        trial_costs(none, none.grid["trial_id"])


def _copy_with(src, dst, trials):
    import shutil

    shutil.copytree(src, dst)
    trials.to_parquet(dst / "trials.parquet")
    return load_study(dst)


@pytest.fixture(scope="module")
def report_compute(results_default, tmp_path_factory):
    out = tmp_path_factory.mktemp("report_compute")
    assert main([str(results_default), "--out", str(out), "--n-boot", str(MIN_N_BOOT),
                 "--seed", str(SEED), "--budget-hours", "0.05"]) == 0
    return out


def _section_table(md: str) -> pd.DataFrame:
    """The first pipe table after the compute section's heading, as strings."""
    lines = md[md.index("### What a compute budget buys"):].splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    block = list(itertools.takewhile(lambda ln: ln.startswith("|"), lines[start:]))
    header, *rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in block]
    return pd.DataFrame(rows[1:], columns=header)  # rows[0]: the |---| line


def test_report_compute_numbers_are_the_package_numbers(results_default, report_compute):
    """Must-hold 3: every compute-budget number in the report is the package function's."""
    md = (report_compute / "report.md").read_text()
    assert "figures/fig2_compute.png" in md and (report_compute / "figures" /
                                                 "fig2_compute.png").exists()
    table = _section_table(md).set_index("method")
    study = load_study(results_default)
    cs = config_scores(study, n_boot=MIN_N_BOOT, seed=SEED)  # what the report ran
    costs = trial_costs(study, cs.trial_ids)
    budget = compute_budget(cs, costs, budget_hours=0.05, seed=SEED)
    assert 0.05 in budget.table_hours and budget.budget_hours == 0.05
    direct = budget.table[budget.table["hours"] == 0.05]
    # the curve at the same budget is the same estimator (its own call: rounding only)
    again = compute_curves(cs, costs, hours=[0.05], seed=SEED)
    assert again["estimate"].to_numpy() == pytest.approx(direct["estimate"].to_numpy(), rel=1e-12)
    assert "P(≤ SFT) within 0.05 h" in table.columns
    for r in direct.itertuples():
        row = table.loc[study.label(r.method)]
        cell = row["best within 0.05 h"]
        assert cell.startswith(fmt.ci(r.estimate, r.lo, r.hi) + f" ({r.mean_trials:.1f} trials")
        assert row["P(≤ SFT) within 0.05 h"] == fmt.pct_ci(r.risk_below, r.risk_below_lo,
                                                            r.risk_below_hi)
        assert row["trials (their cost)"] == f"{r.n_pool} ({fmt.hours(r.pool_cost, 'h')})"
    assert "With 0.05 h (--budget-hours)" in md


@pytest.mark.parametrize("bad", ["0", "-1", "inf", "nan", "ten"])
def test_budget_hours_must_be_positive(results_default, bad, capsys):
    assert main([str(results_default), "--budget-hours", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--budget-hours" in err and len(err.strip().splitlines()) == 1


def test_compute_figure_uses_the_given_axes_and_method_colours(study_default, cs):
    from matplotlib.figure import Figure

    from analysis.figures.compute import plot_compute_curves
    from analysis.style import method_palette

    costs = trial_costs(study_default, cs.trial_ids)
    curves = compute_curves(cs, costs, n_orders=50, seed=SEED)
    pal = method_palette(study_default.methods, study_default.labels)
    ax = Figure().subplots()
    fig = plot_compute_curves(curves, cs.sft_point, ax=ax, budget_hours=0.05, palette=pal)
    assert fig is ax.figure and ax.get_xscale() == "log" and "hours" in ax.get_xlabel()
    lines = {ln.get_label().split(" (")[0]: ln.get_color() for ln in ax.get_lines()}
    for m in study_default.methods:
        assert lines[pal.label(m)] == pal.color(m)
        # the curve starts where every order finishes a trial: at the dearest trial's cost
        line = next(ln for ln in ax.get_lines() if ln.get_label().startswith(pal.label(m) + " "))
        dearest = costs[costs["method"] == m]["cost"].max()
        assert line.get_xdata()[0] >= dearest


def test_a_study_without_costs_leaves_the_compute_view_out(results_default, tmp_path, capsys):
    from analysis.analyze import analyze

    trials = pd.read_parquet(results_default / "trials.parquet")
    trials["time_total_s"] = np.nan
    trials["gpu_hours"] = np.nan
    study = _copy_with(results_default, tmp_path / "nocost", trials)
    a = analyze(study, n_boot=10)
    assert a.compute is None
    out = tmp_path / "report"
    assert main([str(study.path), "--out", str(out), "--n-boot", str(MIN_N_BOOT)]) == 0
    md = (out / "report.md").read_text()
    assert "Left out: no trial has a recorded cost" in md and "fig2_compute" not in md
    # asking for a compute budget without costs is the one error line
    assert main([str(study.path), "--out", str(out), "--n-boot", str(MIN_N_BOOT),
                 "--budget-hours", "2"]) == 2
    assert "error:" in capsys.readouterr().err
