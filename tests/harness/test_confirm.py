"""Confirmation runs (issue 13, what must hold 3): ``python -m harness.sweep STUDY --confirm K``.

End to end on a tiny toy-world study (2 methods x 2 configs, seeds [0, 1], 2 samples per prompt)
through the real entry point; the selection rule itself on synthetic grid rows of a larger grid
(no training), where best and top25 are different configs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness.confirm import CONFIRM_FILE, ConfirmError, fresh_seeds, plan
from harness.config import load_study
from harness.grid import expand
from harness.membership import study_trials
from harness.selection import config_scores, selected
from harness.sweep import main
from sweep_helpers import tiny_study

SAMPLES = 2


@pytest.fixture(scope="module")
def confirmed(tiny_world, tiny_world_config, tmp_path_factory):
    """The study run, then ``--confirm 2``, then ``--confirm 2`` again; returns the yaml, the
    trial table after each step and the second confirm's output."""
    root = tmp_path_factory.mktemp("confirm")
    path = tiny_study(
        root, tiny_world, tiny_world_config, name="confirm",
        data={"train": {"adapter": "toyworld", "max_rows": 32},
              "eval": {"adapter": "toyworld", "max_rows": 8}, "heldout_pairs": 8},
        generation={"max_new_tokens": 12, "batch_size": 16, "samples_per_prompt": SAMPLES},
        grid={"learning_rate": [3e-4], "epochs": [1], "seed": [0, 1]},
        methods={"dpo": {"beta": [0.1, 0.3]},
                 "simpo": {"beta": [2.0], "gamma_beta_ratio": [0.3, 0.6]}},
        ray={"max_concurrent": 2},
    )
    study = load_study(path)
    results = study.results_path
    steps = {}
    assert main([str(path)]) == 0
    steps["grid"] = pd.read_parquet(results / "trials.parquet")
    assert main([str(path), "--confirm", "2"]) == 0
    steps["confirm"] = pd.read_parquet(results / "trials.parquet")
    assert main([str(path), "--confirm", "2"]) == 0
    steps["again"] = pd.read_parquet(results / "trials.parquet")
    return path, study, steps


def test_grid_rows_are_replicates_with_several_samples(confirmed):
    _, study, steps = confirmed
    grid = steps["grid"]
    assert len(grid) == 8 and set(grid["role"]) == {"grid"} and set(grid["seed"]) == {0, 1}
    assert (grid.groupby("config_id")["seed"].apply(sorted) == pd.Series([[0, 1]] * 4).values).all()
    assert (grid["generation_seed"] == 0).all()  # generation.seed fixed (the default)
    assert (grid["study_hash"] == study.hash()).all() and (grid["gpu_hours"] == 0.0).all()
    baseline = pd.read_parquet(study.results_path / "baseline.parquet")
    n_prompts = baseline["prompt_id"].nunique()
    assert len(baseline) == n_prompts * SAMPLES
    assert sorted(set(baseline["sample_index"])) == [0, 1] and (baseline["kl"] == 0).all()
    samples = pd.read_parquet(study.results_path / "samples.parquet")  # after --confirm too
    samples = samples[samples["trial_id"].isin(grid["trial_id"])]
    assert len(samples) == 8 * n_prompts * SAMPLES
    assert sorted(set(samples["sample_index"])) == [0, 1] and (samples["kl"] >= 0).all()
    sums = samples.groupby("trial_id")[["kl", "length"]].sum()
    ratio = (sums["kl"] / sums["length"]).reindex(grid["trial_id"]).to_numpy()
    np.testing.assert_allclose(grid["kl_per_token"], ratio)  # a ratio of means


def test_confirm_adds_k_seeds_per_selected_config_and_resumes(confirmed):
    _, study, steps = confirmed
    new = steps["confirm"][~steps["confirm"]["trial_id"].isin(steps["grid"]["trial_id"])]
    # 2 configs per method: best is rank 1 and top25 rank ceil(0.25 * 2) = 1, the same config,
    # so each method has ONE distinct selected config: K=2 x 1 config x 2 methods = 4 trials
    # (2 x 2 roles x 2 methods role slots; test_plan_best_and_top25_differ covers 2 configs).
    assert len(new) == 2 * 1 * 2
    assert set(new["role"]) == {"confirm"} and sorted(set(new["seed"])) == [2, 3]
    assert (new.groupby("method")["config_id"].nunique() == 1).all()
    assert set(new["config_id"]) <= set(steps["grid"]["config_id"])
    assert (new["status"] == "ok").all()
    # the grid's selection (harness.selection, the rule analysis.topk uses)
    sft = float(pd.read_parquet(study.results_path / "baseline.parquet")["score"].mean())
    chosen = selected(config_scores(steps["grid"], sft))
    assert set(new["config_id"]) == set(chosen["config_id"])
    # re-running --confirm 2 resumes: nothing new, the same rows
    assert sorted(steps["again"]["trial_id"]) == sorted(steps["confirm"]["trial_id"])
    info = json.loads((study.results_path / "study.json").read_text())
    assert set(info["trial_ids"]) == set(steps["confirm"]["trial_id"])
    assert info["replicates"] == {"seeds": [0, 1], "generation_seed": "fixed"}
    assert info["confirm"]["seeds"] == [2, 3] and info["confirm"]["n_trials"] == 4
    for method, roles in info["confirm"]["configs"].items():
        assert roles["best"] == roles["top25"]
    # a plain re-run keeps them: members of the study, not "no longer in the grid"
    assert study_trials(load_study(confirmed[0])).ids == set(steps["confirm"]["trial_id"])


