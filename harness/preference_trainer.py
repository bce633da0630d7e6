"""``PreferenceTrainer``: TRL's DPOTrainer with the harness's objective registry as its loss.

Hooks overridden (and nothing else):

* ``_compute_loss`` (what ``DPOTrainer.compute_loss`` calls): one forward pass of the policy
  over the ``[chosen; rejected]`` batch TRL builds, summed completion log-probs and completion
  lengths per sequence, the cached reference log-probs when the method needs them and the
  chosen replies' NLL when it needs that (computed once per batch, only then), all in one
  :class:`harness.objectives.PreferenceBatch` for the objective's loss. A non-finite loss raises
  :class:`harness.train.Diverged`. TRL's own loss (and so DPOConfig's loss settings,
  its temperature and ``loss_type``) is never used.
* ``_precompute_ref_logps``: instead of running the model over the dataset (TRL's per-trial
  precompute), attach the shared cache's reference log-probs by ``pair_id``. With
  ``precompute_ref_log_probs=True`` TRL never loads a reference model.

A ``ref_model`` may still be passed to compute the reference on the fly (the slow path the
shared cache replaces; used by tests and the benchmark to compare). ``objective=None`` gives a
trainer used only for its tokenization and log-prob pass (the reference cache's build).
"""

from __future__ import annotations

import collections
import contextlib
import math

import torch
from transformers import TrainerCallback
from trl import DPOTrainer
from trl.trainer import dpo_trainer as _trl_dpo

from harness.objectives import PreferenceBatch, chosen_nll
from harness.train import Diverged

_NON_MODEL_KEYS = {"completion_mask", "ref_chosen_logps", "ref_rejected_logps"}


@contextlib.contextmanager
def _no_trl_weight_hash():
    """DPOTrainer hashes every weight (on CPU) to key its own ref-logp cache: minutes for a
    14B model, per trial. The harness keys its cache by content hash already, so skip it."""
    original = _trl_dpo.hash_module
    _trl_dpo.hash_module = lambda module: "po-harness-shared-reference-cache"
    try:
        yield
    finally:
        _trl_dpo.hash_module = original


class _FiniteGradients(TrainerCallback):
    """Stop with Diverged when a gradient is NaN/inf, before the optimizer applies it."""

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        # One device sync per step (not one per parameter tensor, hundreds on a 14B model).
        checks = [torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None]
        if checks and not bool(torch.stack(checks).all()):
            raise Diverged(state.global_step, "gradient")


class PreferenceTrainer(DPOTrainer):
    def __init__(self, *args, objective, hparams: dict, reference: dict | None = None, **kwargs):
        # Set before super().__init__, which calls _precompute_ref_logps.
        self.objective = objective
        # What the loss takes, checked once (shared axes such as learning_rate may be in hparams).
        self.hparams = objective.loss_kwargs(hparams) if objective is not None else {}
        self.reference = reference
        self._recent_losses: collections.deque = collections.deque(maxlen=1)
        with _no_trl_weight_hash():
            super().__init__(*args, **kwargs)
        self._recent_losses = collections.deque(
            maxlen=self.args.logging_steps * self.args.gradient_accumulation_steps
        )
        self.add_callback(_FiniteGradients())

    @property
    def last_train_loss(self) -> float:
        """Mean training loss over the last ``logging_steps`` optimizer steps."""
        if not self._recent_losses:
            return math.nan
        return float(sum(self._recent_losses) / len(self._recent_losses))

    # -- reference log-probs ------------------------------------------------------------------
    def _precompute_ref_logps(self, dataset, name, batch_size):
        if self.reference is None or self.objective is None or not self.objective.needs_reference:
            return dataset
        ids = dataset["pair_id"]
        missing = [i for i in ids if i not in self.reference]
        if missing:
            raise KeyError(
                f"{len(missing)} {name} pairs have no cached reference log-probs "
                f"(first: {missing[0]!r}); the cache was built for other data"
            )
        dataset = dataset.add_column("ref_chosen_logps", [float(self.reference[i][0]) for i in ids])
        return dataset.add_column("ref_rejected_logps", [float(self.reference[i][1]) for i in ids])

    # -- loss ---------------------------------------------------------------------------------
    def sequence_logps(self, model, inputs):
        """Summed completion log-probs and completion lengths, each split (chosen, rejected)."""
        model_kwargs = {k: v for k, v in inputs.items() if k not in _NON_MODEL_KEYS}
        model_kwargs["use_cache"] = False
        completion_mask = inputs["completion_mask"]
        shift_mask = completion_mask[..., 1:]
        labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)
        outputs = model(**model_kwargs, labels=labels, fused_lm_head=True)
        # TRL's fused head gives 0 at ignored (-100) positions, so a plain sum is the
        # completion log-prob.
        per_token = outputs.log_probs[:, -shift_mask.size(1):]
        logps = per_token.sum(dim=1)
        lengths = shift_mask.sum(dim=1).to(logps.dtype)
        return logps.chunk(2, dim=0), lengths.chunk(2, dim=0)

    def reference_logps(self, inputs):
        if "ref_chosen_logps" in inputs:
            return inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        if self.ref_model is not None:
            with torch.no_grad():
                (c, r), _ = self.sequence_logps(self.ref_model, inputs)
            return c, r
        return None, None

    def preference_batch(self, model, inputs) -> PreferenceBatch:
        """What the objective sees of ``inputs`` under ``model`` (see the module docstring)."""
        (chosen, rejected), (len_c, len_r) = self.sequence_logps(model, inputs)
        ref_c, ref_r = self.reference_logps(inputs) if self.objective.needs_reference else (None, None)
        if ref_c is not None:
            ref_c, ref_r = ref_c.to(chosen.device, chosen.dtype), ref_r.to(chosen.device, chosen.dtype)
        nll = chosen_nll(chosen, len_c) if self.objective.needs_chosen_nll else None
        return PreferenceBatch(chosen, rejected, len_c, len_r, ref_c, ref_r, nll)

    def objective_outputs(self, model, inputs):
        return self.objective.compute(self.preference_batch(model, inputs), self.hparams)

    def _compute_loss(self, model, inputs, return_outputs):
        mode = "train" if self.model.training else "eval"
        out = self.objective_outputs(model, inputs)
        loss = out.losses.mean()
        if not torch.isfinite(loss):
            raise Diverged(self.state.global_step, "loss")
        if mode == "train":
            self._recent_losses.append(loss.item())
        gather = self.accelerator.gather_for_metrics
        m = self._metrics[mode]
        m["rewards/chosen"].append(gather(out.chosen_rewards.detach()).mean().item())
        m["rewards/rejected"].append(gather(out.rejected_rewards.detach()).mean().item())
        m["rewards/margins"].append(gather(out.margins.detach()).mean().item())
        m["rewards/accuracies"].append(gather((out.margins > 0).float()).mean().item())
        return (loss, None) if return_outputs else loss


