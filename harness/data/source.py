"""Reading a source through ``datasets.load_dataset``, the same call for a Hub id and a local copy.

``path`` is a Hub id (``PKU-Alignment/PKU-SafeRLHF``), a local folder laid out like the Hub repo
(a snapshot, or the fixtures in ``tests/fixtures/data``) or a single local file
(``.jsonl``/``.json``/``.parquet``/``.csv``, optionally ``.gz``/``.xz``/``.bz2``/``.zst``
compressed). A folder or Hub id is loaded with ``load_dataset(path, name=, data_dir=,
data_files=, revision=, split=)``; a file (or glob) with the packaged builder for its extension,
served as the requested split (``load_dataset("json", data_files={split: path}, split=split)``).
``revision`` only matters for Hub ids.

Common options (every adapter's options model extends :class:`SourceOptions`):
``path, revision, name, data_dir, data_files, split, cache_dir`` (where to load from),
``max_rows, seed`` (deterministic subsampling after validation) and ``max_bad_share`` (the share
of malformed rows above which loading fails, naming the first bad row).
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from harness import hub
from harness.errors import UserError
from harness.io import check_utf8
from harness.data.report import DEFAULT_MAX_BAD_SHARE
from harness.hub import HubRef

COMPRESSIONS = (".gz", ".xz", ".bz2", ".zst")
FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
TEXT_BUILDERS = ("json", "csv")


class SourceError(UserError, RuntimeError):
    """``datasets.load_dataset`` could not read the source; the message names it."""


class SourceOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    revision: str | None = None
    name: str | None = None
    data_dir: str | None = None
    data_files: str | list[str] | None = None
    split: str = "train"
    cache_dir: str | None = None
    max_rows: PositiveInt | None = None
    seed: int = 0
    max_bad_share: float = Field(DEFAULT_MAX_BAD_SHARE, ge=0.0, le=1.0)


def local_files(path: str) -> list[str]:
    """The local files ``path`` names (a file or a glob); [] when it names none."""
    expanded = str(Path(path).expanduser())
    if Path(expanded).is_file():
        return [expanded]
    if glob.has_magic(expanded):
        return sorted(p for p in glob.glob(expanded, recursive=True) if Path(p).is_file())
    return []


def file_builder(path: str) -> str:
    """The packaged ``datasets`` builder for a file name (compression suffix ignored)."""
    name = path.lower()
    for comp in COMPRESSIONS:
        if name.endswith(comp):
            name = name[: -len(comp)]
    for ext, builder in FILE_BUILDERS.items():
        if name.endswith(ext):
            return builder
    raise SourceError(
        f"cannot tell the format of {path!r}: use one of {sorted(FILE_BUILDERS)} "
        f"(optionally compressed {', '.join(COMPRESSIONS)})"
    )


def hub_refs(opts: SourceOptions) -> list:
    """The Hub dataset this source reads; [] for a local file, glob or folder."""
    if local_files(opts.path) or Path(opts.path).expanduser().exists():
        return []
    return [HubRef(opts.path, repo_type="dataset", revision=opts.revision)]


def describe(opts: SourceOptions) -> str:
    parts = [repr(opts.path)]
    for key in ("name", "data_dir", "data_files", "revision", "split"):
        value = getattr(opts, key)
        if value is not None:
            parts.append(f"{key}={value!r}")
    return " ".join(parts)


def load_path(opts: SourceOptions) -> str:
    """What to hand to ``load_dataset``: a local folder, the cached Hub snapshot when offline,
    else the Hub id.

    Offline, ``load_dataset(<hub id>)`` never looks at the Hub cache that ``hf
    download`` fills (only at ``datasets``' own Arrow cache), so a cached snapshot is loaded as
    the local folder it is: the same files, the same call.
    """
    local = Path(opts.path).expanduser()
    if local.is_dir():
        return str(local.resolve())
    if hub.offline():
        # not cached: load_dataset gives the datasets error, named below
        return hub.snapshot_path(hub.HubRef(opts.path, "dataset", opts.revision)) or opts.path
    return opts.path


def load_split(opts: SourceOptions):
    """One split of the source as a ``datasets.Dataset``."""
    import datasets  # heavy import; only when data is actually read

    files = local_files(opts.path)
    for f in files:  # datasets' own error on a non-UTF-8 file names neither file nor line
        if file_builder(f) in TEXT_BUILDERS and not f.lower().endswith(COMPRESSIONS):
            check_utf8(f)
    try:
        if files:
            # the files are served as the requested split ("test[:100]" -> data_files key "test")
            split_name = re.split(r"[\[+]", opts.split, maxsplit=1)[0]
            return datasets.load_dataset(
                file_builder(files[0]),
                data_files={split_name: files},
                split=opts.split,
                cache_dir=opts.cache_dir,
            )
        return datasets.load_dataset(
            load_path(opts),
            name=opts.name,
            data_dir=opts.data_dir,
            data_files=opts.data_files,
            revision=opts.revision,
            split=opts.split,
            cache_dir=opts.cache_dir,
        )
    except SourceError:
        raise
    except Exception as e:  # datasets raises many types; keep the cause, name the source
        cause = f" (caused by {type(e.__cause__).__name__}: {e.__cause__})" if e.__cause__ else ""
        raise SourceError(
            f"could not load {describe(opts)}: {type(e).__name__}: {e}{cause}"
        ) from e


def read_rows(opts: SourceOptions, columns: tuple[str, ...], source: str) -> list[dict[str, Any]]:
    """The rows of ``columns`` only, as Python values; a missing column is an error naming it."""
    ds = load_split(opts)
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise SourceError(
            f"{source}: {describe(opts)} has no column(s) {missing}; "
            f"its columns are {ds.column_names}"
        )
    return ds.select_columns(list(columns)).to_list()


def row_id(split: str, index: int) -> str:
    """Stable id of a source row: its split and its index in that split (before any filter)."""
    return f"{split}-{index:06d}"


def subsample(df: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """``max_rows`` rows drawn without replacement with ``seed``, in their original order."""
    if max_rows is None or len(df) <= max_rows:
        return df
    keep = np.sort(np.random.default_rng(seed).choice(len(df), size=max_rows, replace=False))
    return df.iloc[keep].reset_index(drop=True)
