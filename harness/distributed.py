"""Several workers per trial: a Ray Train ``TorchTrainer`` inside the Ray Tune trial.

A 14B full fine-tune does not fit on one GPU (~16 bytes/parameter in mixed precision). With
``resources.workers_per_trial: N > 1`` the Tune trial (:func:`harness.sweep.po_trial`) becomes
a driver that launches ``TorchTrainer(ScalingConfig(num_workers=N, use_gpu=gpus > 0,
resources_per_worker={"CPU": cpus_per_trial, "GPU": gpus_per_trial}))`` (so ``cpus_per_trial``
and ``gpus_per_trial`` are *per worker*) and waits for it:

1. every worker calls :func:`harness.train.train_policy` with the trial's arguments
   (:func:`harness.trial.train_arguments`). Ray Train has set ``RANK``/``WORLD_SIZE``/
   ``LOCAL_RANK``/``MASTER_ADDR`` and initialised the process group (NCCL on GPUs, gloo on CPU),
   the CUDA device is the worker's own; the HF Trainer (through accelerate) picks all of it up,
   wraps the model (DDP, FSDP or DeepSpeed ZeRO-3 per ``resources.distributed``: the
   :data:`STRATEGIES` registry) and shards the data with a DistributedSampler. The effective
   batch is ``batch_size x gradient_accumulation_steps x N``.
2. rank 0 evaluates the trained policy (generation, judge, KL: :func:`harness.trial.
   evaluate_trained`) and stages the row and samples in the trial folder; the other ranks return.
   Under FSDP/ZeRO-3 the weights are sharded, so the trainer first saves the full policy
   (a collective) to ``<trial>/policy`` and rank 0 reloads it for evaluation, then deletes it.
3. the driver reads the staged files and returns ``(row, samples)`` like
   :func:`harness.trial.run_trial`; :func:`harness.sweep.po_trial` records them.

A trial's failure stays a result: an exception on any worker ends the whole worker group
(Ray Train) and becomes status ``failed`` with the worker's message; a divergence detected on
any rank is raised as :class:`WorkerDiverged` (ending the group, so no rank waits forever in a
collective) and becomes status ``diverged`` with its step.

Traps of Ray 2.60: Train V2 is on by default, so ``ray.train.report`` inside a Tune function
trial fails and a ``ray.train.RunConfig`` given to a Tuner crashes; the driver therefore uses
``ray.train.RunConfig`` for the TorchTrainer only, never for the Tuner, and the workers never
call ``tune.report``. A TorchTrainer nested in a Tune trial deadlocks on a 2-core machine unless
the trial's driver asks for a fraction of a CPU, so it asks for almost none
(:func:`trial_resources`) and cannot starve its own workers; ``storage_path`` is absolute (the results folder,
which must be shared storage on a cluster).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from harness.io import write_json_atomic, write_parquet_atomic
from harness.registry import Registry
from harness.schema import STATUS_DIVERGED, STATUS_FAILED, STATUS_OK

log = logging.getLogger(__name__)

DRIVER_CPUS = 0.01  # the Tune trial only waits for its TorchTrainer
STAGED_ROW = "distributed-row.json"
STAGED_SAMPLES = "distributed-samples.parquet"
POLICY_DIR = "policy"


class WorkerDiverged(RuntimeError):
    """Raised by a worker whose training diverged, so Ray Train ends every worker. One message
    argument, so it pickles back from the worker like any exception."""

    PREFIX = "diverged at step"

    @classmethod
    def at(cls, step: int | None, error: str | None) -> "WorkerDiverged":
        return cls(f"{cls.PREFIX} {step}: {error}")


# ----------------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class Strategy:
    """How the workers hold the model: DPOConfig fields, and how each worker loads it."""

    load_dtype: str  # passed to train_policy(dtype=...)
    device: str | None  # train_policy(device=...): None (cuda/cpu), "cpu" or "as_loaded"
    trl_overrides: dict = field(default_factory=dict)
    save_policy: bool = False  # sharded weights: save the full policy for rank 0 to reload


def _bf16(policy_dtype: str, cuda: bool) -> bool:
    return cuda and policy_dtype in ("auto", "bfloat16")


def ddp(training, policy_dtype: str, cuda: bool) -> Strategy:
    """``none``: plain DDP, every worker holds the whole model. With bf16 on a GPU the weights
    stay float32 (the master copy) and bf16 is autocast: pure-bf16 weights would round away
    updates of lr ~1e-6 (bf16 keeps ~3 significant digits)."""
    if _bf16(policy_dtype, cuda):
        return Strategy("float32", None, {"bf16": True})
    return Strategy(policy_dtype, None)


def fsdp(training, policy_dtype: str, cuda: bool) -> Strategy:
    """FSDP2 through accelerate: parameters, gradients and optimizer state sharded over the
    workers (ZeRO-3-like), fp32 master shards with bf16 compute (accelerate upcasts), FSDP's own
    activation checkpointing in place of ``gradient_checkpointing``, Phi-3 decoder layers as the
    wrap unit (from the model's ``_no_split_modules``), a full state dict on save. Accelerate
    enables FSDP on accelerators only: on CPU workers (gloo) the same run is plain DDP."""
    bf16 = _bf16(policy_dtype, cuda)
    fsdp_config = {
        "version": 2,
        "reshard_after_forward": True,
        "activation_checkpointing": bool(training.gradient_checkpointing),
        "state_dict_type": "FULL_STATE_DICT",
        "cpu_ram_efficient_loading": False,
    }
    overrides = {"fsdp": True, "fsdp_config": fsdp_config, "gradient_checkpointing": False,
                 "bf16": bf16}
    return Strategy(policy_dtype, "cpu", overrides, save_policy=True)


def zero3_config() -> dict:
    """DeepSpeed ZeRO-3 config; ``"auto"`` values are filled from DPOConfig by transformers.
    bf16 keeps fp32 master weights in the optimizer; the 16-bit weights are gathered on save."""
    return {
        "bf16": {"enabled": "auto"},
        "zero_optimization": {
            "stage": 3,
            "overlap_comm": True,
            "contiguous_gradients": True,
            "reduce_bucket_size": "auto",
            "stage3_prefetch_bucket_size": "auto",
            "stage3_param_persistence_threshold": "auto",
            "stage3_gather_16bit_weights_on_model_save": True,
        },
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
    }


def deepspeed_zero3(training, policy_dtype: str, cuda: bool) -> Strategy:
    """DeepSpeed ZeRO-3 (needs ``pip install deepspeed`` and GPUs). DPOConfig is built before
    the model is loaded, so from_pretrained partitions the weights as it reads them; they stay
    where it put them (``as_loaded``)."""
    overrides = {"deepspeed": zero3_config(), "bf16": _bf16(policy_dtype, cuda)}
    return Strategy(policy_dtype, "as_loaded", overrides, save_policy=True)


STRATEGIES: Registry[Callable[..., Strategy]] = Registry("distributed strategy")
"""``(training, policy_dtype, cuda) -> Strategy`` by name: the values of ``resources.distributed``."""
STRATEGIES.register("none", ddp)
STRATEGIES.register("fsdp", fsdp)
STRATEGIES.register("deepspeed_zero3", deepspeed_zero3)


# ----------------------------------------------------------------------------- resources


def is_distributed(resources) -> bool:
    return resources.workers_per_trial > 1


def trial_resources(resources) -> dict:
    """What the Tune trial itself asks Ray for: the whole trial when it runs in one process,
    almost nothing when it only drives a TorchTrainer whose workers ask for their own."""
    if is_distributed(resources):
        return {"cpu": DRIVER_CPUS, "gpu": 0}
    return {"cpu": resources.cpus_per_trial, "gpu": resources.gpus_per_trial}


def scaling_config(resources):
    """Ray Train's ScalingConfig for one trial: ``workers_per_trial`` workers, each with
    ``cpus_per_trial`` CPUs and ``gpus_per_trial`` GPUs."""
    from ray.train import ScalingConfig

    per_worker = {"CPU": resources.cpus_per_trial}
    if resources.gpus_per_trial > 0:
        per_worker["GPU"] = resources.gpus_per_trial
    return ScalingConfig(num_workers=resources.workers_per_trial,
                         use_gpu=resources.gpus_per_trial > 0, resources_per_worker=per_worker)


# ----------------------------------------------------------------------------- the workers


def _worker_loop(config: dict) -> None:
    """Ray Train's ``train_loop_per_worker``: train on every rank, evaluate on rank 0."""
    import ray.train
    import torch

    from harness.artifacts import PreparedStudy
    from harness.config.sections import TrainingConfig
    from harness.plugins import load_plugin_sources

    load_plugin_sources(config.get("plugins", ()))  # before the registries are read
    from harness.objectives import get_objective
    from harness.train import train_policy
    from harness.trial import evaluate_trained, train_arguments

    ctx = ray.train.get_context()
    rank = ctx.get_world_rank()
    spec, dtype, out_dir = config["spec"], config["dtype"], Path(config["out_dir"])
    prepared = PreparedStudy.from_any(config["prepared"])
    training = TrainingConfig.model_validate(config["training"])
    if config.get("force_fail"):
        raise RuntimeError(f"forced failure of trial {spec['trial_id']} (PO_HARNESS_FAIL_TRIALS)")
    strategy = STRATEGIES[config["distributed"]](training, dtype, torch.cuda.is_available())
    if config["distributed"] == "deepspeed_zero3":
        _require("deepspeed", "resources.distributed: deepspeed_zero3")

    kwargs = train_arguments(spec, prepared, training, strategy.load_dtype, out_dir,
                             get_objective(spec["method"]))
    from harness.outputs import TrialOutputs

    extra = TrialOutputs(config.get("outputs"), spec, main_process=rank == 0)  # issue 12 hook
    result = train_policy(**kwargs, save_model=strategy.save_policy, device=strategy.device,
                          **extra.train_kwargs(strategy.trl_overrides))
    if result.status != STATUS_OK:
        raise WorkerDiverged.at(result.diverged_step, result.error)
    row = {**spec, "status": STATUS_OK, "error": None, **result.metrics, **result.timings,
           **launch_facts()}
    model = result.model
    del result
    if rank != 0:
        return
    if strategy.save_policy:  # sharded while training: evaluate the full, saved policy
        from harness.models import load_causal_lm

        del model
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        model = load_causal_lm(str(out_dir / POLICY_DIR), dtype=dtype,
                               trust_remote_code=prepared.trust_remote_code)
    row, samples = evaluate_trained(row, model, spec, prepared, dtype)
    from harness.models import load_tokenizer

    row = extra.finish(row, model, load_tokenizer(prepared.policy,
                                                    trust_remote_code=prepared.trust_remote_code))
    write_parquet_atomic(out_dir / STAGED_SAMPLES, samples)
    write_json_atomic(out_dir / STAGED_ROW, row)  # last: its presence means "done"
    if strategy.save_policy:
        shutil.rmtree(out_dir / POLICY_DIR, ignore_errors=True)  # 28-56 GB per 14B trial


def launch_facts() -> dict:
    """How this worker trained, as accelerate saw it (extra columns of the trial's row):
    ``workers`` (world size) and ``distributed_type`` (``MULTI_GPU``/``MULTI_CPU`` for DDP,
    ``FSDP``, ``DEEPSPEED``)."""
    from accelerate.state import AcceleratorState

    state = AcceleratorState()  # the trainer's (a singleton), set up by now
    return {"workers": state.num_processes,
            "distributed_type": str(state.distributed_type).split(".")[-1]}


def _require(module: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise RuntimeError(f"{what} needs the {module!r} package on every worker: pip install {module}")


# ----------------------------------------------------------------------------- the driver


def _worker_errors(error: BaseException) -> list[str]:
    """The workers' own messages inside Ray Train's error (a WorkerGroupError names each rank's)."""
    failures = getattr(error, "worker_failures", None) or {}
    return [f"{type(e).__name__}: {e}" for _, e in sorted(failures.items())] or [
        f"{type(error).__name__}: {error}"
    ]


def _diverged_step(messages: list[str]) -> tuple[bool, int | None]:
    for m in messages:
        match = re.search(rf"{WorkerDiverged.PREFIX} (\d+|None)", m)
        if match:
            step = match.group(1)
            return True, None if step == "None" else int(step)
    return False, None


def _manifest(prepared) -> dict:
    """The manifest's contents for the workers (a path is read once, here)."""
    from harness.artifacts import PreparedStudy

    return PreparedStudy.from_any(prepared).to_dict()


def run_distributed_trial(spec: dict, prepared_file: str | Path, training, dtype: str,
                          out_dir: str | Path, resources, storage: str | Path,
                          force_fail: bool = False,
                          plugins=(), outputs: dict | None = None
                          ) -> tuple[dict, pd.DataFrame | None]:
    """Run the trial ``spec`` on ``resources.workers_per_trial`` Ray Train workers.

    Must be called where Ray is initialised (inside a Tune trial). Never raises for the trial's
    own failure: returns ``(row, samples or None)`` like :func:`harness.trial.run_trial`.
    ``storage`` is Ray Train's (absolute) storage folder; ``force_fail`` is the test hook of
    :data:`harness.trial.FAIL_ENV`, raised inside a worker; ``plugins`` are the study's plugin
    modules (:func:`harness.plugins.plugin_sources`), imported by every worker first.
    ``outputs``: tracking and policy-keeping settings (:mod:`harness.outputs`), applied on
    rank 0.
    """
    from ray.train import FailureConfig, RunConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (STAGED_ROW, STAGED_SAMPLES):  # left by an earlier, interrupted attempt
        (out_dir / name).unlink(missing_ok=True)
    row: dict = {**spec, "status": STATUS_OK, "error": None}
    samples = None
    config = {
        "spec": spec, "prepared": _manifest(prepared_file), "dtype": dtype, "out_dir": str(out_dir),
        "training": training.model_dump(mode="json"), "distributed": resources.distributed,
        "force_fail": force_fail, "plugins": [list(p) for p in plugins], "outputs": outputs,
    }
    trainer = TorchTrainer(
        _worker_loop,
        train_loop_config=config,
        scaling_config=scaling_config(resources),
        torch_config=TorchConfig(backend="nccl" if resources.gpus_per_trial > 0 else "gloo"),
        run_config=RunConfig(
            name=f"{spec['trial_id']}-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str(Path(storage).resolve()),
            failure_config=FailureConfig(max_failures=0),
        ),
    )
    try:
        trainer.fit()
        if not (out_dir / STAGED_ROW).exists():
            raise RuntimeError("the workers finished without rank 0 recording a result")
        row = json.loads((out_dir / STAGED_ROW).read_text())
        if (out_dir / STAGED_SAMPLES).exists():
            samples = pd.read_parquet(out_dir / STAGED_SAMPLES)
    except Exception as e:  # a trial's failure is a result, not a crash of the sweep
        messages = _worker_errors(e)
        diverged, step = _diverged_step(messages)
        if diverged:
            row.update(status=STATUS_DIVERGED, error=messages[0], diverged_step=step)
            log.warning("trial %s diverged: %s", spec["trial_id"], messages[0])
        else:
            log.error("trial %s failed: %s", spec["trial_id"], messages[0])
            row.update(status=STATUS_FAILED, error=messages[0], traceback=traceback.format_exc())
        samples = None
    finally:
        for name in (STAGED_ROW, STAGED_SAMPLES):
            (out_dir / name).unlink(missing_ok=True)
    row["time_total_s"] = time.perf_counter() - t0
    return row, samples


def run_trial_on(resources: dict, spec: dict, prepared_file: str | Path, training, dtype: str,
                 out_dir: str | Path, storage: str | Path,
                 plugins=(), outputs: dict | None = None) -> tuple[dict, pd.DataFrame | None]:
    """One trial in this process (:func:`harness.trial.run_trial`) or, when
    ``workers_per_trial > 1``, on a TorchTrainer (:func:`run_distributed_trial`). ``plugins``
    (:func:`harness.plugins.plugin_sources`) are imported here, and by every worker, before the
    trial's method is looked up."""
    from harness.plugins import load_plugin_sources

    load_plugin_sources(plugins)
    from harness.artifacts import PreparedStudy
    from harness.config.sections import ResourcesConfig
    from harness.trial import FAIL_ENV, run_trial

    r = ResourcesConfig.model_validate(resources)
    if not is_distributed(r):
        return run_trial(spec, PreparedStudy.from_any(prepared_file), training, dtype, out_dir,
                         outputs=outputs)
    force_fail = spec["trial_id"] in os.environ.get(FAIL_ENV, "").split(",")
    return run_distributed_trial(spec, prepared_file, training, dtype, out_dir, r, storage,
                                 force_fail=force_fail, plugins=plugins, outputs=outputs)