_BATCH_COLUMNS = ("prompt_ids", "chosen_ids", "rejected_ids", "ref_chosen_logps", "ref_rejected_logps")


def _prepared(trainer: PreferenceTrainer, rows: list[dict], name: str, with_reference: bool):
    """``rows`` tokenized exactly as the trainer's train set (TRL's own ``_prepare_dataset``)."""
    from datasets import Dataset

    ds = trainer._prepare_dataset(Dataset.from_list(rows), trainer.processing_class, trainer.args, name)
    if with_reference:
        ds = trainer._precompute_ref_logps(ds, name, trainer.args.per_device_eval_batch_size)
    return ds


def _batches(trainer: PreferenceTrainer, ds):
    from torch.utils.data import DataLoader

    ds = ds.select_columns([c for c in ds.column_names if c in _BATCH_COLUMNS])
    device = trainer.accelerator.device
    loader = DataLoader(ds, batch_size=trainer.args.per_device_eval_batch_size,
                        collate_fn=trainer.data_collator, shuffle=False)
    for batch in loader:
        yield {k: v.to(device) for k, v in batch.items()}


@contextlib.contextmanager
def _eval_mode(trainer: PreferenceTrainer):
    """The trainer's model in eval mode, under the trainer's own autocast (bf16 mixed precision
    on a GPU), so statistics and the reference see exactly the numerics of training."""
    model = trainer.model
    was_training = model.training
    model.eval()
    try:
        with trainer.accelerator.autocast():
            yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def pair_statistics(trainer: PreferenceTrainer, rows: list[dict], name: str = "heldout") -> dict:
    """Objective loss, implicit-reward accuracy (share of pairs with margin > 0) and mean margin
    of the trainer's current policy on ``rows`` (TRL conversational preference rows)."""
    losses, margins = [], []
    with _eval_mode(trainer) as model:
        for batch in _batches(trainer, _prepared(trainer, rows, name, with_reference=True)):
            out = trainer.objective_outputs(model, batch)
            losses.append(out.losses.float().cpu())
            margins.append(out.margins.float().cpu())
    m = torch.cat(margins)
    return {
        "loss": float(torch.cat(losses).mean()),
        "reward_accuracy": float((m > 0).float().mean()),
        "reward_margin": float(m.mean()),
    }


@torch.no_grad()
def sequence_logps_table(trainer: PreferenceTrainer, rows: list[dict], name: str = "reference"):
    """``pair_id -> (chosen_logp, rejected_logp)`` under the trainer's model, tokenized exactly as
    in training. Built with the SFT model, this is the shared reference cache."""
    ds = _prepared(trainer, rows, name, with_reference=False)
    ids = list(ds["pair_id"])
    chosen, rejected = [], []
    with _eval_mode(trainer) as model:
        for batch in _batches(trainer, ds):
            (c, r), _ = trainer.sequence_logps(model, batch)
            chosen += c.float().cpu().tolist()
            rejected += r.float().cpu().tolist()
    return {i: (a, b) for i, a, b in zip(ids, chosen, rejected)}
