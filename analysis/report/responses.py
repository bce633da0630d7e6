"""Sample responses: for a few eval prompts, the SFT model's reply and each method's best
config's reply, with their gold scores and lengths.

Which prompts (the results record no harmful/benign flag and no prompt text, only
``prompt_id``, so the choice is by score, and documented in the report): the prompt where the
SFT model scores lowest, the one at its median and the one where it scores highest, then the
prompt where the recommended method's best config gains most over the SFT model; duplicates
are dropped. The reply shown is a trial's first response to the prompt; score and length are
the per-prompt values every comparison uses (``Study.samples``: the mean over the prompt's
responses when there are several).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from analysis import fmt
from analysis.analyze import StudyAnalysis
from harness.schema import STATUS_OK

MAX_CHARS = 400  # a reply longer than this is cut (the whole text is in samples.parquet)


def pick_prompts(a: StudyAnalysis) -> list[tuple[str, str]]:
    """(prompt_id, why it was picked), in the order of the module docstring."""
    base = a.study.baseline.sort_values(["score", "prompt_id"], kind="stable")
    ids = list(base["prompt_id"])
    picks = [(ids[0], "the SFT model's lowest score"),
             (ids[len(ids) // 2], "the SFT model's median score"),
             (ids[-1], "the SFT model's highest score")]
    best = a.best.set_index("method")
    if a.choice.method in best.index and best.at[a.choice.method, "status"] == STATUS_OK:
        tid = best.at[a.choice.method, "trial_id"]
        s = a.study.samples[a.study.samples["trial_id"] == tid].set_index("prompt_id")["score"]
        gain = (s - a.study.baseline.set_index("prompt_id")["score"]).dropna()
        if len(gain):
            top = gain.sort_values(ascending=False, kind="stable").index[0]
            picks.append((top, f"the largest gain of {a.palette.label(a.choice.method)}'s best "
                               "config over the SFT model"))
    seen, out = set(), []
    for pid, why in picks:
        if pid not in seen:
            seen.add(pid)
            out.append((pid, why))
    return out


def _text(response) -> str:
    """A reply as one escaped Markdown table cell (never raw HTML, never Markdown markup)."""
    s = "" if response is None or (isinstance(response, float) and np.isnan(response)) \
        else str(response)
    cut = len(s) > MAX_CHARS
    s = s[:MAX_CHARS] + (" …" if cut else "")
    s = html.escape(s, quote=False).replace("\n", " ⏎ ")
    for ch in "\\`*_[]#|":
        s = s.replace(ch, "\\" + ch)
    return s or "(empty)"


def response_tables(a: StudyAnalysis) -> list[tuple[str, pd.DataFrame]]:
    """Per picked prompt: (heading text, table of model, score, length, reply)."""
    per_prompt = a.study.samples.set_index(["trial_id", "prompt_id"])
    base = a.study.baseline.set_index("prompt_id")
    best = a.best[a.best["status"] == STATUS_OK]
    out = []
    for pid, why in pick_prompts(a):
        rows = [{"model": "SFT", "score": fmt.num(base.at[pid, "score"]),
                 "length": fmt.num(base.at[pid, "length"], 0),
                 "reply": _text(base.at[pid, "response"])}]
        for r in best.itertuples():
            if (r.trial_id, pid) not in per_prompt.index:
                continue
            x = per_prompt.loc[(r.trial_id, pid)]
            rows.append({"model": f"{a.palette.label(r.method)} best", "score": fmt.num(x["score"]),
                         "length": fmt.num(x["length"], 0), "reply": _text(x["response"])})
        out.append((f"Prompt `{pid}` ({why})", pd.DataFrame(rows)))
    return out
