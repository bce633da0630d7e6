"""Registry of data adapters by name.

An adapter turns a source (the toy world, PKU-SafeRLHF, HH-RLHF, your own files) into the
harness's tables (see :mod:`harness.schema`): train pairs ``pair_id, prompt, chosen, rejected``
or eval prompts ``prompt_id, prompt, chosen[, rejected]``, with ``prompt`` a list of chat
messages. The study YAML names an adapter and its options in one mapping::

    data:
      train: {adapter: saferlhf, path: PKU-Alignment/PKU-SafeRLHF, revision: v0, split: train}
      eval:  {adapter: hh_rlhf, path: Anthropic/hh-rlhf, data_dir: harmless-base, split: test}

``options`` is a pydantic model (``extra="forbid"``) so a misspelt key is an error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

import pandas as pd
from pydantic import BaseModel

Kind = Literal["train", "eval"]


@dataclass(frozen=True)
class Adapter:
    name: str
    options: type[BaseModel]
    load: Callable[[BaseModel, Kind], pd.DataFrame]
    kinds: tuple[Kind, ...] = ("train", "eval")
    doc: str = field(default="", compare=False)


ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    if adapter.name in ADAPTERS:
        raise ValueError(f"data adapter {adapter.name!r} is already registered")
    ADAPTERS[adapter.name] = adapter
    return adapter


def get_adapter(name: str) -> Adapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise KeyError(
            f"unknown data adapter {name!r}; available: {', '.join(sorted(ADAPTERS))}"
        ) from None
