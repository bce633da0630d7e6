"""Registry of gold judges by name.

A judge scores assistant replies to chat prompts with a gold reward: the metric every trained
model is measured by (docs/evaluation.md, "Metrics"). The study YAML names a judge and its options in one
mapping, the options being everything but ``name``::

    judge: {name: oasst, model: OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5, batch_size: 16}

``options`` is a pydantic model with ``extra="forbid"``, so a misspelt key is an error naming it.
``refs`` lists the Hub ids a judge needs, so a study can check them all offline before any work
starts (:func:`harness.hub.check_available`).

Shapes: ``Judge.score(prompts, responses)`` takes N prompts (each a list of ``{"role",
"content"}`` messages, the last a user turn) and N replies (strings, possibly empty) and returns
a float64 array of shape (N,): one score per reply, an empty reply included.

A judge may also offer ``breakdown(prompts, responses) -> {component: float64 array (N,)}``:
its score split into named components that sum to the score reply by reply (the toy judge's
content, padding, repeats, ...). The evaluation stage then records each component as a
``judge_<component>`` column of the samples table (:func:`judge_columns`); judges without it
(a reward model's score has no parts) write no such columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from harness.hub import HubRef
from harness.registry import Registry
from harness.schema import JUDGE_COLUMN_PREFIX


@runtime_checkable
class Judge(Protocol):
    name: str

    def score(self, prompts: Sequence[list[dict]], responses: Sequence[str]) -> np.ndarray:
        """Scores of ``responses[i]`` as the reply to ``prompts[i]``: float64, shape (N,)."""
        ...


def judge_columns(judge, prompts, responses) -> dict[str, np.ndarray]:
    """``{"judge_<component>": scores}`` from the judge's optional ``breakdown`` ({} without
    one), in the judge's component order."""
    breakdown = getattr(judge, "breakdown", None)
    if breakdown is None:
        return {}
    n = len(responses)
    out = {}
    for name, values in breakdown(prompts, responses).items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (n,):
            raise ValueError(f"judge {judge.name!r}: breakdown component {name!r} has shape "
                             f"{values.shape}, expected ({n},)")
        out[JUDGE_COLUMN_PREFIX + name] = values
    return out


@dataclass(frozen=True)
class JudgeSpec:
    name: str
    options: type[BaseModel]
    build: Callable[[BaseModel], Judge]
    refs: Callable[[BaseModel], list[HubRef]] = lambda options: []
    doc: str = field(default="", compare=False)


JUDGES: Registry[JudgeSpec] = Registry("judge")
"""Judges by name: the allowed values of ``judge.name``."""


def register(spec: JudgeSpec) -> JudgeSpec:
    return JUDGES.register(spec.name, spec)


def get_judge_spec(name: str) -> JudgeSpec:
    return JUDGES.get(name)


def parse_judge(spec: Mapping[str, Any]) -> tuple[JudgeSpec, BaseModel]:
    """Split a YAML ``judge:`` mapping into its registered spec and validated options."""
    if not isinstance(spec, Mapping):
        raise TypeError(f"judge must be a mapping with a 'name' key, got {type(spec).__name__}")
    if "name" not in spec:
        raise ValueError(
            f"judge mapping has no 'name' key (keys: {sorted(spec)}); "
            f"available judges: {', '.join(JUDGES.names())}"
        )
    judge_spec = get_judge_spec(spec["name"])
    options = judge_spec.options.model_validate({k: v for k, v in spec.items() if k != "name"})
    return judge_spec, options


def build_judge(spec: Mapping[str, Any]) -> Judge:
    """Build the judge a YAML ``judge:`` mapping names, e.g. ``{"name": "toy"}``."""
    judge_spec, options = parse_judge(spec)
    return judge_spec.build(options)


def judge_refs(spec: Mapping[str, Any]) -> list[HubRef]:
    """The Hub ids the judge a ``judge:`` mapping names needs (for an offline pre-check)."""
    judge_spec, options = parse_judge(spec)
    return judge_spec.refs(options)
