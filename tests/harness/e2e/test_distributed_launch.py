"""The multi-worker trial path for real, on CPU: ``resources.workers_per_trial: 2`` makes each
Tune trial drive a Ray Train TorchTrainer with 2 gloo workers (half a CPU each) that train the
tiny Phi-3 together, rank 0 evaluating; through ``harness.sweep.main`` with the tiny
saferlhf study. ``none`` is DDP. ``fsdp`` passes the FSDP settings through DPOConfig and goes
through the save-and-reload of the full policy that a sharded 14B model needs; accelerate turns
FSDP on only for accelerators (its state leaves ``MULTI_CPU`` runs unsharded), so on this CPU
machine the sharding itself is not exercised. FSDP sharding, DeepSpeed and NCCL need GPUs:
untested here (docs/real-study.md).

Each launch takes ~40-60 s on 2 shared cores (Ray Train starts a controller and two worker
processes per trial), hence ``slow``.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from harness.config import load_study
from harness.grid import expand
from harness.schema import STATUS_FAILED, STATUS_OK
from harness.sweep import main

pytestmark = pytest.mark.slow

# accelerate's distributed type on CPU workers; on GPUs "fsdp" gives FSDP (untested here)
EXPECTED_TYPE = {"none": "MULTI_CPU", "fsdp": "MULTI_CPU"}


@pytest.mark.parametrize("strategy", ["none", "fsdp"])
def test_two_worker_trial_trains_together_and_rank0_evaluates(write_study, strategy):
    methods = {"dpo": {"beta": [0.1]}}
    if strategy == "fsdp":  # and a second trial that fails inside a worker
        methods["simpo"] = {"beta": [2.0], "gamma_beta_ratio": [0.5]}
    path = write_study(
        f"dist-{strategy}", methods=methods,
        resources={"cpus_per_trial": 0.5, "workers_per_trial": 2, "distributed": strategy},
        ray={"max_concurrent": 1, "reuse_actors": False},
    )
    specs = expand(load_study(path))
    failing = [s.trial_id for s in specs if s.method == "simpo"]
    os.environ["PO_HARNESS_FAIL_TRIALS"] = ",".join(failing)
    try:
        assert main([str(path)]) == 0
    finally:
        del os.environ["PO_HARNESS_FAIL_TRIALS"]

    results = path.parent / f"dist-{strategy}" / "saferlhf"
    trials = pd.read_parquet(results / "trials.parquet").set_index("method")
    samples = pd.read_parquet(results / "samples.parquet")
    ok = trials.loc["dpo"]
    assert ok["status"] == STATUS_OK, ok["error"]
    # both workers trained (accelerate saw a world of 2, wrapped as the strategy says) ...
    assert ok["workers"] == 2 and ok["distributed_type"] == EXPECTED_TYPE[strategy]
    # ... the policy moved, and rank 0 evaluated every eval prompt
    assert abs(ok["mean_kl"]) > 1e-4 and pd.notna(ok["mean_score"])
    assert len(samples[samples["trial_id"] == ok["trial_id"]]) == 3
    folder = results / "trials" / ok["trial_id"]
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["row.json", "samples.parquet"]
    assert not (folder / "policy").exists()  # the saved full policy is removed after evaluation
    assert any((results / "tune" / "train").iterdir())  # Ray Train's own run folder
    if strategy == "fsdp":
        bad = trials.loc["simpo"]
        assert bad["status"] == STATUS_FAILED
        assert bad["error"] == f"RuntimeError: forced failure of trial {failing[0]} (PO_HARNESS_FAIL_TRIALS)"
