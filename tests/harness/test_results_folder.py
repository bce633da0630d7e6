"""The results folder belongs to one study config; damaged trial records are quarantined
(issue 10: "What must hold" 1 and 4, per-trial files). Rows are written with the harness's own
writer (harness.results.write_trial), as a trial writes them."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from harness.results import (
    QUARANTINE_DIR,
    classify,
    consolidate,
    counts,
    prune,
    read_trial,
    scan,
    trial_dir,
    write_trial,
)
from harness.schema import describe_excluded, exclusion_reason

HASH, OTHER = "a" * 16, "b" * 16


def _samples(tid: str, n: int = 3) -> pd.DataFrame:
    """A trial's sample rows, through the harness's own writer (harness.metrics.sample_table)."""
    from harness.metrics import sample_table

    return sample_table(tid, [f"p{i}" for i in range(n)], ["x y ."] * n, [3] * n,
                        [0.5, 1.0, 1.5][:n], [0.1] * n, [1.0] * n, [0.2] * n,
                        kl_sample=[0.2] * n, finished=[True] * n)


def _record(results, tid, study_hash=HASH, status="ok", **extra):
    row = {"trial_id": tid, "method": "dpo", "beta": 0.1, "learning_rate": 1e-4, "epochs": 1,
           "seed": 0, "status": status, "error": None, "mean_score": 1.0,
           "study_hash": study_hash, **extra}
    write_trial(results, row, _samples(tid) if status == "ok" else None)


def _flip(path, offset: int = -40, n: int = 4) -> None:
    data = bytearray(path.read_bytes())
    for i in range(n):
        data[offset + i] ^= 0xFF
    path.write_bytes(bytes(data))


# ----------------------------------------------------------------------------- membership


def test_exclusion_reason_separates_other_settings_from_shrunk_grid():
    ids = {"dpo-1", "dpo-2"}
    assert exclusion_reason("dpo-1", HASH, HASH, ids) is None
    assert exclusion_reason("dpo-1", OTHER, HASH, ids) == "other_settings"
    assert exclusion_reason("dpo-9", HASH, HASH, ids) == "not_in_grid"
    assert exclusion_reason("dpo-9", OTHER, HASH, ids) == "other_settings"
    # rows of an older harness carry no hash: judged by id (the id digests the settings too)
    assert exclusion_reason("dpo-1", None, HASH, ids) is None
    assert exclusion_reason("dpo-9", float("nan"), HASH, ids) == "other_settings"
    assert describe_excluded({"other_settings": 3, "not_in_grid": 2}) == (
        "3 made under other settings, 2 no longer in the grid")
    assert describe_excluded({"other_settings": 0, "not_in_grid": 0}) == ""


def test_consolidate_takes_only_the_current_trial_set_and_counts_the_rest(tmp_path):
    for tid in ("dpo-1", "dpo-2"):
        _record(tmp_path, tid)
    _record(tmp_path, "dpo-old", OTHER)  # made under other settings
    _record(tmp_path, "dpo-3")  # same settings, dropped from the grid
    trials, samples, excluded = consolidate(tmp_path, HASH, ["dpo-1", "dpo-2", "dpo-4"])
    assert sorted(trials["trial_id"]) == ["dpo-1", "dpo-2"]
    assert set(samples["trial_id"]) == {"dpo-1", "dpo-2"}
    assert excluded == {"other_settings": 1, "not_in_grid": 1}
    assert (trials["study_hash"] == HASH).all()
    assert "_integrity" not in trials.columns
    on_disk = pd.read_parquet(tmp_path / "trials.parquet")
    assert sorted(on_disk["trial_id"]) == ["dpo-1", "dpo-2"]
    # the rows kept aside are still on disk until pruned
    assert trial_dir(tmp_path, "dpo-old").is_dir() and trial_dir(tmp_path, "dpo-3").is_dir()


def test_prune_removes_excluded_and_quarantined_records_only(tmp_path):
    for tid in ("dpo-1", "dpo-2"):
        _record(tmp_path, tid)
    _record(tmp_path, "dpo-old", OTHER)
    (trial_dir(tmp_path, "dpo-2") / "row.json").write_text("{")
    found = scan(tmp_path)
    kept, excluded = classify(found.rows, HASH, ["dpo-1", "dpo-2"])
    assert set(kept) == {"dpo-1"} and counts(excluded) == {"other_settings": 1, "not_in_grid": 0}
    assert prune(tmp_path, excluded) == 2  # dpo-old + one quarantined record
    assert sorted(p.name for p in (tmp_path / "trials").iterdir()) == ["dpo-1"]
    assert not (tmp_path / QUARANTINE_DIR).exists()


# ----------------------------------------------------------------------------- damaged records


def test_intact_records_read_back_as_written(tmp_path):
    _record(tmp_path, "dpo-1", mean_kl=float("nan"), extra_col=3)
    row = read_trial(trial_dir(tmp_path, "dpo-1"))
    assert row["trial_id"] == "dpo-1" and row["mean_kl"] is None and row["extra_col"] == 3
    assert scan(tmp_path).damaged == []


@pytest.mark.parametrize("damage", ["truncate_row", "flip_row", "edit_row", "truncate_samples",
                                    "flip_samples", "delete_samples", "not_a_row"])
def test_damaged_trial_record_is_quarantined_with_a_warning_naming_it(tmp_path, damage, caplog):
    _record(tmp_path, "dpo-1")
    _record(tmp_path, "dpo-2")
    folder = trial_dir(tmp_path, "dpo-1")
    row, samples = folder / "row.json", folder / "samples.parquet"
    if damage == "truncate_row":
        row.write_bytes(row.read_bytes()[:50])
    elif damage == "flip_row":  # a digit of a number changes: still valid JSON
        text = row.read_text()
        row.write_text(text.replace('"mean_score": 1.0', '"mean_score": 7.0'))
    elif damage == "edit_row":
        data = json.loads(row.read_text())
        data["trial_id"] = "dpo-2"
        row.write_text(json.dumps(data))
    elif damage == "truncate_samples":
        samples.write_bytes(samples.read_bytes()[:100])
    elif damage == "flip_samples":
        _flip(samples, offset=len(samples.read_bytes()) // 2)
    elif damage == "delete_samples":
        samples.unlink()
    else:
        row.write_text("[1, 2]")
    with caplog.at_level(logging.WARNING, logger="harness.results"):
        found = scan(tmp_path)
    assert set(found.rows) == {"dpo-2"}
    assert [tid for tid, _ in found.damaged] == ["dpo-1"]
    named = str(samples) if "samples" in damage else str(row)
    assert named in caplog.text and "will run again" in caplog.text
    assert not folder.exists()  # moved aside, so the trial is not done any more
    (moved,) = (tmp_path / QUARANTINE_DIR).iterdir()
    assert moved.name.startswith("dpo-1-")
    # consolidate never reads the damaged bytes
    trials, _, _ = consolidate(tmp_path, HASH, ["dpo-1", "dpo-2"])
    assert list(trials["trial_id"]) == ["dpo-2"]


def test_dry_run_scan_reports_damage_without_moving_anything(tmp_path):
    _record(tmp_path, "dpo-1")
    row = trial_dir(tmp_path, "dpo-1") / "row.json"
    row.write_bytes(row.read_bytes()[:30])
    found = scan(tmp_path, move_damaged=False)
    assert found.rows == {} and len(found.damaged) == 1
    assert row.exists() and not (tmp_path / QUARANTINE_DIR).exists()


def test_record_of_an_older_harness_without_digests_is_still_read(tmp_path):
    _record(tmp_path, "dpo-1")
    row = trial_dir(tmp_path, "dpo-1") / "row.json"
    data = json.loads(row.read_text())
    del data["_integrity"], data["study_hash"]
    row.write_text(json.dumps(data))
    assert read_trial(row.parent)["trial_id"] == "dpo-1"
    samples = row.parent / "samples.parquet"
    samples.write_bytes(samples.read_bytes()[:64])  # without a digest, an unreadable file still fails
    assert scan(tmp_path).damaged[0][0] == "dpo-1"