def test_confirm_grows_by_one_seed(confirmed, tmp_path):
    """--confirm 3 after --confirm 2 plans one more seed per selected config (planned only)."""
    path, study, steps = confirmed
    trial_set = study_trials(study)
    rows = {r["trial_id"]: r for r in steps["again"].to_dict("records")}
    sft = float(pd.read_parquet(study.results_path / "baseline.parquet")["score"].mean())
    record = plan(study, trial_set.grid, rows, sft, 3, trial_set.confirm)
    added = [s for s in record.specs if s.trial_id not in trial_set.ids]
    assert len(added) == 2 and {s.seed for s in added} == {4}
    # --dry-run --confirm 3 shows that plan and records nothing
    before = (study.results_path / CONFIRM_FILE).read_text()
    assert main([str(path), "--dry-run", "--confirm", "3"]) == 0
    assert (study.results_path / CONFIRM_FILE).read_text() == before


def test_report_reads_the_confirmation_rows(confirmed, tmp_path):
    from analysis.analyze import analyze
    from analysis.load import load_study as load_results
    from analysis.report.__main__ import main as report

    _, study, _ = confirmed
    assert report([str(study.results_path), "--out", str(tmp_path / "r"), "--n-boot", "200"]) == 0
    assert (tmp_path / "r" / "report.md").exists()
    a = analyze(load_results(study.results_path), n_boot=20)
    assert (a.confirmation["source"] == "confirm").all() and (a.confirmation["n_confirm"] == 2).all()
    assert (a.best["source"] == "confirm").all()  # Table 1's rows come from the fresh seeds
    assert set(a.representatives["config_id"]) == set(a.confirmation["config_id"])


def test_confirm_needs_the_recorded_grid(tiny_world, tiny_world_config, tmp_path, capsys):
    path = tiny_study(tmp_path, tiny_world, tiny_world_config, name="early")
    assert main([str(path), "--confirm", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --confirm:") and "run the study first" in err
    assert not (load_study(path).results_path / CONFIRM_FILE).exists()


def test_plan_best_and_top25_differ(tiny_world, tiny_world_config, tmp_path):
    """5 configs: best is rank 1, top25 rank ceil(1.25) = 2: two configs x K seeds. Failures
    sit at the floor; ties go to the config with the first trial id."""
    path = tiny_study(tmp_path, tiny_world, tiny_world_config, name="five",
                      grid={"learning_rate": [3e-4], "epochs": [1], "seed": [0, 1]},
                      methods={"dpo": {"beta": [0.05, 0.1, 0.2, 0.3, 0.4]}})
    study = load_study(path)
    specs = expand(study)
    score = {0.05: 0.1, 0.1: 0.5, 0.2: 0.9, 0.3: 0.7, 0.4: 0.2}
    rows = {s.trial_id: {"status": "ok", "mean_score": score[s.values["beta"]]} for s in specs}
    # beta 0.2 loses a seed to a failure: (0.9 + floor) / 2 falls below 0.7
    failed = next(s for s in specs if s.values["beta"] == 0.2)
    rows[failed.trial_id] = {"status": "failed", "mean_score": None}
    record = plan(study, specs, rows, 0.0, 2)
    by_beta = {s.config_id: s.values["beta"] for s in specs}
    assert by_beta[record.configs["dpo"]["best"]] == 0.3
    assert by_beta[record.configs["dpo"]["top25"]] == 0.1
    assert len(record.specs) == 2 * 2 and {s.seed for s in record.specs} == {2, 3}
    assert fresh_seeds(specs, 2) == [2, 3]
    rows.pop(specs[-1].trial_id)
    with pytest.raises(ConfirmError, match="1 of the study's 10 grid trials"):
        plan(study, specs, rows, 0.0, 2)
