"""One sweep per study at a time, and cleaning up after killed runs (issue 10)."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time

import psutil
import pytest

from harness.cleanup import leftovers, remove_leftovers
from harness.io import owner_tag
from harness.lock import LOCK, LockHeldError, study_lock


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not psutil.pid_exists(proc.pid)
    return proc.pid


def _write_lock(folder, **info):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK).write_text(json.dumps({"host": socket.gethostname(), "since": "then",
                                           "command": "python -m harness.sweep x.yaml",
                                           "token": "t", **info}))


def test_second_sweep_exits_naming_the_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_lock(tmp_path, pid=holder.pid, pid_started=psutil.Process(holder.pid).create_time())
        with pytest.raises(LockHeldError, match=rf"in use by another sweep \(pid {holder.pid} on "
                                                rf"host {socket.gethostname()}.*--wait"):
            with study_lock(tmp_path):
                pass
        assert (tmp_path / LOCK).exists()  # not ours to remove
    finally:
        holder.kill()
        holder.wait()


def test_lock_is_released_after_the_sweep_even_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        with study_lock(tmp_path) as path:
            info = json.loads(path.read_text())
            assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
            raise RuntimeError("trial crashed the driver")
    assert not (tmp_path / LOCK).exists()


@pytest.mark.parametrize("how", ["dead_pid", "reused_pid", "unreadable"])
def test_stale_lock_is_taken_over_with_a_warning(tmp_path, how, caplog):
    if how == "dead_pid":
        _write_lock(tmp_path, pid=_dead_pid(), pid_started=1.0)
    elif how == "reused_pid":  # our pid, but recorded with another start time: a reused pid
        _write_lock(tmp_path, pid=os.getpid(), pid_started=12345.0)
    else:
        (tmp_path / LOCK).write_text("{half a lo")
    with caplog.at_level(logging.WARNING, logger="harness.lock"):
        with study_lock(tmp_path) as path:
            assert json.loads(path.read_text())["pid"] == os.getpid()
    assert "removed a stale lock" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_lock_on_another_host_is_not_guessed_stale(tmp_path):
    _write_lock(tmp_path, host="node-17.cluster", pid=_dead_pid())
    with pytest.raises(LockHeldError, match=rf"another host; if that sweep is gone, delete "
                                            rf"{tmp_path / LOCK}"):
        with study_lock(tmp_path):
            pass


def test_wait_takes_the_lock_when_the_holder_finishes(tmp_path):
    got = threading.Event()
    lines = []

    def holder():
        with study_lock(tmp_path):
            got.set()
            time.sleep(1.0)

    t = threading.Thread(target=holder)
    t.start()
    got.wait(10)
    # same pid (threads): the holder is alive, so this waits for the release
    with study_lock(tmp_path, wait=True, poll_s=0.1, notify=lines.append):
        assert not t.is_alive()
    t.join()
    assert lines and lines[0].startswith("waiting: ")


def test_leftovers_of_dead_writers_are_removed_and_nothing_else(tmp_path):
    dead = _dead_pid()
    results, art, ray_tmp = tmp_path / "results", tmp_path / "artifacts", tmp_path / "raytmp"
    (results / "trials" / "dpo-1").mkdir(parents=True)
    (art / "toyworld").mkdir(parents=True)
    ray_tmp.mkdir()
    gone = [
        results / "trials" / "dpo-1" / f".row.json.{owner_tag(dead)}k2j3.tmp",
        results / f".trials.parquet.{owner_tag(dead)}a1b2.parquet.tmp",
        art / "reference" / f".reference-x.parquet.{owner_tag(dead)}zz.parquet.tmp",
        art / "toyworld" / f".0123abcd.{owner_tag(dead)}q8w7",  # a half-built world
        ray_tmp / f"rpo{dead}-0",  # a killed sweep's local Ray folder
    ]
    kept = [
        results / f".samples.parquet.{owner_tag()}live.tmp",  # this (live) process's
        results / f".row.json.~{dead}~deadbeef~xx.tmp",  # written on another host
        results / ".old-style.tmp",  # no writer in the name
        art / "toyworld" / "0123abcd",  # a built world
        ray_tmp / f"rpo{os.getpid()}-0",
        ray_tmp / "rpo-k2j3h4g5",
    ]
    for p in gone + kept:
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.name.endswith(".tmp"):
            p.write_text("x")
        else:
            p.mkdir()
            (p / "inner").write_text("x")
    assert sorted(leftovers(results, art, ray_tmp)) == sorted(gone)
    assert sorted(remove_leftovers(results, art, ray_tmp)) == sorted(gone)
    assert not any(p.exists() for p in gone) and all(p.exists() for p in kept)
