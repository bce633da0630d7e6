"""Row validation shared by every adapter: the last step before a table reaches the harness.

Columns (``harness.schema``): train pairs ``pair_id, prompt, chosen, rejected``; eval prompts
``prompt_id, prompt, chosen[, rejected]``. A table missing a column, or carrying one more, is an
adapter bug and raises. A row is dropped and counted as invalid for the first of:

``missing_value``  a cell with no value (None, NaN);
``wrong_type``     an id, prompt or reply of the wrong type (e.g. a number for ``chosen``);
``bad_message``    a prompt message that is not ``{"role", "content"}`` with a known role;
``empty_string``   an empty (or whitespace-only) reply, prompt message or id;
``prompt_not_ending_in_user``  the prompt's last message is not the user's;
``chosen_equals_rejected``     (train pairs) the two replies are the same after stripping;
``duplicate_id``   an id already used by an earlier row.
"""

from __future__ import annotations

import pandas as pd

from harness.data.messages import as_messages, is_missing, message_problem, response_problem
from harness.data.report import DropReport
from harness.schema import EVAL_COLUMNS, EVAL_OPTIONAL_COLUMNS, TRAIN_COLUMNS


def expected_columns(kind: str, df: pd.DataFrame) -> tuple[str, ...]:
    if kind == "train":
        return TRAIN_COLUMNS
    optional = tuple(c for c in EVAL_OPTIONAL_COLUMNS if c in df.columns)
    return EVAL_COLUMNS + optional


def check_columns(df: pd.DataFrame, kind: str, source: str) -> tuple[str, ...]:
    """The table's columns must be exactly the schema's (adapter contract)."""
    want = expected_columns(kind, df)
    missing = [c for c in want if c not in df.columns]
    extra = [c for c in df.columns if c not in want]
    if missing or extra:
        raise ValueError(
            f"{source}: a {kind} table needs exactly the columns {list(want)}; "
            f"missing {missing}, unexpected {extra}"
        )
    return want


def _row_problem(row: dict, kind: str, id_col: str, seen: set) -> tuple[str, str] | None:
    row_id = row[id_col]
    if is_missing(row_id):
        return "missing_value", f"{id_col} is missing"
    if not isinstance(row_id, str):
        return "wrong_type", f"{id_col} is {type(row_id).__name__}, expected a string"
    if not row_id.strip():
        return "empty_string", f"{id_col} is empty"
    problem = message_problem(row["prompt"])
    for col in ("chosen", "rejected"):
        if problem is None and col in row:
            problem = response_problem(col, row[col])
    if problem is None and kind == "train" and row["chosen"].strip() == row["rejected"].strip():
        problem = ("chosen_equals_rejected", "chosen and rejected are the same text")
    if problem is None and row_id in seen:
        problem = ("duplicate_id", f"{id_col} {row_id!r} already used")
    return problem


def validate_table(df: pd.DataFrame, kind: str, report: DropReport) -> pd.DataFrame:
    """Drop (and count in ``report``) every invalid row; prompts become plain message lists."""
    columns = check_columns(df, kind, report.source)
    id_col = columns[0]
    seen: set[str] = set()
    kept = []
    for position, row in enumerate(df[list(columns)].to_dict("records")):
        row["prompt"] = as_messages(row["prompt"])
        problem = _row_problem(row, kind, id_col, seen)
        if problem is not None:
            label = row[id_col] if isinstance(row[id_col], str) else f"#{position}"
            report.invalidate(problem[0], repr(label), problem[1])
            continue
        seen.add(row[id_col])
        row["prompt"] = [{"role": m["role"], "content": m["content"]} for m in row["prompt"]]
        kept.append(row)
    return pd.DataFrame(kept, columns=list(columns))
