"""One trainer for every method: TRL's DPOTrainer with the loss from the objective registry.

:class:`PreferenceTrainer` subclasses ``trl.DPOTrainer`` at its loss hook (``_compute_loss``,
what ``compute_loss`` calls) and at its reference-precompute hook. So tokenization (chat
template, prompt/completion split), batching, truncation, the optimizer and the scheduler are
TRL's and identical across methods; only the objective differs
(:mod:`harness.objectives`). The reference model never enters a trial: methods that need it
read the reference log-probs of every pair from the shared cache (:mod:`harness.reference`).

The trained policy is kept in memory and returned for the trial's evaluation (saving a 14B
policy per trial would cost more disk and time than the evaluation); ``save_model=True``
saves it to the output folder as well.

A non-finite loss or gradient stops training with status ``diverged`` and the step at which it
happened; the caller always gets a :class:`TrainResult`, never an exception from divergence.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.objectives import SHARED_AXES, get_objective
from harness.schema import STATUS_DIVERGED, STATUS_OK

log = logging.getLogger(__name__)

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


class Diverged(RuntimeError):
    def __init__(self, step: int, what: str):
        super().__init__(f"non-finite {what} at step {step}")
        self.step = step
        self.what = what


@dataclass
class TrainResult:
    status: str  # ok | diverged
    model: Any  # the trained policy (in memory), or None if diverged
    metrics: dict = field(default_factory=dict)  # train_loss, reward_accuracy, reward_margin, ...
    timings: dict = field(default_factory=dict)  # time_train_s, peak_rss_mb
    diverged_step: int | None = None
    error: str | None = None


def to_trl_rows(pairs: pd.DataFrame) -> list[dict]:
    """Train pairs -> TRL's conversational preference format (``pair_id`` kept for lookups)."""
    return [
        {
            "pair_id": str(r.pair_id),
            "prompt": [dict(m) for m in r.prompt],
            "chosen": [{"role": "assistant", "content": r.chosen}],
            "rejected": [{"role": "assistant", "content": r.rejected}],
        }
        for r in pairs.itertuples(index=False)
    ]


def trl_fields(hparams: dict) -> dict:
    """The DPOConfig fields a trial's shared axes set (each axis's ``trl_field``), e.g.
    ``{"learning_rate": 1e-4, "num_train_epochs": 2}``."""
    return {axis.trl_field: hparams[name] for name, axis in SHARED_AXES.items()
            if axis.trl_field and name in hparams}


def _trl_args(training, *, output_dir, seed, dtype, fields: dict | None = None,
              tensorboard=False, overrides: dict | None = None):
    """DPOConfig from the study's ``training`` section; identical for every method.

    ``fields`` are the trial's own DPOConfig fields (:func:`trl_fields`: learning rate, epochs).
    DPOConfig's loss settings (its temperature and ``loss_type``) are left at TRL's defaults:
    only TRL's own loss reads them, and :class:`~harness.preference_trainer.PreferenceTrainer` replaces that loss with the
    objective's. ``overrides`` replace or add DPOConfig fields (the distributed launch passes
    FSDP or DeepSpeed settings and mixed precision: :mod:`harness.distributed`)."""
    import torch
    from trl import DPOConfig

    cuda = torch.cuda.is_available()
    bf16 = cuda and dtype in ("auto", "bfloat16")
    kwargs = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=training.batch_size,
        per_device_eval_batch_size=training.batch_size,
        gradient_accumulation_steps=training.gradient_accumulation_steps,
        max_length=training.max_length,
        truncation_mode=training.truncation_mode,
        warmup_steps=training.warmup_ratio,  # a float < 1 is a share of the steps
        lr_scheduler_type=training.lr_scheduler_type,
        # transformers 5 renamed gradient checkpointing; the YAML keeps the familiar name
        activation_checkpointing=training.gradient_checkpointing,
        logging_steps=training.logging_steps,
        seed=seed,
        data_seed=seed,
        precompute_ref_log_probs=True,  # never load a reference model; our hook supplies them
        bf16=bf16,
        use_cpu=not cuda,
        # TensorBoard event files land in <output_dir>/runs/ (transformers' default).
        report_to=["tensorboard"] if tensorboard else "none",
        save_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataset_num_proc=None,
    )
    kwargs.update(fields or {})
    kwargs.update(overrides or {})
    return DPOConfig(**kwargs)


def _make_trainer(model, tokenizer, rows, args, objective, hparams, reference, peft_config=None):
    """A PreferenceTrainer (imported lazily: TRL takes seconds to import); ``peft_config``:
    TRL wraps the model in LoRA adapters (:mod:`harness.lora`)."""
    from datasets import Dataset, disable_progress_bars

    from harness.preference_trainer import PreferenceTrainer

    disable_progress_bars()
    return PreferenceTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        objective=objective,
        hparams=hparams,
        reference=reference,
        peft_config=peft_config,
    )


