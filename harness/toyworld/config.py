"""Configuration of the toy world and its SFT model (the ``toyworld:`` section of a study YAML).

The toy world is a simulation (docs/toyworld.md): a small synthetic safety/helpfulness world in
which a full study runs on two CPU cores in minutes through the real code paths. Every field
here enters the cache key of the built world and SFT model.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from harness.io import hash_json

# Bump when the world's generator, judge or SFT recipe changes meaning, so old caches miss.
TOYWORLD_VERSION = 2


class WorldConfig(BaseModel):
    """Sizes, train/eval shift, padding and annotators of the synthetic preference data
    (docs/toyworld.md lists what each field turns up or down).

    The simulated annotator prefers response a over b with probability
    ``sigmoid((gold(a) - gold(b)) / annotator_temperature
              + length_bias * (pad(a) - pad(b)) / length_scale)``
    with ``pad`` the reply's padding in words: ``annotator_temperature`` is the label noise,
    ``length_bias`` the annotators' taste for padding that the gold judge does not share.
    ``padding`` is the mean number of padding sentences per behaviour-policy reply (0-3).
    """

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    n_train_prompts: int = Field(1500, ge=4)
    n_eval_prompts: int = Field(500, ge=4)
    train_harmful_share: float = Field(0.6, ge=0.0, le=1.0)
    eval_harmful_share: float = Field(0.4, ge=0.0, le=1.0)
    annotator_temperature: float = Field(1.0, gt=0.0)
    length_bias: float = Field(1.0, ge=0.0)
    length_scale: float = Field(10.0, gt=0.0)
    padding: float = Field(1.0, ge=0.0, le=3.0)
    sft_responses_per_prompt: int = Field(3, ge=1)


class SFTConfig(BaseModel):
    """A tiny ``Phi3ForCausalLM`` trained from scratch with TRL's SFTTrainer: the SFT strength.

    A longer-trained model moves less per preference-optimization step: at the default 10
    epochs the stability edge of one-epoch DPO/LN-DPO/SimPO training lies near a learning rate
    of 3e-4 (5 epochs: ~1.5e-4; docs/toyworld.md)."""

    model_config = ConfigDict(extra="forbid")

    hidden_size: int = Field(128, ge=8)
    num_hidden_layers: int = Field(2, ge=1)
    num_attention_heads: int = Field(4, ge=1)
    num_key_value_heads: int = Field(2, ge=1)
    intermediate_size: int = Field(256, ge=8)
    max_position_embeddings: int = Field(256, ge=32)
    epochs: float = Field(10.0, gt=0.0)
    learning_rate: float = Field(3e-3, gt=0.0)
    batch_size: int = Field(32, ge=1)
    max_length: int = Field(128, ge=16)
    seed: int = 0


class ToyWorldConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    world: WorldConfig = Field(default_factory=WorldConfig)
    sft: SFTConfig = Field(default_factory=SFTConfig)

    def world_key(self) -> str:
        return hash_json({"v": TOYWORLD_VERSION, "world": self.world.model_dump()})

    def key(self) -> str:
        """Cache key of the built world + SFT model."""
        return hash_json(
            {"v": TOYWORLD_VERSION, "world": self.world.model_dump(), "sft": self.sft.model_dump()}
        )
