"""The toy world's SFT model: a tiny ``Phi3ForCausalLM`` trained from scratch with TRL's SFTTrainer.

Same architecture class as Phi-3 Medium (``Phi3ForCausalLM``, grouped-query attention, SwiGLU
MLP, RoPE), a few hundred thousand parameters, trained on behaviour-policy responses
(:mod:`harness.toyworld.data`) in TRL's conversational prompt-completion format, so the loss
covers only the reply tokens (``completion_only_loss``). Saved with ``save_pretrained``
(safetensors) together with its tokenizer, so ``AutoModelForCausalLM.from_pretrained(folder)``
and ``AutoTokenizer.from_pretrained(folder)`` load it offline.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from pathlib import Path

from transformers import TrainerCallback

from harness.toyworld.config import SFTConfig

log = logging.getLogger(__name__)


def _total_steps(n_rows: int, cfg: SFTConfig) -> int:
    return math.ceil(math.ceil(n_rows / cfg.batch_size) * cfg.epochs)


class _Progress(TrainerCallback):
    """Prints ``sft: step k/N  loss x  (t s)`` at each log (about every 10% of training)."""

    def on_train_begin(self, args, state, control, **kwargs):
        self.t0 = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            print(f"  sft: step {state.global_step}/{state.max_steps}  loss {float(logs['loss']):.3f}"
                  f"  ({time.perf_counter() - self.t0:.0f} s)", flush=True)


def phi3_config(cfg: SFTConfig, tokenizer):
    from transformers import Phi3Config

    return Phi3Config(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        num_key_value_heads=cfg.num_key_value_heads,
        max_position_embeddings=cfg.max_position_embeddings,
        original_max_position_embeddings=cfg.max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=[tokenizer.convert_tokens_to_ids("<|end|>"), tokenizer.eos_token_id],
        tie_word_embeddings=False,
        use_cache=True,
    )


def train_sft(cfg: SFTConfig, tokenizer, sft_rows: list[dict], out_dir: str | Path) -> dict:
    """Train the SFT model on ``sft_rows`` (prompt/completion messages) and save it to out_dir.

    Returns training statistics (final loss, steps, parameter count, seconds).
    """
    import torch
    from datasets import Dataset, disable_progress_bars
    from transformers import GenerationConfig, Phi3ForCausalLM
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig as TRLSFTConfig
    from trl import SFTTrainer

    disable_progress_bars()  # datasets' per-map bars; the build prints its own progress
    torch.manual_seed(cfg.seed)
    model = Phi3ForCausalLM(phi3_config(cfg, tokenizer))
    n_params = sum(p.numel() for p in model.parameters())
    stop_ids = [tokenizer.convert_tokens_to_ids("<|end|>"), tokenizer.eos_token_id]
    model.generation_config = GenerationConfig(
        eos_token_id=stop_ids, pad_token_id=tokenizer.pad_token_id, do_sample=True
    )

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="toy-sft-") as tmp:
        args = TRLSFTConfig(
            output_dir=tmp,
            num_train_epochs=cfg.epochs,
            learning_rate=cfg.learning_rate,
            lr_scheduler_type="cosine",
            warmup_steps=0.05,
            per_device_train_batch_size=cfg.batch_size,
            max_length=cfg.max_length,
            completion_only_loss=True,
            activation_checkpointing=False,
            seed=cfg.seed,
            data_seed=cfg.seed,
            use_cpu=not torch.cuda.is_available(),
            bf16=False,
            report_to="none",
            save_strategy="no",
            logging_steps=max(1, _total_steps(len(sft_rows), cfg) // 10),
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(sft_rows),
            processing_class=tokenizer,
        )
        # disable_tqdm makes Trainer print every log dict; print one short line per ~10% instead.
        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(_Progress())
        result = trainer.train()
    seconds = time.perf_counter() - t0

    out_dir = Path(out_dir)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
    return {
        "train_loss": float(result.training_loss),
        "steps": int(result.global_step),
        "n_parameters": int(n_params),
        "seconds": round(seconds, 2),
        "threads": torch.get_num_threads(),
        "pid": os.getpid(),
    }