def train_policy(
    *,
    method: str,
    hparams: dict,
    seed: int,
    training,
    policy_path: str,
    train_pairs: pd.DataFrame,
    heldout_pairs: pd.DataFrame | None = None,
    reference: dict | None = None,
    output_dir: str | Path,
    dtype: str = "auto",
    save_model: bool = False,
    tensorboard: bool = True,
    trl_overrides: dict | None = None,
    device: str | None = None,
    callbacks=(),
    trust_remote_code: bool = False,
) -> TrainResult:
    """Train one policy from the SFT model at ``policy_path`` with objective ``method``.

    ``hparams`` are the trial's axis values, the method's own and the shared ones (raw or
    resolved: :meth:`~harness.objectives.Objective.resolve` checks them again); ``reference``
    maps ``pair_id -> (ref_chosen_logp, ref_rejected_logp)`` and is required by methods whose
    objective needs a reference. ``training`` is the study's ``training`` section.
    ``trl_overrides`` go to DPOConfig as they are; ``device`` is where the policy is loaded
    (default: cuda if present, else cpu; ``cpu`` for FSDP/DeepSpeed, which place the shards).
    ``callbacks`` are added to the trainer (tracking: :mod:`harness.tracking`). With
    ``training.peft`` the policy trains LoRA adapters and the returned model is the peft model.
    In a distributed run every worker calls this; only the main process writes files.
    ``trust_remote_code`` (``policy.trust_remote_code``) is passed to the policy's loaders.
    """
    from transformers.trainer_callback import PrinterCallback

    from harness.lora import load_dtype, lora_config
    from harness.models import load_causal_lm, load_tokenizer, peak_memory_mb, resolve_dtype
    from harness.preference_trainer import pair_statistics

    objective = get_objective(method)
    hparams = objective.resolve(hparams)
    if objective.needs_reference and reference is None:
        raise ValueError(f"{method} needs the reference log-probs cache (reference=None given)")

    t0 = time.perf_counter()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    # The config first: with DeepSpeed ZeRO-3 it must exist when the model is loaded.
    args = _trl_args(
        training, output_dir=output_dir, seed=seed, dtype=dtype, fields=trl_fields(hparams),
        tensorboard=tensorboard, overrides=trl_overrides,
    )
    tokenizer = load_tokenizer(policy_path, trust_remote_code=trust_remote_code)
    # Mixed precision: float32 master weights, bf16 autocast. Weights loaded in bf16 would
    # round away updates at learning rates ~1e-6 (bf16 keeps ~3 significant digits). A frozen
    # LoRA base needs no master copy (harness.lora.load_dtype).
    peft = getattr(training, "peft", None)
    model = load_causal_lm(policy_path, dtype=load_dtype(peft, args.bf16, dtype), device=device,
                           trust_remote_code=trust_remote_code)
    model.train()
    trainer = _make_trainer(model, tokenizer, to_trl_rows(train_pairs), args, objective, hparams,
                            reference, peft_config=lora_config(peft) if peft else None)
    trainer.remove_callback(PrinterCallback)
    for callback in callbacks:
        trainer.add_callback(callback)
    if peft:
        model = trainer.model  # the peft model TRL built around the base

    status, model_out, diverged_step, error = STATUS_OK, model, None, None
    try:
        trainer.train()
    except Diverged as e:
        status, model_out, diverged_step, error = STATUS_DIVERGED, None, e.step, str(e)
        log.warning("trial diverged: %s", e)
    time_train = time.perf_counter() - t0

    metrics: dict = {"train_loss": trainer.last_train_loss, "diverged_step": diverged_step}
    if status == STATUS_OK and heldout_pairs is not None and len(heldout_pairs):
        stats = pair_statistics(trainer, to_trl_rows(heldout_pairs))
        metrics["reward_accuracy"] = stats["reward_accuracy"]
        metrics["reward_margin"] = stats["reward_margin"]
    if status == STATUS_OK:
        model_out.eval()
        eval_dtype = resolve_dtype(dtype)
        if args.bf16 and str(eval_dtype) != "torch.float32":
            model_out.to(eval_dtype)  # evaluate in the study's dtype, as the SFT baseline was
        if save_model:
            trainer.save_model(str(output_dir / "policy"))  # collective under FSDP/DeepSpeed
            if trainer.args.should_save:  # main process only
                tokenizer.save_pretrained(str(output_dir / "policy"))
    return TrainResult(
        status=status,
        model=model_out,
        metrics=metrics,
        timings={"time_train_s": time_train, "peak_rss_mb": peak_memory_mb()},
        diverged_step=diverged_step,
        error=error,
    )
