"""Options shared by the model-based judges (the YAML ``judge:`` mapping minus ``name``).

Kept free of torch and transformers so that validating a study config stays cheap.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from harness.hub import HubRef

DType = Literal["auto", "float32", "bfloat16", "float16"]


class ModelJudgeOptions(BaseModel):
    """``model`` is a local path or a Hub id; ``max_length: null`` means the model's own limit
    (the smaller of the tokenizer's ``model_max_length`` and ``max_position_embeddings``);
    ``device: auto`` means cuda when available, else cpu; ``dtype: float32`` keeps CPU scores
    exact, ``bfloat16`` is the usual choice on a GPU."""

    model_config = ConfigDict(extra="forbid")

    model: str
    revision: str | None = None
    batch_size: PositiveInt = 16
    max_length: PositiveInt | None = None
    dtype: DType = "float32"
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")

    def hub_refs(self) -> list[HubRef]:
        return [HubRef(self.model, "model", self.revision)]
