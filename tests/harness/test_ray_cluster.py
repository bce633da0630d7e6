"""A real two-node Ray cluster on this machine (issue 10, "What must hold" 7).

``ray start --head --num-cpus 1`` and ``ray start --address 127.0.0.1:<port> --num-cpus 1`` (a
second raylet with its own resources), a tiny study run on it with ``--address``: both nodes
run trials and the results equal a local run's. Both nodes are stopped at the end, also when
the test fails (each ``ray start --block`` runs in its own session, which is ended whole).
Slow (~2-3 min on 2 cores): ``make test-all`` runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from sweep_helpers import SweepProcess, results_of, tables, tiny_study

from harness.sweep import main

RAY = str(Path(sys.executable).parent / "ray")
METRICS = ["mean_score", "win_vs_chosen", "win_vs_sft", "mean_kl", "kl_per_token",
           "mean_length", "train_loss", "reward_accuracy", "reward_margin"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _end_session(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL, to every process of the session ``proc`` leads (ours only)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        members = []
        for p in psutil.process_iter(["pid"]):
            try:
                if os.getsid(p.pid) == proc.pid:
                    members.append(p)
            except (ProcessLookupError, PermissionError, psutil.Error):
                continue
        for p in members:
            try:
                p.send_signal(sig)
            except psutil.Error:
                pass
        psutil.wait_procs(members, timeout=15)
    if proc.poll() is None:
        proc.wait(timeout=15)


def _alive_nodes(address: str) -> int:
    code = ("import ray; ray.init(address=%r, log_to_driver=False); "
            "print(sum(n['Alive'] for n in ray.nodes()))" % address)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "RAY_AUTH_MODE": "disabled"})
    return int(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else 0


def _node_ids(results: Path) -> set[str]:
    ids = set()
    for path in (results / "tune").rglob("result.json"):
        for line in path.read_text().splitlines():
            if line.strip():
                ids.add(json.loads(line).get("node_id"))
    return ids - {None}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_two_node_cluster_runs_trials_on_both_nodes_with_local_results(
        tmp_path, tiny_world, tiny_world_config):
    grid = {"simpo": {"beta": [2.0, 2.5, 3.0, 3.5], "gamma_beta_ratio": [0.5]}}
    local = tiny_study(tmp_path, tiny_world, tiny_world_config, file="local", methods=grid,
                       ray={"max_concurrent": 2})
    on_cluster = tiny_study(tmp_path, tiny_world, tiny_world_config, file="cluster",
                            methods=grid, ray={"max_concurrent": 2})
    port = _free_port()
    address = f"127.0.0.1:{port}"
    ray_root = Path(os.environ["PO_HARNESS_RAY_TMP"])  # short, and checked for leftovers
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    nodes = []
    try:
        nodes.append(subprocess.Popen(
            [RAY, "start", "--head", "--num-cpus", "1", "--port", str(port), "--block",
             "--include-dashboard", "false", "--disable-usage-stats",
             "--temp-dir", str(ray_root / "h")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env))
        deadline = time.time() + 180
        while _alive_nodes(address) < 1:
            assert time.time() < deadline and nodes[0].poll() is None, "the head did not start"
            time.sleep(2)
        nodes.append(subprocess.Popen(
            [RAY, "start", "--address", address, "--num-cpus", "1", "--block",
             "--disable-usage-stats", "--temp-dir", str(ray_root / "w")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env))
        while _alive_nodes(address) < 2:
            assert time.time() < deadline and nodes[1].poll() is None, "the worker did not join"
            time.sleep(2)

        sweep = SweepProcess([on_cluster, "--address", address], tmp_path / "cluster")
        assert sweep.wait(timeout=900) == 0, sweep.stderr
    finally:
        for node in reversed(nodes):
            _end_session(node)
        for sub in ("h", "w"):
            shutil.rmtree(ray_root / sub, ignore_errors=True)
    assert len(_node_ids(results_of(on_cluster))) == 2  # both nodes ran trials

    assert main([str(local)]) == 0  # the same study on a local Ray
    (lt, ls), (ct, cs) = tables(results_of(local)), tables(results_of(on_cluster))
    assert list(lt["trial_id"]) == list(ct["trial_id"]) and (ct["status"] == "ok").all()
    np.testing.assert_allclose(ct[METRICS].to_numpy(float), lt[METRICS].to_numpy(float),
                               rtol=1e-5, atol=1e-6)
    key = ["trial_id", "prompt_id"]
    pd.testing.assert_frame_equal(cs.sort_values(key).reset_index(drop=True)[["response", "length"]],
                                  ls.sort_values(key).reset_index(drop=True)[["response", "length"]])
