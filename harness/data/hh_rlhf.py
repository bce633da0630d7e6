"""``hh_rlhf``: Anthropic/hh-rlhf transcripts as chat prompts with the chosen/rejected replies.

Upstream rows are ``{"chosen": str, "rejected": str}``, each a whole conversation
``"\\n\\nHuman: ...\\n\\nAssistant: ...\\n\\nHuman: ...\\n\\nAssistant: <reply>"``, in
``<subset>/{train,test}.jsonl.gz`` with subsets (``data_dir``) ``harmless-base``,
``helpful-base``, ``helpful-online``, ``helpful-rejection-sampled``; no ``data_dir`` reads all
four.

The split (the usual one, e.g. TRL's and DPO's HH scripts): the prompt is the chosen transcript
up to and including its last ``"\\n\\nAssistant:"``; chosen = the rest, stripped. The prompt
becomes chat messages, Human -> user and Assistant -> assistant, every turn kept (multi-turn),
each turn's text stripped. rejected must start with the same prompt; its reply is the rest.

Counted drops: ``prompt_mismatch`` (filtered: the rejected transcript does not share the
prompt); ``no_assistant_turn``, ``last_turn_not_assistant`` (the transcript ends with a Human
turn), ``malformed_transcript`` (text before the first turn marker), ``wrong_type`` /
``missing_value`` (a transcript that is not a string) are invalid. Empty replies, empty turns,
identical replies and prompts ending in an Assistant turn are caught by the shared validation.

Rows: ``prompt_id``/``pair_id`` = ``<split>-<row index>``; eval tables keep ``rejected``.
"""

from __future__ import annotations

import re

import pandas as pd

from harness.data.messages import is_missing, type_name
from harness.data.registry import Adapter, Kind, register
from harness.data.report import DropReport
from harness.data.source import SourceOptions, hub_refs, read_rows, row_id

# A turn marker at the very start of a transcript or after a blank line.
TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):")
ROLE = {"Human": "user", "Assistant": "assistant"}


class TranscriptError(ValueError):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class HHRLHFOptions(SourceOptions):
    path: str = "Anthropic/hh-rlhf"
    split: str = "test"


def split_transcript(text: str) -> tuple[str, str]:
    """``(prompt_text, reply)``: the transcript up to and including its last Assistant marker,
    and what follows it (stripped)."""
    markers = list(TURN.finditer(text))
    if not any(m.group(1) == "Assistant" for m in markers):
        raise TranscriptError("no_assistant_turn", "transcript has no 'Assistant:' turn")
    last = markers[-1]
    if last.group(1) != "Assistant":
        raise TranscriptError("last_turn_not_assistant", "transcript ends with a Human turn")
    if text[: markers[0].start()].strip():
        raise TranscriptError("malformed_transcript", "text before the first turn marker")
    return text[: last.end()], text[last.end() :].strip()


def transcript_messages(prompt_text: str) -> list[dict[str, str]]:
    """Chat messages of a prompt transcript (ending with its bare ``Assistant:`` marker)."""
    markers = list(TURN.finditer(prompt_text))
    messages = []
    for m, nxt in zip(markers, markers[1:]):  # the last marker is the open Assistant turn
        content = prompt_text[m.end() : nxt.start()].strip()
        messages.append({"role": ROLE[m.group(1)], "content": content})
    return messages


def parse_row(chosen: object, rejected: object) -> tuple[list[dict], str, str]:
    """``(prompt messages, chosen reply, rejected reply)`` of one upstream row."""
    for col, value in (("chosen", chosen), ("rejected", rejected)):
        if is_missing(value):
            raise TranscriptError("missing_value", f"{col} is missing")
        if not isinstance(value, str):
            raise TranscriptError("wrong_type", f"{col} is {type_name(value)}, expected a string")
    prompt_text, chosen_reply = split_transcript(chosen)
    if not rejected.startswith(prompt_text):
        raise TranscriptError("prompt_mismatch", "rejected does not start with chosen's prompt")
    return transcript_messages(prompt_text), chosen_reply, rejected[len(prompt_text) :].strip()


def load(opts: HHRLHFOptions, kind: Kind) -> tuple[pd.DataFrame, DropReport]:
    subset = f", data_dir {opts.data_dir}" if opts.data_dir else ""
    report = DropReport(source=f"hh_rlhf {kind} ({opts.path}{subset}, split {opts.split})")
    rows = read_rows(opts, ("chosen", "rejected"), report.source)
    report.rows_read = len(rows)
    out = []
    for i, row in enumerate(rows):
        rid = row_id(opts.split, i)
        try:
            out.append((rid, *parse_row(row["chosen"], row["rejected"])))
        except TranscriptError as e:
            drop = report.filter if e.reason == "prompt_mismatch" else report.invalidate
            drop(e.reason, rid, e.detail)
    id_col = "pair_id" if kind == "train" else "prompt_id"
    return pd.DataFrame(out, columns=[id_col, "prompt", "chosen", "rejected"]), report


ADAPTER = register(
    Adapter(
        name="hh_rlhf",
        options=HHRLHFOptions,
        load=load,
        refs=hub_refs,
        doc=__doc__ or "",
    )
)
