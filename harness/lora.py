"""LoRA adapters through ``peft`` and TRL's own PEFT support (``training.peft``).

With ``training.peft: {r, alpha, dropout, target_modules}`` the trainer gets
``peft_config=peft.LoraConfig(...)`` (:func:`lora_config`) and wraps the SFT model itself
(``get_peft_model``): only the adapters train, the base weights stay the SFT model's.

- **Reference.** DPO and LN-DPO read the shared reference cache, computed once from the SFT
  model (:mod:`harness.reference`); with LoRA that model is exactly the base with its adapters
  disabled (LoRA's B matrices start at zero and the base never changes), so the cache is the
  reference TRL itself would compute with ``disable_adapter()``. The KL and the SFT baseline use
  the SFT model as before.
- **Precision.** Full fine-tunes on a GPU keep float32 master weights under bf16 autocast; a
  LoRA base is frozen, so it is loaded in the study's dtype (bf16 on a GPU) and only the
  adapters are float32 (peft's ``autocast_adapter_dtype``) (:func:`load_dtype`).
- **Saving.** A kept LoRA policy is its adapter (``adapter_model.safetensors`` +
  ``adapter_config.json``, naming the base folder), loadable with
  ``peft.AutoPeftModelForCausalLM.from_pretrained`` or ``PeftModel.from_pretrained(base, ...)``.
- **vLLM.** The backend loads the base folder and applies the adapter per request
  (:class:`harness.generate.VLLMBackend`).
- **Cost.** :func:`trainable_parameters` counts the adapter weights for the cost model
  (:mod:`harness.cost`).
"""

from __future__ import annotations

from typing import Any

# The linear layers of the decoder blocks of common causal LMs, with their (in, out) shapes in
# terms of h = hidden, i = intermediate, kv = key/value width. ``all-linear`` (peft's own
# shorthand) adapts every one of them and not the output head.
LINEAR_SHAPES = {
    "q_proj": ("h", "h"), "k_proj": ("h", "kv"), "v_proj": ("h", "kv"), "o_proj": ("h", "h"),
    "gate_proj": ("h", "i"), "up_proj": ("h", "i"), "down_proj": ("i", "h"),
    "qkv_proj": ("h", "h+2kv"), "gate_up_proj": ("h", "2i"),  # Phi-3's fused layers
}
FUSED = {"qkv_proj", "gate_up_proj"}  # Phi-3 naming; other families split them


def lora_config(settings) -> Any:
    """``peft.LoraConfig`` of the ``training.peft`` section (a causal-LM task)."""
    from peft import LoraConfig

    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=settings.target_modules,
        task_type="CAUSAL_LM",
    )


def load_dtype(settings, bf16: bool, dtype: str) -> str:
    """The dtype to load the policy in: float32 master weights for a bf16 full fine-tune, the
    study's dtype for a frozen LoRA base."""
    if bf16 and settings is None:
        return "float32"
    return dtype


def is_peft_model(model: Any) -> bool:
    try:
        from peft import PeftModel
    except ImportError:  # peft is a base requirement; a bare environment has no LoRA policy
        return False
    return isinstance(model, PeftModel)


def adapter_rank(model: Any) -> int:
    """The (largest) LoRA rank of a peft model's active adapter."""
    config = model.peft_config[model.active_adapter]
    ranks = [config.r, *getattr(config, "rank_pattern", {}).values()]
    return int(max(ranks))


def base_model_path(model: Any) -> str:
    """The folder (or Hub id) the peft model's base was loaded from."""
    return str(model.peft_config[model.active_adapter].base_model_name_or_path)


def trainable_parameters(shape: dict, settings) -> float:
    """LoRA parameters of a decoder: ``r (in + out)`` per adapted linear layer per block.

    ``shape``: ``hidden_size``, ``intermediate_size``, ``num_hidden_layers``,
    ``num_attention_heads``, ``num_key_value_heads`` (config.json names). ``all-linear`` counts
    the split layers (q, k, v, o, gate, up, down), which hold the same weights as Phi-3's fused
    ones; names outside :data:`LINEAR_SHAPES` are not counted (an estimate, said so in
    docs/cost.md).
    """
    h, i = shape["hidden_size"], shape["intermediate_size"]
    heads = shape["num_attention_heads"]
    kv = h * shape.get("num_key_value_heads", heads) // heads
    size = {"h": h, "i": i, "kv": kv, "h+2kv": h + 2 * kv, "2i": 2 * i}
    names = settings.target_modules
    if names == "all-linear":
        names = [n for n in LINEAR_SHAPES if n not in FUSED]
    per_block = sum(settings.r * (size[a] + size[b])
                    for a, b in (LINEAR_SHAPES[n] for n in names if n in LINEAR_SHAPES))
    return float(per_block * shape["num_hidden_layers"])
