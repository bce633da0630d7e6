"""``toyworld`` adapter: the train pairs or eval prompts of a built toy world.

``path`` is a built world folder (``python -m harness.toyworld build`` writes one under
``<cache>/toyworld/<key>/``). In a study YAML it is left out: the prepare stage builds the
study's ``toyworld:`` section and fills it in. Registered by :mod:`harness.toyworld.plugin`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from harness.io import read_jsonl

FILES = {"train": "train_pairs.jsonl", "eval": "eval_prompts.jsonl"}


class ToyWorldOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = None  # a built world folder; None = the study's toyworld section
    max_rows: int | None = Field(None, ge=1)
    seed: int = 0


def load(options: ToyWorldOptions, kind: str) -> pd.DataFrame:
    if options.path is None:
        raise ValueError(
            "toyworld adapter: no world folder; build one with `python -m harness.toyworld build` "
            "and give its folder as `path`, or add a toyworld: section to the study"
        )
    file = Path(options.path) / FILES[kind]
    if not file.exists():
        raise FileNotFoundError(f"toyworld adapter: {file} does not exist (not a built world?)")
    return pd.DataFrame(read_jsonl(file))
