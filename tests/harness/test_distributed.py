"""harness.distributed without launching anything: what a trial asks Ray for, the Ray Train
scaling, the FSDP / DeepSpeed / DDP settings handed to TRL, and how worker errors become rows.
The real launch (2 gloo workers on CPU) is tests/harness/e2e/test_distributed_launch.py."""

from __future__ import annotations

import pickle

import pytest

from harness import distributed
from harness.config.sections import ResourcesConfig, TrainingConfig


def test_one_process_trial_asks_for_its_resources():
    r = ResourcesConfig(cpus_per_trial=2, gpus_per_trial=1)
    assert distributed.trial_resources(r) == {"cpu": 2, "gpu": 1}


def test_multi_worker_trial_driver_asks_for_almost_nothing():
    """The workers hold the resources; a driver holding a whole CPU would starve them on a
    small machine (a TorchTrainer nested in a Tune trial deadlocks on 2 cores otherwise)."""
    r = ResourcesConfig(cpus_per_trial=8, gpus_per_trial=1, workers_per_trial=8, distributed="fsdp")
    assert distributed.trial_resources(r) == {"cpu": distributed.DRIVER_CPUS, "gpu": 0}
    assert distributed.DRIVER_CPUS < 0.1


def test_scaling_config_is_per_worker():
    gpu = distributed.scaling_config(
        ResourcesConfig(cpus_per_trial=8, gpus_per_trial=1, workers_per_trial=8, distributed="fsdp"))
    assert gpu.num_workers == 8 and gpu.use_gpu
    assert gpu.resources_per_worker == {"CPU": 8, "GPU": 1}
    cpu = distributed.scaling_config(ResourcesConfig(cpus_per_trial=0.5, workers_per_trial=2))
    assert cpu.num_workers == 2 and not cpu.use_gpu
    assert cpu.resources_per_worker == {"CPU": 0.5}


def test_fsdp_settings():
    s = distributed.fsdp(TrainingConfig(gradient_checkpointing=True), "bfloat16", cuda=True)
    o = s.trl_overrides
    assert o["fsdp"] is True and o["bf16"] is True
    assert o["fsdp_config"]["version"] == 2
    assert o["fsdp_config"]["state_dict_type"] == "FULL_STATE_DICT"  # rank 0 reloads it
    # FSDP's own activation checkpointing instead of the Trainer's (a redundant all-gather)
    assert o["fsdp_config"]["activation_checkpointing"] is True and o["gradient_checkpointing"] is False
    assert s.save_policy and s.device == "cpu"
    # no GPU: no bf16 (TRL's bf16 raises on CPU)
    assert distributed.fsdp(TrainingConfig(), "bfloat16", cuda=False).trl_overrides["bf16"] is False


def test_zero3_settings():
    s = distributed.deepspeed_zero3(TrainingConfig(), "bfloat16", cuda=True)
    ds = s.trl_overrides["deepspeed"]
    assert ds["zero_optimization"]["stage"] == 3
    assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    assert ds["train_micro_batch_size_per_gpu"] == "auto"  # filled from DPOConfig
    assert s.device == "as_loaded" and s.save_policy


def test_ddp_keeps_fp32_master_weights_under_bf16():
    """bf16 keeps 8 significant bits: a weight of 0.02 (in [2**-6, 2**-5)) moves in steps of
    2**-6 * 2**-7 ~ 1.2e-4, so an Adam update of ~lr = 5e-7 rounds to nothing on pure-bf16
    weights, and not on float32 ones."""
    import torch

    for dtype, moves in ((torch.bfloat16, False), (torch.float32, True)):
        w = torch.tensor(0.02, dtype=dtype)
        assert bool(w + torch.tensor(5e-7, dtype=dtype) != w) is moves
    s = distributed.ddp(TrainingConfig(), "bfloat16", cuda=True)
    assert s.load_dtype == "float32" and s.trl_overrides == {"bf16": True}
    assert distributed.ddp(TrainingConfig(), "float32", cuda=False) == distributed.Strategy("float32", None)


def test_the_configurable_strategies_are_the_registered_ones():
    from pydantic import ValidationError

    assert distributed.STRATEGIES.names() == ("none", "fsdp", "deepspeed_zero3")
    for name in ("none", "fsdp"):
        assert ResourcesConfig(distributed=name).distributed == name
    with pytest.raises(ValidationError, match="unknown distributed strategy"):
        ResourcesConfig(distributed="zero2")


def test_worker_divergence_survives_pickling_and_maps_to_its_step():
    err = pickle.loads(pickle.dumps(distributed.WorkerDiverged.at(7, "non-finite loss at step 7")))
    assert isinstance(err, distributed.WorkerDiverged)
    from ray.train import WorkerGroupError

    group = WorkerGroupError("rank 1 failed", {0: RuntimeError("peer gone"), 1: err})
    messages = distributed._worker_errors(group)
    assert messages == ["RuntimeError: peer gone",
                        "WorkerDiverged: diverged at step 7: non-finite loss at step 7"]
    assert distributed._diverged_step(messages) == (True, 7)
    assert distributed._diverged_step(["RuntimeError: out of memory"]) == (False, None)
    assert distributed._worker_errors(ValueError("no workers")) == ["ValueError: no workers"]
