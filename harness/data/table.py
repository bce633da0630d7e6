"""``load_table``: one YAML data mapping -> a validated table and its :class:`DropReport`.

The steps, in order: resolve the adapter by name and validate its options (a misspelt key is an
error naming it); check the Hub ids it reads are available offline (:mod:`harness.hub`); let
the adapter read and filter; validate every row against the schema (:mod:`.validate`); fail if
more than ``max_bad_share`` of the rows read are malformed, or none are left; subsample
``max_rows`` rows with ``seed``; log the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from harness import hub
from harness.errors import UserError
from harness.data.registry import Adapter, Kind, get_adapter
from harness.data.report import DEFAULT_MAX_BAD_SHARE, DropReport
from harness.data.source import subsample
from harness.data.validate import validate_table

class DataConfigError(UserError, ValueError):
    """A data mapping names an unknown adapter, a wrong option or an unsupported kind."""


def _as_mapping(spec: Mapping | BaseModel) -> dict[str, Any]:
    if isinstance(spec, BaseModel):
        # only what the user wrote: config-level defaults must not leak into adapter options
        return spec.model_dump(exclude_unset=True)
    if isinstance(spec, Mapping):
        return dict(spec)
    raise DataConfigError(f"a data spec is a mapping with an `adapter` key, got {spec!r}")


def parse_spec(spec: Mapping | BaseModel, kind: Kind | None = None) -> tuple[Adapter, BaseModel]:
    """The adapter a spec names and its validated options."""
    mapping = _as_mapping(spec)
    name = mapping.pop("adapter", None)
    if name is None:
        raise DataConfigError(f"data spec {mapping!r} has no `adapter` key")
    try:
        adapter = get_adapter(name)
    except KeyError as e:
        raise DataConfigError(e.args[0]) from None
    if kind is not None and kind not in adapter.kinds:
        raise DataConfigError(f"data adapter {name!r} cannot give {kind} data ({adapter.kinds})")
    try:
        options = adapter.options.model_validate(mapping)
    except ValidationError as e:
        raise DataConfigError(f"data adapter {name!r}: invalid options:\n{e}") from None
    return adapter, options


def refs(spec: Mapping | BaseModel) -> list[hub.HubRef]:
    """The Hub ids a data spec reads, for one offline check of the whole study."""
    adapter, options = parse_spec(spec)
    return list(adapter.refs(options))


def load_table(spec: Mapping | BaseModel, kind: Kind) -> tuple[pd.DataFrame, DropReport]:
    """Train pairs (``kind="train"``) or eval prompts (``kind="eval"``) and what was dropped.

    Columns (``harness.schema``): train ``pair_id, prompt, chosen, rejected``; eval
    ``prompt_id, prompt, chosen[, rejected]``; ``prompt`` is a list of chat messages.
    """
    adapter, options = parse_spec(spec, kind)
    hub.check_available(adapter.refs(options))
    result = adapter.load(options, kind)
    if isinstance(result, tuple):
        df, report = result
    else:
        df, report = result, DropReport(source=f"{adapter.name} {kind}", rows_read=len(result))
    df = validate_table(df, kind, report)
    report.check(getattr(options, "max_bad_share", DEFAULT_MAX_BAD_SHARE))
    report.check_nonempty(len(df))
    sampled = subsample(df, getattr(options, "max_rows", None), getattr(options, "seed", 0))
    report.subsampled = len(df) - len(sampled)
    report.kept = len(sampled)
    report.log()
    return sampled.reset_index(drop=True), report
