"""Data adapters: sources -> the harness's train-pair and eval-prompt tables.

``load_table({"adapter": NAME, **options}, "train" | "eval") -> (DataFrame, DropReport)``.
Adapters (see docs/data.md): ``saferlhf``, ``hh_rlhf``, ``preference_jsonl``, ``hf_dataset``,
and those of installed plug-ins (the toy world's ``toyworld``: :mod:`harness.entry_points`).
Importing this package registers them all.
"""

from harness.data.registry import ADAPTERS, Adapter, get_adapter, register
from harness.data.report import DataValidationError, DropReport
from harness.data.source import SourceError, SourceOptions
from harness.data.table import DataConfigError, load_table, parse_spec, refs
from harness.data.validate import validate_table

# Registers the adapters; last, so an adapter module may import the names above from here.
from harness.data import byo, hh_rlhf, saferlhf  # noqa: E402,F401  isort: skip
from harness.entry_points import load_installed_plugins  # noqa: E402  isort: skip

load_installed_plugins()

__all__ = [
    "ADAPTERS",
    "Adapter",
    "DataConfigError",
    "DataValidationError",
    "DropReport",
    "SourceError",
    "SourceOptions",
    "get_adapter",
    "load_table",
    "parse_spec",
    "refs",
    "register",
    "validate_table",
]
