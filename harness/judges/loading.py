"""Shared loading rules for model-based judges: device, dtype, and loud weight checks.

A reward model whose score head is missing from the checkpoint still loads in transformers: the
head is initialised at random and only a log line says so, and every score is then noise. Judges
load with ``output_loading_info=True`` and :func:`check_loading_info` turns such a report into an
error naming the keys.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from harness.errors import UserError

log = logging.getLogger(__name__)

# Keys: harness.judges.options.DType.
DTYPES: dict[str, Any] = {
    "auto": "auto",  # whatever the checkpoint's config says
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}


class JudgeLoadError(UserError, RuntimeError):
    """A judge's model or tokenizer cannot be used as loaded."""


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> cuda when available, else cpu; anything else as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def check_loading_info(
    info: dict, model_name: str, *, allow_unexpected: bool = False
) -> None:
    """Raise :class:`JudgeLoadError` when weights were missing, mismatched or (unless allowed)
    unexpected. ``info`` is what ``from_pretrained(..., output_loading_info=True)`` returns."""
    missing = sorted(map(str, info.get("missing_keys") or ()))
    mismatched = sorted(map(str, info.get("mismatched_keys") or ()))
    unexpected = sorted(map(str, info.get("unexpected_keys") or ()))
    problems = []
    if missing:
        problems.append(
            f"missing from the checkpoint (they would be random): {', '.join(missing)}"
        )
    if mismatched:
        problems.append(f"shape mismatch: {', '.join(mismatched)}")
    if unexpected and not allow_unexpected:
        problems.append(f"in the checkpoint but unused by the model: {', '.join(unexpected)}")
    elif unexpected:
        log.warning("%s: checkpoint weights not used by the model: %s", model_name, unexpected)
    if problems:
        raise JudgeLoadError(
            f"reward model {model_name} did not load cleanly; weights "
            + "; ".join(problems)
            + ". Is this really a reward model checkpoint of the expected architecture?"
        )


def default_max_length(tokenizer: Any, config: Any) -> int | None:
    """The model's own input limit: min(tokenizer.model_max_length, max_position_embeddings),
    ignoring the huge placeholder a tokenizer reports when it has no limit; None if neither."""
    limits = []
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
        limits.append(tok_max)
    pos_max = getattr(config, "max_position_embeddings", None)
    if isinstance(pos_max, int) and pos_max > 0:
        limits.append(pos_max)
    return min(limits) if limits else None
