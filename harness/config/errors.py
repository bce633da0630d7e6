"""Config errors: one :class:`ConfigError` listing every problem as ``key.path[i]: message``.

Pydantic's errors are restated with dotted key paths (``grid.learning_rate[2]``), the offending
value (``got -1``) and, for an unknown key, the nearest allowed one (``did you mean ...?``).
Validators of this package report their own problems as pydantic line errors
(:func:`line_error`), so everything wrong with a study comes back in one pass.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from typing import Any, Sequence

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from harness.errors import UserError
from harness.objectives import MISSING, format_value

class ConfigError(UserError, ValueError):
    """A study config that cannot run. ``errors`` holds ``(key_path, message)`` pairs."""

    def __init__(self, source: str, errors: Sequence[tuple[str, str]]):
        self.source = source
        self.errors = list(errors)
        head = f"{len(self.errors)} error(s) in {source}:" if len(self.errors) > 1 else f"error in {source}:"
        super().__init__("\n".join([head] + [f"  {p}: {m}" if p else f"  {m}" for p, m in self.errors]))


ERROR = "harness_config"  # a message with the offending value appended
ERROR_NO_VALUE = "harness_config_no_value"


def line_error(loc: Sequence, message: str, value: Any = MISSING) -> dict:
    """One pydantic line error with our own message (``{msg}`` keeps braces literal)."""
    kind = ERROR_NO_VALUE if value is MISSING else ERROR
    return {
        "type": PydanticCustomError(kind, "{msg}", {"msg": message}),
        "loc": tuple(loc),
        "input": None if value is MISSING else value,
    }


def raise_errors(title: str, lines: list[dict]) -> None:
    if lines:
        raise ValidationError.from_exception_data(title, lines)


def format_loc(loc: Sequence) -> str:
    """``("data", "train", "splits", 2)`` -> ``data.train.splits[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def suggest(key: Any, allowed: Sequence[str]) -> str:
    """`` (did you mean X?)`` for a near miss, else the list of allowed names."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    if close:
        return f" (did you mean {close[0]}?)"
    return f" (available: {', '.join(allowed)})" if allowed else ""


def _model_at(loc: Sequence, root: type[BaseModel] | None) -> type[BaseModel] | None:
    """The sub-model of ``root`` whose key is ``loc[-1]``, for listing allowed keys."""
    model = root
    for part in loc[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model = _first_model(model.model_fields[part].annotation)
    return model


def _first_model(annotation) -> type[BaseModel] | None:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def describe(error: dict, root: type[BaseModel] | None = None) -> tuple[str, str]:
    """One pydantic error dict -> ``(key.path[i], "message, got <value>")``."""
    loc, kind, msg = tuple(error["loc"]), error["type"], error["msg"]
    path = format_loc(loc)
    if kind == "missing":
        return path, "required key is missing"
    if kind == ERROR_NO_VALUE:
        return path, msg
    if kind == "extra_forbidden":
        model = _model_at(loc, root)
        msg = "unknown key" + (suggest(loc[-1], list(model.model_fields)) if model else "")
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return path, f"{msg}, got {format_value(error['input'])}"


def reprefix(error: ValidationError, prefix: Sequence, options: type[BaseModel]) -> list[dict]:
    """Restate a nested model's errors (an adapter's or judge's options) under ``prefix``."""
    lines = []
    for e in error.errors():
        loc = tuple(prefix) + tuple(e["loc"])
        if e["type"] == "missing":
            lines.append(line_error(loc, "required key is missing"))
        elif e["type"] == "extra_forbidden" and _model_at(e["loc"], options) is not None:
            allowed = list(_model_at(e["loc"], options).model_fields)
            hint = suggest(e["loc"][-1], allowed) if allowed else " (it takes no options)"
            lines.append(line_error(loc, "unknown key" + hint, e["input"]))
        else:
            lines.append(line_error(loc, e["msg"].removeprefix("Value error, "), e["input"]))
    return lines
