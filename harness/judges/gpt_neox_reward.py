"""Open-Assistant's ``GPTNeoXRewardModel``, written for transformers 5.x.

The OpenAssistant pythia reward models (e.g. ``OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5``)
declare ``architectures: ["GPTNeoXRewardModel"]``, ``model_type: "gpt_neox_reward_model"`` and
``pooling``; the class lives in Open-Assistant's ``model_training`` package
(``model_training/models/reward_model.py``), not in transformers. Copied verbatim it fails on
transformers 5 (it never calls ``post_init()``, and ``GPTNeoXModel.forward`` lost ``head_mask``);
relabelling the checkpoint ``gpt_neox`` loads a random score head without an error. This is the
same model, same weight names (``gpt_neox.*`` body, ``out_proj.{weight,bias}`` head):

    h = GPTNeoXModel(input_ids, attention_mask).last_hidden_state        # (B, T, H)
    pooled = h[b, last non-pad position of row b]   (pooling "last")     # (B, H)
           = sum_t h[b, t] m[b, t] / sum_t m[b, t]  (pooling "mean")
    logits = out_proj(pooled)                                            # (B, 1)
    score = logits[:, 0]

The last non-pad position is ``argmax_t cumsum_t(mask)`` (upstream's formula): under right
padding the cumsum plateaus after the last real token and argmax returns the first maximum;
under left padding the cumsum rises to the final position. Position ids are derived from the
mask (``cumsum - 1``), so a row's real tokens get positions 0.. whichever side it is padded on.

Importing this module registers the config with ``AutoConfig`` and the model with
``AutoModelForSequenceClassification``, as upstream does.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForSequenceClassification, GPTNeoXConfig
from transformers.modeling_outputs import SequenceClassifierOutputWithPast
from transformers.models.gpt_neox.modeling_gpt_neox import GPTNeoXModel, GPTNeoXPreTrainedModel

POOLINGS = ("mean", "last")


class GPTNeoXRewardModelConfig(GPTNeoXConfig):
    model_type = "gpt_neox_reward_model"

    pooling: str | None = "last"

    def __post_init__(self, **kwargs):
        self.pooling = self.pooling or "last"  # upstream: `pooling or "last"`
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        super().__post_init__(**kwargs)


class GPTNeoXRewardModel(GPTNeoXPreTrainedModel):
    config_class = GPTNeoXRewardModelConfig
    # Buffers that checkpoints saved by older transformers contain and this version recomputes.
    _keys_to_ignore_on_load_unexpected = [
        r"attention\.bias$",
        r"attention\.masked_bias$",
        r"rotary_emb\.inv_freq$",
    ]

    def __init__(self, config: GPTNeoXRewardModelConfig):
        if type(config) is GPTNeoXConfig:  # upstream accepts a plain GPT-NeoX config too
            config = GPTNeoXRewardModelConfig.from_dict(config.to_dict())
        super().__init__(config)
        self.gpt_neox = GPTNeoXModel(config)
        self.out_proj = nn.Linear(config.hidden_size, 1)
        self.pooling = config.pooling
        self.post_init()

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutputWithPast:
        if position_ids is None and attention_mask is not None:
            position_ids = (attention_mask.long().cumsum(dim=1) - 1).clamp(min=0)
        hidden = self.gpt_neox(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            use_cache=False if use_cache is None else use_cache,
            **kwargs,
        ).last_hidden_state
        if self.pooling == "mean":
            if attention_mask is None:
                pooled = hidden.mean(dim=1)
            else:
                m = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(dim=1) / m.sum(dim=1)
        elif attention_mask is None:
            pooled = hidden[:, -1]
        else:
            last = attention_mask.long().cumsum(dim=1).argmax(dim=1)
            pooled = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
        return SequenceClassifierOutputWithPast(logits=self.out_proj(pooled))


AutoConfig.register(GPTNeoXRewardModelConfig.model_type, GPTNeoXRewardModelConfig, exist_ok=True)
AutoModelForSequenceClassification.register(
    GPTNeoXRewardModelConfig, GPTNeoXRewardModel, exist_ok=True
)
