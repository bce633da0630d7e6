import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import trim_mean

from analysis.aggregate import aggregate, aggregate_iqm, aggregate_poi, weighted_iqm
from analysis.analyze import analyze
from analysis.load import load_study

N_BOOT = 60


def test_rliable_probability_of_improvement_vector():
    # rliable's own test: 4 runs x 2 tasks against 3 runs x 2 tasks -> 1/3
    x = np.array([[1, 2], [2, 2], [1, 1], [2, 1]])
    y = np.array([[1, 1], [2, 2], [3, 3]])
    assert aggregate_poi([x[:, 0], x[:, 1]], [y[:, 0], y[:, 1]]) == pytest.approx(1 / 3)


def test_iqm_vectors():
    # equal sizes: rliable's pooled IQM; 12 values, 3 cut at each end -> mean(3..8) = 5.5
    assert aggregate_iqm([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]) == pytest.approx(5.5)
    # unequal sizes: every study weighs 1/2; the middle half of the weight is 1 (0.25),
    # 2 (0.125) and 3 (0.125) -> (0.25 + 0.25 + 0.375) / 0.5
    assert aggregate_iqm([[0, 1], [2, 3, 4, 5]]) == pytest.approx(1.75)
    assert weighted_iqm([0, 1, 2, 3, 4, 5, 6, 7], np.ones(8)) == pytest.approx(3.5)


def _independent(paths):
    """rliable-style estimates straight from the parquet files (one seed, no failures):
    normalised scores (mean_score - SFT mean) / SD(SFT per-prompt scores), pooled IQM,
    mean over studies of the brute-force P(X > Y)."""
    scores, methods = [], None
    for p in paths:
        t = pd.read_parquet(p / "trials.parquet")
        b = pd.read_parquet(p / "baseline.parquet")["score"]
        z = (t["mean_score"] - b.mean()) / b.std(ddof=1)
        scores.append({m: z[t["method"] == m].to_numpy() for m in t["method"].unique()})
        methods = list(t["method"].unique())
    iqm = {m: trim_mean(np.concatenate([s[m] for s in scores]), 0.25) for m in methods}
    poi = {}
    for a, b in itertools.product(methods, methods):
        per = [np.mean([(x > y) + 0.5 * (x == y) for x in s[a] for y in s[b]]) for s in scores]
        poi[a, b] = np.mean(per)
    return iqm, poi


@pytest.fixture(scope="module")
def three(tmp_path_factory, fixture_factory):
    root = tmp_path_factory.mktemp("three")
    return [fixture_factory(root / f"s{i}", seed=10 + i, grid="small", study=f"s{i}",
                            n_prompts=60) for i in range(3)]


def test_three_studies_match_an_independent_implementation(three):
    """Must-hold 5a."""
    agg = aggregate([load_study(p) for p in three], n_boot=N_BOOT, seed=0)
    iqm, poi = _independent(three)
    got = agg.iqm.set_index("method")
    for m, v in iqm.items():
        assert got.at[m, "iqm"] == pytest.approx(v, abs=1e-4)  # mean_score vs samples: 1e-4
        assert got.at[m, "lo"] <= got.at[m, "iqm"] <= got.at[m, "hi"]
    for r in agg.poi.itertuples():
        assert r.poi == pytest.approx(poi[r.method_a, r.method_b], abs=1e-9)
    assert list(agg.scales["study"]) == ["s0", "s1", "s2"]
    assert set(agg.per_study["study"]) == {"s0", "s1", "s2"}
    assert agg.leader in agg.methods


def test_one_study_aggregate_equals_its_report(results_default, study_default):
    """Must-hold 5b: aggregating one study reproduces its own numbers (PoI exactly; IQM and
    the budget gain through the stated normalisation)."""
    a = analyze(study_default, n_boot=N_BOOT, seed=2, evaluators=["ped_anova"])
    agg = aggregate([study_default], n_boot=N_BOOT, seed=2, scores=None)
    d = agg.scales["scale"].iloc[0]
    own = a.poi[a.poi["method_b"] != "sft"].set_index(["method_a", "method_b"])
    for r in agg.poi.itertuples():
        o = own.loc[(r.method_a, r.method_b)]
        assert (r.poi, r.lo, r.hi) == (o["poi"], o["lo"], o["hi"])
    perf = a.performance.set_index("method")
    for r in agg.iqm.itertuples():
        assert r.iqm * d + a.cs.sft_point == pytest.approx(perf.at[r.method, "iqm"], abs=1e-12)
    gain = a.curves_gain[~a.curves_gain["replace"]].set_index(["method", "n"])
    for r in agg.best.itertuples():
        g = gain.loc[(r.method, r.n)]
        for ours, theirs in ((r.estimate, g["estimate"]), (r.lo, g["lo"]), (r.hi, g["hi"])):
            assert ours * d == pytest.approx(theirs, abs=1e-9)
    assert agg.leader == a.choice.method


def test_cli_aggregates_several_folders(three, tmp_path):
    out = tmp_path / "agg"
    proc = subprocess.run([sys.executable, "-m", "analysis.report", *map(str, three),
                           "--out", str(out), "--n-boot", "30"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    md = (out / "report.md").read_text()
    assert "# Several studies as tasks: s0, s1, s2" in md
    assert "Across the 3 studies, start with" in md
    assert ("Where the studies disagree" in md) or ("Every study agrees" in md)
    assert "figures/fig1_aggregate.png" in md
    assert (out / "report.html").read_text().count("data:image/png;base64,") == 1


def test_methods_missing_somewhere_are_left_out(results_default, results_one_method):
    agg = aggregate([load_study(results_default), load_study(results_one_method)], n_boot=20)
    assert agg.methods == ["simpo"]
    assert set(agg.left_out) == {"dpo", "ln_dpo"}


def test_no_shared_method_is_an_error(tmp_path, fixture_factory, capsys):
    from analysis.report.__main__ import main

    a = fixture_factory(tmp_path / "a", grid="small", methods=("dpo",))
    b = fixture_factory(tmp_path / "b", grid="small", methods=("simpo",))
    assert main([str(a), str(b), "--n-boot", "10"]) == 2
    assert "no method in common" in capsys.readouterr().err
