"""Policies kept and runs tracked by a real sweep (issue 12, "What must hold" 2 and 5).

One 6-trial study on the tiny world (DPO x 3, SimPO x 3) with ``save.policies: {best: 2}``
and ``tracking.report_to: [tensorboard]``, through ``harness.sweep.main`` (Ray Tune, two
trials at once):

2. exactly 2 policy folders per method remain, those of the 2 best trials by mean score, each
   loadable with ``from_pretrained``, and trials.parquet's ``policy_path`` names them (and only
   them);
5. ``results/<study>/tensorboard/`` holds one run per trial, named by trial id and
   hyperparameters, with the training curves and the final mean_score, read back with
   TensorBoard's own event reader.
"""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path

import pandas as pd
import pytest

from harness.keep import keep_policy, policy_paths
from harness.sweep import main
from harness.tracking import run_name
from sweep_helpers import results_of, tiny_study


@pytest.fixture(scope="module")
def study(tiny_world, tiny_world_config, tmp_path_factory):
    root = tmp_path_factory.mktemp("keep")
    path = tiny_study(
        root, tiny_world, tiny_world_config, name="keep",
        data={"train": {"adapter": "toyworld", "max_rows": 64},
              "eval": {"adapter": "toyworld", "max_rows": 16}, "heldout_pairs": 8},
        generation={"max_new_tokens": 24, "batch_size": 16},
        training={"batch_size": 16, "max_length": 96, "logging_steps": 1},
        methods={"dpo": {"beta": [0.05, 0.1, 0.5]},
                 "simpo": {"beta": [2.0], "gamma_beta_ratio": [0.2, 0.5, 0.8]}},
        ray={"max_concurrent": 2},
        save={"policies": {"best": 2}},
        tracking={"report_to": ["tensorboard"]},
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([str(path)]) == 0
    (root / "stdout.txt").write_text(out.getvalue())
    return results_of(path)


def test_best_two_policies_per_method_are_kept_and_named(study):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    trials = pd.read_parquet(study / "trials.parquet")
    assert len(trials) == 6 and (trials["status"] == "ok").all()
    for method, group in trials.groupby("method"):
        folders = sorted(p.name for p in (study / "policies" / method).iterdir()
                         if p.is_dir() and not p.name.startswith("."))
        best = group.sort_values(["mean_score", "trial_id"], ascending=[False, True])
        assert folders == sorted(best["trial_id"].iloc[:2])
        named = group.dropna(subset=["policy_path"])
        assert sorted(named["trial_id"]) == folders
        for tid, path in zip(named["trial_id"], named["policy_path"]):
            assert Path(path) == study / "policies" / method / tid
            model = AutoModelForCausalLM.from_pretrained(path)
            tok = AutoTokenizer.from_pretrained(path)
            assert model.config.vocab_size == len(tok)
            assert (Path(path) / "model.safetensors").exists()


def test_one_tensorboard_run_per_trial_with_final_metrics(study):
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    trials = pd.read_parquet(study / "trials.parquet")
    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(str(study / "tensorboard"))
    mux.Reload()
    tags = mux.Runs()  # run -> {"scalars": [...], "tensors": [...], ...}
    runs = set(tags)
    # A run name is the trial id and its `k=v` hyperparameters (their order is the spec's).
    expected = {run_name({k: v for k, v in r.items() if pd.notna(v)})
                for r in trials[["trial_id", "method", "beta", "gamma", "gamma_beta_ratio",
                                 "learning_rate", "epochs", "seed"]].to_dict("records")}
    assert {frozenset(n.split()) for n in runs} == {frozenset(n.split()) for n in expected}
    for r in trials.itertuples():
        run = next(n for n in runs if n.startswith(r.trial_id + " "))
        assert f"beta={r.beta:g}" in run and f"learning_rate={r.learning_rate:g}" in run
        assert "train/loss" in tags[run]["scalars"]  # the training curve
        final = mux.Scalars(run, "final/mean_score")
        assert final[-1].value == pytest.approx(r.mean_score, rel=1e-6)
    # an HParams entry per run (the hparams plugin's data, as TensorBoard's HParams tab reads it)
    from tensorboard.backend.event_processing.plugin_event_multiplexer import (
        EventMultiplexer as PluginMultiplexer,
    )

    plugin = PluginMultiplexer()
    plugin.AddRunsFromDirectory(str(study / "tensorboard"))
    plugin.Reload()
    hparams = plugin.PluginRunToTagToContent("hparams")
    assert set(hparams) == runs
    for run in runs:
        assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= set(hparams[run])
        assert b"final/mean_score" in hparams[run]["_hparams_/experiment"]


def test_concurrent_finishers_keep_exactly_the_best(tmp_path):
    """Eight trials finishing at once (threads), best 3 kept: the lock serialises decisions."""
    from transformers import Phi3Config, Phi3ForCausalLM

    model = Phi3ForCausalLM(Phi3Config(vocab_size=32, hidden_size=8, intermediate_size=16,
                                       num_hidden_layers=1, num_attention_heads=2,
                                       num_key_value_heads=1, pad_token_id=0))
    scores = [0.3, 1.2, -0.5, 0.9, 2.0, 0.1, 1.5, 0.0]
    rows = [{"trial_id": f"dpo-{i:02d}", "method": "dpo", "status": "ok", "mean_score": s}
            for i, s in enumerate(scores)]
    threads = [threading.Thread(target=keep_policy, args=(model, None, row, {"best": 3}, tmp_path))
               for row in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kept = policy_paths(tmp_path)
    assert sorted(kept) == ["dpo-01", "dpo-04", "dpo-06"]
    leftovers = [p.name for p in (tmp_path / "policies" / "dpo").iterdir() if p.is_dir()]
    assert sorted(leftovers) == sorted(kept)  # no temporary folder left behind
    # not ok, or no score: never kept
    assert keep_policy(model, None, {**rows[0], "status": "diverged"}, "all", tmp_path) is None
    assert keep_policy(model, None, {**rows[0], "mean_score": float("nan")}, "all",
                       tmp_path) is None


def test_no_tune_banner_or_tensorboard_hint_in_the_output(study):
    out = (study.parent.parent / "stdout.txt").read_text()
    assert "results:" in out and "done" in out  # the harness's own lines are there
    assert "tensorboard --logdir" not in out  # Ray's hint at a temporary folder
    assert "Configuration for experiment" not in out  # Tune's banner
    tune_run = next((study / "tune").glob("run-*"))
    assert not list(tune_run.rglob("events.out.tfevents*"))  # no second TensorBoard tree


def test_the_report_says_where_the_recommended_model_is(study):
    """The report's one line (analysis.report.sentences.model_sentence) on the real table: the
    recommended config's kept folder, or that it was not kept."""
    from types import SimpleNamespace

    from analysis.report.sentences import model_sentence

    trials = pd.read_parquet(study / "trials.parquet")
    kept = trials.dropna(subset=["policy_path"]).iloc[0]
    dropped = trials[trials["policy_path"].isna()].iloc[0]

    def analysis(row):
        starts = pd.DataFrame([{"method": row["method"], "trial_id": row["trial_id"]}])
        return SimpleNamespace(study=SimpleNamespace(trials=trials), starts=starts,
                               choice=SimpleNamespace(method=row["method"]))

    assert model_sentence(analysis(kept)) == (
        f"The recommended config's model is at `{kept['policy_path']}`.")
    assert "was not kept" in model_sentence(analysis(dropped))
    no_save = SimpleNamespace(study=SimpleNamespace(trials=trials.drop(columns="policy_path")))
    assert model_sentence(no_save) is None
