"""Bring your own data: ``preference_jsonl`` (local files) and ``hf_dataset`` (Hub id or folder).

Both map your columns onto the harness schema with ``columns``::

    train: {adapter: preference_jsonl, path: data/pairs.jsonl,
            columns: {prompt: question, chosen: good, rejected: bad, id: uid}}
    eval:  {adapter: hf_dataset, path: my-org/my-prompts, split: test,
            columns: {prompt: instruction, chosen: reference}}

- ``prompt``: a string (-> one user message) or a list of ``{"role", "content"}`` messages
  ending with a user turn.
- ``chosen``, ``rejected``: strings, or TRL's conversational one-message lists
  ``[{"role": "assistant", "content": ...}]``. Train pairs need both; an eval set needs
  ``chosen`` (for win-vs-chosen) and keeps ``rejected`` when the column exists.
- ``id`` (optional): a column of unique ids (numbers are turned into strings); without it,
  ids are ``<split>-<row index>``.

``preference_jsonl`` reads a local file or glob (``.jsonl``, ``.json``, ``.parquet``, ``.csv``,
optionally compressed); ``hf_dataset`` reads whatever ``datasets.load_dataset(path, name=,
data_dir=, data_files=, revision=, split=)`` reads. Rows are validated by the shared checks
(:mod:`harness.data.validate`); these adapters filter nothing by design.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from harness.data.messages import as_messages, as_response, is_missing
from harness.data.registry import Adapter, Kind, register
from harness.data.report import DropReport
from harness.data.source import (
    SourceError,
    SourceOptions,
    hub_refs,
    load_split,
    local_files,
    row_id,
)


class ColumnMap(BaseModel):
    """Which source column holds each schema field."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = "prompt"
    chosen: str = "chosen"
    rejected: str = "rejected"
    id: str | None = None


class ByoOptions(SourceOptions):
    columns: ColumnMap = ColumnMap()


class PreferenceFileOptions(ByoOptions):
    @model_validator(mode="after")
    def _local_only(self):
        if not local_files(self.path):
            raise ValueError(
                f"path {self.path!r} names no local file (for a Hub id or a folder laid out "
                "like a Hub repo, use adapter: hf_dataset)"
            )
        return self


def _as_id(value: object) -> object:
    # integer ids are common in user data; anything else is left for validation to reject
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def load_mapped(adapter: str, opts: ByoOptions, kind: Kind) -> tuple[pd.DataFrame, DropReport]:
    """Read the mapped columns; prompts and replies are normalised, not yet validated."""
    report = DropReport(source=f"{adapter} {kind} ({opts.path}, split {opts.split})")
    ds = load_split(opts)
    cols = opts.columns
    wanted = {"prompt": cols.prompt, "chosen": cols.chosen}
    explicit_rejected = "rejected" in cols.model_fields_set
    if kind == "train" or explicit_rejected or cols.rejected in ds.column_names:
        wanted["rejected"] = cols.rejected
    if cols.id is not None:
        wanted["id"] = cols.id
    missing = {field: col for field, col in wanted.items() if col not in ds.column_names}
    if missing:
        raise SourceError(
            f"{report.source}: column(s) not found for "
            + ", ".join(f"{field}: {col!r}" for field, col in missing.items())
            + f"; the source's columns are {ds.column_names} (map them with `columns:`)"
        )
    rows = ds.select_columns(list(wanted.values())).to_list()
    report.rows_read = len(rows)
    id_col = "pair_id" if kind == "train" else "prompt_id"
    out = []
    for i, row in enumerate(rows):
        rid = _as_id(row[cols.id]) if cols.id is not None else row_id(opts.split, i)
        rec = {id_col: rid, "prompt": as_messages(row[cols.prompt])}
        for field in ("chosen", "rejected"):
            if field in wanted:
                value = row[wanted[field]]
                rec[field] = value if is_missing(value) else as_response(value)
        out.append(rec)
    fields = [id_col, "prompt", "chosen"] + (["rejected"] if "rejected" in wanted else [])
    return pd.DataFrame(out, columns=fields), report


def load_preference_jsonl(opts: PreferenceFileOptions, kind: Kind):
    return load_mapped("preference_jsonl", opts, kind)


def load_hf_dataset(opts: ByoOptions, kind: Kind):
    return load_mapped("hf_dataset", opts, kind)


PREFERENCE_JSONL = register(
    Adapter(
        name="preference_jsonl",
        options=PreferenceFileOptions,
        load=load_preference_jsonl,
        refs=hub_refs,  # a local file never needs the Hub: always []
        doc=__doc__ or "",
    )
)
HF_DATASET = register(
    Adapter(
        name="hf_dataset",
        options=ByoOptions,
        load=load_hf_dataset,
        refs=hub_refs,
        doc=__doc__ or "",
    )
)
