import re
import subprocess
import sys

import pytest

from analysis import fmt
from analysis.expected_max import budget_table, trials_to_beat_table
from analysis.headtohead import head_to_head
from analysis.load import load_study
from analysis.performance import axis_columns, config_table, performance_table
from analysis.poi import poi_table
from analysis.recommend import choose_method, start_configs
from analysis.report.__main__ import main
from analysis.scores import config_scores
from analysis.topk import representatives

N_BOOT = 60
SEED = 7


@pytest.fixture(scope="module")
def report_default(results_default, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main([str(results_default), "--out", str(out), "--n-boot", str(N_BOOT),
                 "--seed", str(SEED)]) == 0
    return out


def test_writes_md_html_and_pngs(report_default):
    md = (report_default / "report.md").read_text()
    html = (report_default / "report.html").read_text()
    pngs = sorted(p.name for p in (report_default / "figures").glob("*.png"))
    for stem in ("fig1_distribution", "fig2_budget", "fig3_length_topk", "fig4_kl_topk",
                 "fig5_kl_vs_score", "fig6_sensitivity_beta", "fig6_sensitivity_gamma",
                 "fig6_sensitivity_learning_rate", "fig6_sensitivity_epochs", "fig6_importance",
                 "fig6_variance", "fig7_head_to_head"):
        assert f"{stem}.png" in pngs
        assert f"figures/{stem}.png" in md
    # self-contained: every image inline, no file links
    assert html.count("data:image/png;base64,") == len(pngs)
    assert not re.search(r'src="(?!data:)', html)
    assert "<table>" in html
    # opens with the answer, then provenance, then evidence
    assert md.index("## The answer") < md.index("## Provenance") < md.index("## Evidence")
    assert "**Start with " in md


def test_report_numbers_are_the_package_numbers(results_default, report_default):
    md = (report_default / "report.md").read_text()
    study = load_study(results_default)
    cs = config_scores(study, n_boot=N_BOOT, seed=SEED)
    for r in budget_table(cs, (1, 3, 5, 10)).itertuples():
        assert fmt.ci(r.expected_best, r.expected_best_lo, r.expected_best_hi) in md
    for r in performance_table(study, cs).itertuples():
        assert fmt.ci(r.iqm, r.iqm_lo, r.iqm_hi) in md
        assert fmt.ci(r.best, r.best_lo, r.best_hi) in md
    for r in poi_table(cs).itertuples():
        if r.method_a != r.method_b:
            assert fmt.ci(r.poi, r.lo, r.hi, 2) in md
    configs = config_table(study, cs)
    h = head_to_head(study, cs, representatives(configs))
    for r in h[h["model_a"] < h["model_b"]].itertuples():
        if "sft" not in (r.model_a,):  # SFT is always column B in the report's table
            assert fmt.ci(r.lc, r.lc_lo, r.lc_hi, 1) in md
    axes = {m: [a.name for a in study.info(m).varying(configs[configs["method"] == m])]
            for m in study.methods}
    for r in start_configs(configs, cs, axes, axis_columns(study)).itertuples():
        assert fmt.ci(r.neighbourhood, r.neighbourhood_lo, r.neighbourhood_hi) in md
    for r in trials_to_beat_table(cs).itertuples():
        assert fmt.trials_ci(r.trials, r.trials_lo, r.trials_hi) in md
    choice = choose_method(cs, 3)
    assert f"**Start with {study.label(choice.method)}.**" in md
    assert "Selection-biased values" in md  # no confirmation runs in this study


def test_provenance(report_default, study_default):
    md = (report_default / "report.md").read_text()
    assert "102 trials in trials.parquet (102 ok, 0 failed, 0 diverged)" in md
    assert "102 configs x 1 training seed(s); no confirmation runs" in md
    assert "pandas" in md and "```yaml" in md


def test_overlap_is_stated(report_default):
    md = (report_default / "report.md").read_text()
    answer = md[md.index("## The answer"): md.index("### Where to start")]
    # the default fixture's methods are close at 3 trials: the report must say they overlap
    assert "overlap" in answer or "excludes zero" in answer


@pytest.mark.parametrize("name", ["results_edge", "results_one_method"])
def test_builds_on_edge_studies_via_cli(name, request, tmp_path):
    folder = request.getfixturevalue(name)
    out = tmp_path / "rep"
    proc = subprocess.run([sys.executable, "-m", "analysis.report", str(folder), "--out", str(out),
                           "--n-boot", "30"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    md = (out / "report.md").read_text()
    assert (out / "report.html").stat().st_size > 10_000
    study = load_study(folder)
    counts = study.trials["status"].value_counts()
    assert f"({counts.get('ok', 0)} ok, {counts.get('failed', 0)} failed, " in md
    if name == "results_one_method":
        assert "This study has one method" in md
    else:
        assert "Trials that failed or diverged" in md
        for tid in study.trials.loc[study.trials["status"] != "ok", "trial_id"]:
            assert tid in md  # never silently dropped
        assert "single config: nothing to search" in md


def test_bad_folder(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_same_report_for_shuffled_rows(results_edge, tmp_path):
    import shutil

    import pandas as pd

    from analysis.report import build_report

    copy = tmp_path / "copy"
    shutil.copytree(results_edge, copy, ignore=shutil.ignore_patterns("report"))
    for name in ("trials", "samples"):
        df = pd.read_parquet(copy / f"{name}.parquet")
        df.sample(frac=1.0, random_state=1).to_parquet(copy / f"{name}.parquet", index=False)
    a = build_report(results_edge, tmp_path / "a", n_boot=20)
    b = build_report(copy, None, n_boot=20)
    assert b == copy / "report"  # the default output folder
    strip = lambda p: re.sub(r"from `[^`]+`", "", (p / "report.md").read_text())  # noqa: E731
    assert strip(a) == strip(b)


def test_replicated_study_report(results_seeds, tmp_path):
    out = tmp_path / "rep"
    assert main([str(results_seeds), "--out", str(out), "--n-boot", "40"]) == 0
    md = (out / "report.md").read_text()
    assert "its 3 training seeds" in md  # what the intervals resample
    assert "confirmation runs on fresh seeds" in md and "Selection-biased" not in md
    assert "Confirmed minus grid score" in md and "grid score (selected on it)" in md
    assert "### Seeds, prompts and hyperparameters" in md and "config x seed" in md
    assert "the generation seed follows the training seed" in md
    assert "averaged per prompt" in md  # two samples per prompt
    assert "figures/fig6_variance.png" in md
    assert "an association" in md or "associations across configs" in md


def test_old_layout_report_explains_negative_kl(results_old, tmp_path):
    out = tmp_path / "old"
    assert main([str(results_old), "--out", str(out), "--n-boot", "30"]) == 0
    md = (out / "report.md").read_text()
    assert "sampled-token estimate" in md and "negative for some responses" in md
    assert "one training seed per config" in md


def test_family_report_prints_every_axis(results_family, tmp_path):
    """Must-hold (issue 11, 1): tau in the sensitivity figures, the importance figure and the
    recommended start of the report."""
    out = tmp_path / "fam"
    assert main([str(results_family), "--out", str(out), "--n-boot", "20"]) == 0
    md = (out / "report.md").read_text()
    assert "figures/fig6_sensitivity_tau.png" in md and "Sensitivity to τ" in md
    start = [line for line in md.splitlines() if line.startswith("| τ-PO |")][0]
    assert "τ=" in start and "learning rate=" in start and "epochs=1" in start
    assert "τ-PO: τ" in md or "τ-PO: learning rate" in md  # the importance sentence
    assert md.count("| ") > 100  # tables rendered for twelve methods
