"""``saferlhf``: PKU-Alignment/PKU-SafeRLHF, filtered to one-safe/one-unsafe pairs.

Both schemas share the seven columns this adapter reads: ``prompt``, ``response_0``,
``response_1`` (str), ``is_response_0_safe``, ``is_response_1_safe`` (bool),
``better_response_id``, ``safer_response_id`` (0/1).

- old (``revision: v0``): files ``round0/{train,test}.jsonl.xz``, exactly those seven columns;
- new (default revision): ``data/{Alpaca-7B,Alpaca2-7B,Alpaca3-8B}/{train,test}.jsonl`` with
  configs ``default`` (all three) and ``alpaca-7b``, ``alpaca2-7b``, ``alpaca3-8b`` (pick one
  with ``name``), plus source, harm-category, severity and sha256 columns, which are not read.

The filter ("double safe/unsafe filtered", Xu et al. 2024, as used by Ahrabian et al. 2024):
keep a pair iff exactly one response is safe (``is_response_0_safe XOR is_response_1_safe``);
chosen = the safe response, rejected = the unsafe one. Counted drops: ``both_safe``,
``both_unsafe`` (filtered, by design); ``bad_safety_label`` (a label that is not a bool) and
``bad_safer_response_id`` (not 0/1) are invalid rows. On kept rows the safe response should be
the one ``safer_response_id`` names; a disagreement is counted as the flag
``safer_response_id_disagrees`` and the row is kept, because the filter is defined by the
per-response safety labels (``drop_disagreements: true`` drops them instead, counted as filtered).

Rows: ``pair_id``/``prompt_id`` = ``<split>-<row index>``; the prompt is one user message.
As eval prompts the table also carries ``rejected`` (the unsafe response).
"""

from __future__ import annotations

import pandas as pd

from harness.data.registry import Adapter, Kind, register
from harness.data.report import DropReport
from harness.data.source import SourceOptions, hub_refs, read_rows, row_id

COLUMNS = (
    "prompt",
    "response_0",
    "response_1",
    "is_response_0_safe",
    "is_response_1_safe",
    "better_response_id",
    "safer_response_id",
)


class SafeRLHFOptions(SourceOptions):
    path: str = "PKU-Alignment/PKU-SafeRLHF"
    drop_disagreements: bool = False


def one_safe_pair(row: dict, rid: str, report: DropReport, drop_disagreements: bool):
    """``(chosen, rejected)`` for a one-safe/one-unsafe row, else None (counted in ``report``)."""
    safe = (row["is_response_0_safe"], row["is_response_1_safe"])
    if not all(isinstance(s, bool) for s in safe):
        detail = f"is_response_0_safe={safe[0]!r}, is_response_1_safe={safe[1]!r}"
        report.invalidate("bad_safety_label", rid, detail)
        return None
    safer = row["safer_response_id"]
    if isinstance(safer, bool) or safer not in (0, 1):
        report.invalidate("bad_safer_response_id", rid, f"safer_response_id={safer!r}")
        return None
    if safe[0] and safe[1]:
        report.filter("both_safe", rid)
        return None
    if not (safe[0] or safe[1]):
        report.filter("both_unsafe", rid)
        return None
    safe_id = 0 if safe[0] else 1
    if safe_id != safer:
        detail = f"response_{safe_id} is the safe one, safer_response_id={safer}"
        if drop_disagreements:
            report.filter("safer_response_id_disagrees", rid, detail)
            return None
        report.flag("safer_response_id_disagrees", rid, detail)
    return row[f"response_{safe_id}"], row[f"response_{1 - safe_id}"]


def load(opts: SafeRLHFOptions, kind: Kind) -> tuple[pd.DataFrame, DropReport]:
    report = DropReport(source=f"saferlhf {kind} ({opts.path}, split {opts.split})")
    rows = read_rows(opts, COLUMNS, report.source)
    report.rows_read = len(rows)
    out = []
    for i, row in enumerate(rows):
        rid = row_id(opts.split, i)
        pair = one_safe_pair(row, rid, report, opts.drop_disagreements)
        if pair is not None:
            prompt = row["prompt"]
            # a non-string prompt is left as is for validate_table to count as wrong_type
            messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
            out.append((rid, messages, *pair))
    id_col = "pair_id" if kind == "train" else "prompt_id"
    return pd.DataFrame(out, columns=[id_col, "prompt", "chosen", "rejected"]), report


ADAPTER = register(
    Adapter(
        name="saferlhf",
        options=SafeRLHFOptions,
        load=load,
        refs=hub_refs,
        doc=__doc__ or "",
    )
)
