"""analysis.load takes only the study's own trials, and the report says what was kept aside
(issue 10: a results folder belongs to one study config)."""

from __future__ import annotations

import json

import pandas as pd

from analysis.load import load_study
from harness.io import write_json_atomic, write_parquet_atomic
from results_fixture import make_results  # tests/fixtures is on sys.path (tests/conftest.py)


def _with_foreign_rows(folder):
    """The fixture's folder as a sweep interrupted before it rewrote its tables leaves it: the
    tables still hold a row made under other settings and one no longer in the grid."""
    meta = json.loads((folder / "study.json").read_text())
    trials = pd.read_parquet(folder / "trials.parquet")
    samples = pd.read_parquet(folder / "samples.parquet")
    own = list(trials["trial_id"])
    trials["study_hash"] = "h" * 16
    source = trials.iloc[0]["trial_id"]
    extra_trials, extra_samples = [], []
    for tid, study_hash in (("dpo-other", "g" * 16), ("dpo-gone", "h" * 16)):
        extra_trials.append(trials.iloc[[0]].assign(trial_id=tid, study_hash=study_hash))
        extra_samples.append(samples[samples["trial_id"] == source].assign(trial_id=tid))
    write_parquet_atomic(folder / "trials.parquet", pd.concat([trials, *extra_trials]))
    write_parquet_atomic(folder / "samples.parquet", pd.concat([samples, *extra_samples]))
    meta.update(trial_ids=own, study_hash="h" * 16,
                excluded={"other_settings": 1, "not_in_grid": 1})
    write_json_atomic(folder / "study.json", meta)
    return own


def test_load_takes_only_the_trials_of_the_study(tmp_path):
    folder = make_results(tmp_path / "s", seed=3, grid="small")
    own = _with_foreign_rows(folder)
    study = load_study(folder)
    assert sorted(study.trials["trial_id"]) == sorted(own)
    assert set(study.samples["trial_id"]) <= set(own)


def test_results_without_a_trial_set_load_whole(tmp_path):
    folder = make_results(tmp_path / "old", seed=3, grid="small")  # no trial_ids, no hashes
    assert len(load_study(folder).trials) == len(pd.read_parquet(folder / "trials.parquet"))


def test_report_provenance_names_the_trials_kept_aside(tmp_path):
    from analysis.report import build_report

    folder = make_results(tmp_path / "r", seed=3, grid="small")
    _with_foreign_rows(folder)
    out = build_report(folder, tmp_path / "report", n_boot=20)
    text = (out / "report.md").read_text()
    assert ("- trials kept aside (recorded in the results folder, not analysed): "
            "1 made under other settings, 1 no longer in the grid") in text
