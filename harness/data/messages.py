"""Chat prompts: a list of ``{"role", "content"}`` messages whose last one is a user turn.

Sources give prompts as a plain string (one user message) or as a list of messages (TRL's
conversational format, ``datasets`` list-of-struct columns, numpy arrays after a parquet round
trip). :func:`as_messages` turns the recognisable shapes into a list of dicts and leaves anything
else untouched, so that :func:`message_problem` can say exactly what is wrong with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

ROLES = ("system", "user", "assistant")


def is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA: a cell with no value."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in {"NAType", "NaTType"}


def type_name(value: Any) -> str:
    return type(value).__name__


def as_messages(value: Any) -> Any:
    """A string -> one user message; a sequence of mappings -> a list of dicts; else unchanged."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [dict(m) if isinstance(m, Mapping) else m for m in value]
    return value


def as_response(value: Any) -> Any:
    """A reply as a string. TRL's conversational format gives ``[{"role": "assistant", ...}]``."""
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) == 1:
        (msg,) = value
        if isinstance(msg, Mapping) and msg.get("role") == "assistant":
            return msg.get("content")
    return value


def message_problem(prompt: Any) -> tuple[str, str] | None:
    """``(reason, detail)`` for the first thing wrong with a prompt, or None when it is valid."""
    if is_missing(prompt):
        return "missing_value", "prompt is missing"
    if not isinstance(prompt, list):
        return "wrong_type", f"prompt is {type_name(prompt)}, expected a string or a message list"
    if not prompt:
        return "empty_string", "prompt has no messages"
    for i, msg in enumerate(prompt):
        if not isinstance(msg, Mapping):
            return "bad_message", f"prompt message {i} is {type_name(msg)}, expected a mapping"
        extra = sorted(k for k, v in msg.items() if k not in ("role", "content") and v is not None)
        if "role" not in msg or "content" not in msg or extra:
            detail = f"prompt message {i} has keys {sorted(msg)}, expected role, content"
            return "bad_message", detail
        if msg["role"] not in ROLES:
            return "bad_message", f"prompt message {i} has role {msg['role']!r}; roles: {ROLES}"
        content = msg["content"]
        if not isinstance(content, str):
            return "bad_message", f"prompt message {i} content is {type_name(content)}"
        if not content.strip():
            return "empty_string", f"prompt message {i} ({msg['role']}) is empty"
    if prompt[-1]["role"] != "user":
        return "prompt_not_ending_in_user", f"last prompt message is {prompt[-1]['role']!r}"
    return None


def response_problem(column: str, value: Any) -> tuple[str, str] | None:
    if is_missing(value):
        return "missing_value", f"{column} is missing"
    if not isinstance(value, str):
        return "wrong_type", f"{column} is {type_name(value)} ({value!r:.40}), expected a string"
    if not value.strip():
        return "empty_string", f"{column} is empty"
    return None
