"""Checks and small helpers for what every judge receives.

``prompts[i]`` is a list of ``{"role", "content"}`` messages (roles system/user/assistant, the
last one a user turn; multi-turn allowed); a parquet round trip may hand it over as a numpy array
of dicts, which is accepted. ``responses[i]`` is the assistant reply, a string that may be empty:
an empty reply is a real model output and must get a score, never be dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

ROLES = ("system", "user", "assistant")


def _as_messages(i: int, prompt: Any) -> list[dict]:
    if not isinstance(prompt, (list, tuple, np.ndarray)) or len(prompt) == 0:
        raise ValueError(
            f"prompt {i} must be a non-empty list of {{'role', 'content'}} messages, "
            f"got {type(prompt).__name__}"
        )
    messages = []
    for j, msg in enumerate(prompt):
        if not isinstance(msg, Mapping) or not isinstance(msg.get("content"), str):
            raise ValueError(f"prompt {i} message {j} must be a mapping with a string 'content'")
        if msg.get("role") not in ROLES:
            raise ValueError(f"prompt {i} message {j} has role {msg.get('role')!r}; roles: {ROLES}")
        messages.append({"role": msg["role"], "content": msg["content"]})
    if messages[-1]["role"] != "user":
        raise ValueError(
            f"prompt {i} must end with a user message, ends with {messages[-1]['role']!r}"
        )
    return messages


def check_inputs(
    prompts: Sequence[Any], responses: Sequence[Any]
) -> tuple[list[list[dict]], list[str]]:
    """Validated copies of ``prompts`` (lists of dicts) and ``responses`` (strings).

    Raises ValueError naming the first bad index.
    """
    prompts, responses = list(prompts), list(responses)
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    for i, r in enumerate(responses):
        if not isinstance(r, str):
            raise ValueError(
                f"response {i} must be a string (empty is fine), got {type(r).__name__}"
            )
    return [_as_messages(i, p) for i, p in enumerate(prompts)], responses


def last_user_content(messages: list[dict]) -> str:
    return messages[-1]["content"]
