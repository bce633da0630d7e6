"""Registry of data adapters by name.

An adapter turns a source (the toy world, PKU-SafeRLHF, HH-RLHF, your own files) into the
harness's tables (see :mod:`harness.schema`): train pairs ``pair_id, prompt, chosen, rejected``
or eval prompts ``prompt_id, prompt, chosen[, rejected]``, with ``prompt`` a list of chat
messages. The study YAML names an adapter and its options in one mapping::

    data:
      train: {adapter: saferlhf, path: PKU-Alignment/PKU-SafeRLHF, revision: v0, split: train}
      eval:  {adapter: hh_rlhf, path: Anthropic/hh-rlhf, data_dir: harmless-base, split: test}

``options`` is a pydantic model (``extra="forbid"``) so a misspelt key is an error naming it.

``load(options, kind)`` returns the table, or ``(table, DropReport)`` when the adapter drops rows
of its own (filters, unparsable rows); :func:`harness.data.load_table` then validates every row
against the schema, applies ``max_bad_share`` and ``max_rows``, and returns the final report.
``refs(options)`` lists the Hub ids the adapter will read, so a study can check them all offline
(:func:`harness.hub.check_available`) before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Union

import pandas as pd
from pydantic import BaseModel

from harness.data.report import DropReport
from harness.hub import HubRef
from harness.registry import Registry

Kind = Literal["train", "eval"]
LoadResult = Union[pd.DataFrame, tuple[pd.DataFrame, DropReport]]


def no_refs(options: BaseModel) -> list[HubRef]:
    """Adapters that read nothing from the Hub (the toy world)."""
    return []


@dataclass(frozen=True)
class Adapter:
    name: str
    options: type[BaseModel]
    load: Callable[[BaseModel, Kind], LoadResult]
    kinds: tuple[Kind, ...] = ("train", "eval")
    refs: Callable[[BaseModel], list[HubRef]] = no_refs
    doc: str = field(default="", compare=False)


ADAPTERS: Registry[Adapter] = Registry("data adapter")
"""Data adapters by name: the allowed values of ``data.train.adapter``/``data.eval.adapter``."""


def register(adapter: Adapter) -> Adapter:
    return ADAPTERS.register(adapter.name, adapter)


def get_adapter(name: str) -> Adapter:
    return ADAPTERS.get(name)
