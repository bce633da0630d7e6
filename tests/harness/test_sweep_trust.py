"""Results you can trust, end to end through ``harness.sweep`` (issue 10, "What must hold" 1-4).

Tiny SimPO studies over the tiny world (tests/fixtures/sweep_helpers.py); every run goes through
the real entry point with Ray Tune.
"""

from __future__ import annotations

import json
import os
import signal

import pandas as pd
import pytest
from sweep_helpers import SweepProcess, results_of, tables, tiny_study

from harness.artifacts import PreparedStudy, study_folder
from harness.io import owner_tag
from harness.results import QUARANTINE_DIR, done_ids, trial_dir
from harness.sweep import main


@pytest.fixture()
def study(tmp_path, tiny_world, tiny_world_config):
    def write(**changes):
        return tiny_study(tmp_path, tiny_world, tiny_world_config, **changes)

    return write


def _ids(results) -> list[str]:
    trials, _ = tables(results)
    return sorted(trials["trial_id"])


def _study_json(results) -> dict:
    return json.loads((results / "study.json").read_text())


def _dead_pid() -> int:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_changed_setting_shrunk_and_extended_grid_damaged_records_and_prune(
        study, tiny_world, capsys, monkeypatch):
    """What must hold 1 (and 4 for the per-trial files): the tables hold exactly the current
    grid's trials, the rest is counted by reason everywhere and pruned on request."""
    path = study()
    results = results_of(path)
    # leftovers of an earlier killed run of the harness, which the next start removes
    dead = _dead_pid()
    stale_tmp = results / "trials" / "simpo-x" / f".row.json.{owner_tag(dead)}ab12.tmp"
    stale_world = tiny_world.parent / f".{tiny_world.name}.{owner_tag(dead)}zz99"
    for p in (stale_tmp, stale_world / "sft" / "model.safetensors"):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("half")

    assert main([str(path)]) == 0
    first = _ids(results)
    assert len(first) == 2
    assert not stale_tmp.exists() and not stale_world.exists()
    assert "leftover(s) of killed runs" in capsys.readouterr().out

    # a result-affecting setting changes: two new trials, the old two kept aside
    changed = ["--set", "training.logging_steps=3"]
    assert main([str(path), *changed]) == 0
    out = capsys.readouterr().out
    second = _ids(results)
    assert len(second) == 2 and not set(first) & set(second)
    start = out.splitlines()[0]
    assert "0 already recorded, 2 to run" in start
    assert "kept aside: 2 made under other settings (--prune removes them)" in start
    assert "not in these tables: 2 made under other settings" in out  # the summary
    info = _study_json(results)
    assert info["excluded"] == {"other_settings": 2, "not_in_grid": 0}
    assert sorted(info["trial_ids"]) == second
    trials, samples = tables(results)
    assert set(samples["trial_id"]) == set(second)
    assert (trials["study_hash"] == info["study_hash"]).all()

    # the grid shrinks (dry run): one trial no longer in the grid
    shrunk = [*changed, "--set", "methods.simpo.beta=[2.0]"]
    assert main([str(path), *shrunk, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Kept aside: 2 made under other settings, 1 no longer in the grid" in out

    # a damaged record is quarantined and its trial runs again
    victim = second[0]
    row = trial_dir(results, victim) / "row.json"
    row.write_bytes(row.read_bytes()[:40])
    # the grid is extended: the recorded trials that still belong are kept
    extended = [*changed, "--set", "methods.simpo.beta=[2.0, 2.5, 3.0]"]
    assert main([str(path), *extended]) == 0
    start = capsys.readouterr().out.splitlines()[0]
    assert "3 trials, 1 already recorded, 2 to run" in start
    assert "1 damaged (quarantined, will run again)" in start
    assert len(list((results / QUARANTINE_DIR).iterdir())) == 1
    third = _ids(results)
    assert len(third) == 3 and set(second) <= set(third)

    # a finished study re-run: no Ray, no preparation; --prune deletes what is kept aside
    def no_ray(address):
        raise AssertionError("a finished study must not start Ray")

    monkeypatch.setattr("harness.sweep.ray_session", no_ray)
    assert main([str(path), *shrunk, "--prune"]) == 0
    out = capsys.readouterr().out
    # 2 old settings + 2 out of the grid + 1 quarantined + the unfinished attempt simpo-x
    assert "pruned 6 trial record(s)" in out
    assert "prepare:" not in out
    assert "1 trials, 1 already recorded, 0 to run" in out
    assert len(_ids(results)) == 1
    assert sorted(p.name for p in (results / "trials").iterdir()) == _ids(results)
    assert not (results / QUARANTINE_DIR).exists()
    assert _study_json(results)["excluded"] == {"other_settings": 0, "not_in_grid": 0}


def test_two_sweeps_of_one_name_with_different_data_never_cross(study, tmp_path):
    """What must hold 2: B prepares other eval prompts under the same study name while A's
    trials run; each trial's samples have its own study's prompt ids."""
    a = study(file="a", data={"train": {"adapter": "toyworld", "max_rows": 48},
                              "eval": {"adapter": "toyworld", "max_rows": 8}, "heldout_pairs": 8})
    b = study(file="b", data={"train": {"adapter": "toyworld", "max_rows": 48},
                              "eval": {"adapter": "toyworld", "max_rows": 8, "seed": 1},
                              "heldout_pairs": 8},
              methods={"simpo": {"beta": [2.0], "gamma_beta_ratio": [0.5]}})
    ra, rb = results_of(a), results_of(b)
    first = SweepProcess([a], tmp_path / "a")
    try:
        first.wait_for(lambda: len(done_ids(ra)) >= 1)  # A prepared and running
        second = SweepProcess([b], tmp_path / "b")
        assert second.wait() == 0, second.stderr
        assert first.wait() == 0, first.stderr
    finally:
        first.cleanup()
    prompts = {}
    for results in (ra, rb):
        trials, samples = tables(results)
        manifest = json.loads((results / "prepared.json").read_text())
        own = set(pd.read_parquet(manifest["eval_prompts"])["prompt_id"])
        baseline = set(pd.read_parquet(results / "baseline.parquet")["prompt_id"])
        assert (trials["status"] == "ok").all()
        for tid, group in samples.groupby("trial_id"):
            assert set(group["prompt_id"]) == own == baseline, tid
        prompts[results] = own
    assert prompts[ra] != prompts[rb]  # the two studies really had different data
    # two manifests side by side, each keyed by its content
    keys = set()
    for results in (ra, rb):
        manifest = PreparedStudy.from_any(json.loads((results / "prepared.json").read_text()))
        assert (study_folder(manifest.artifacts_dir, "trust") / f"prepared-{manifest.key}.json").is_file()
        keys.add(manifest.key)
    assert len(keys) == 2


def test_sigint_stops_cleanly_and_the_rerun_runs_the_interrupted_trials(study, tmp_path, capsys):
    """What must hold 3, the lock, and Ctrl-C during preparation."""
    path = study(methods={"simpo": {"beta": [2.0, 2.5, 3.0, 3.5], "gamma_beta_ratio": [0.5]}})
    results = results_of(path)
    sweep = SweepProcess([path], tmp_path / "sigint")
    try:
        sweep.wait_for(lambda: len(done_ids(results)) >= 1)
        # one sweep per study at a time
        assert main([str(path)]) == 2
        err = capsys.readouterr().err
        assert f"is in use by another sweep (pid {sweep.proc.pid} on host" in err
        sweep.signal_group(signal.SIGINT)  # Ctrl-C in the terminal
        code = sweep.wait(timeout=300)
    finally:
        sweep.cleanup()
    assert code == 130, sweep.stderr
    assert "Traceback" not in sweep.stderr and "interrupted (SIGINT)" in sweep.stderr
    rows = [json.loads(p.read_text()) for p in (results / "trials").glob("*/row.json")]
    assert 1 <= len(rows) < 4
    assert all(r["status"] == "ok" for r in rows)  # nothing recorded as failed
    assert not (results / "sweep.lock").exists()

    # SIGTERM to the driver alone (as a scheduler ends a job): exit 143, nothing failed
    again = SweepProcess([path], tmp_path / "sigterm")
    try:
        # a trial of this run is training: its folder exists, its row does not yet
        again.wait_for(lambda: any(not (p / "row.json").exists()
                                   for p in (results / "trials").iterdir()))
        again.proc.send_signal(signal.SIGTERM)
        code = again.wait(timeout=300)
    finally:
        again.cleanup()
    assert code == 143, again.stderr
    assert "Traceback" not in again.stderr
    recorded = [json.loads(p.read_text()) for p in (results / "trials").glob("*/row.json")]
    assert all(r["status"] == "ok" for r in recorded) and len(recorded) < 4

    # the re-run runs exactly the trials that were interrupted
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert f"4 trials, {len(recorded)} already recorded, {4 - len(recorded)} to run" in out
    trials, _ = tables(results)
    assert len(trials) == 4 and (trials["status"] == "ok").all()


def test_ctrl_c_during_preparation_exits_130_without_traceback(study, tmp_path, tiny_world_config):
    world = tiny_world_config.model_copy(deep=True)
    world.world.seed = 7  # a world not yet built: preparation takes a while
    path = study(toyworld=world.model_dump(), artifacts_dir=str(tmp_path / "artifacts"))
    toy = tmp_path / "artifacts" / "toyworld"

    def half_built() -> list:
        return [p for p in toy.iterdir() if p.name.startswith(".")] if toy.is_dir() else []

    sweep = SweepProcess([path], tmp_path / "prep")
    try:
        sweep.wait_for(lambda: half_built())  # the world is being built
        sweep.signal_group(signal.SIGINT)
        code = sweep.wait(timeout=300)
    finally:
        sweep.cleanup()
    assert code == 130, sweep.stderr
    assert "Traceback" not in sweep.stderr and "interrupted (SIGINT)" in sweep.stderr
    assert not half_built() and not list(toy.iterdir())  # nothing half-built is left
    assert not (results_of(path) / "sweep.lock").exists()


def test_only_a_trial_tune_reports_as_errored_gets_a_failed_row(study, tmp_path):
    """A trial whose worker process dies (killed, out of memory) is recorded failed with Tune's
    error; the other trials finish."""
    path = study(methods={"simpo": {"beta": [2.0, 2.5, 3.0], "gamma_beta_ratio": [0.5]}})
    results = results_of(path)
    sweep = SweepProcess([path], tmp_path / "kill")
    try:
        sweep.wait_for(lambda: len(done_ids(results)) >= 1 and sweep.trial_workers())
        before = done_ids(results)
        victims = sweep.trial_workers()
        for p in victims:
            os.kill(p.pid, signal.SIGKILL)
        code = sweep.wait(timeout=600)
    finally:
        sweep.cleanup()
    assert code == 0, sweep.stderr
    trials, _ = tables(results)
    assert len(trials) == 3
    failed = trials[trials["status"] == "failed"]
    assert len(failed) == 1 and failed["trial_id"].iloc[0] not in before
    assert "Error" in failed["error"].iloc[0]
