"""The one-screen summary printed at the end of a sweep: per method, grid trials ok / failed /
diverged, best and median ``mean_score`` of the ok ones, and the share of grid trials below the
SFT model (:func:`harness.schema.share_below_sft`, the report's definition: at or below, failed
and diverged trials counted as below); confirmation runs are counted in a column of their own;
and the recorded trials kept out of the tables (other settings, no longer in the grid)."""

from __future__ import annotations

import pandas as pd

from harness.objectives import OBJECTIVES
from harness.schema import (
    ROLE_CONFIRM,
    STATUS_DIVERGED,
    STATUS_FAILED,
    STATUS_OK,
    describe_excluded,
    share_below_sft,
)


def summary_frame(trials: pd.DataFrame, sft_score: float) -> pd.DataFrame:
    """One row per method present, in registration order (others, e.g. from a plugin not
    imported here, alphabetically after)."""
    rows = []
    present = set(trials["method"])
    order = [m for m in OBJECTIVES if m in present] + sorted(present - set(OBJECTIVES))
    confirm = trials["role"] == ROLE_CONFIRM if "role" in trials else pd.Series(False, trials.index)
    for method in order:
        t = trials[(trials["method"] == method) & ~confirm]
        ok = t[t["status"] == STATUS_OK]["mean_score"].astype(float)
        rows.append({
            "method": method,
            "trials": len(t),
            "ok": int((t["status"] == STATUS_OK).sum()),
            "failed": int((t["status"] == STATUS_FAILED).sum()),
            "diverged": int((t["status"] == STATUS_DIVERGED).sum()),
            "best": ok.max() if len(ok) else float("nan"),
            "median": ok.median() if len(ok) else float("nan"),
            # a trial that did not complete has no score: below SFT
            "below_sft": float(share_below_sft(
                t["mean_score"].astype(float).where(t["status"] == STATUS_OK), sft_score)),
            **({"confirm": int((confirm & (trials["method"] == method)).sum())}
               if confirm.any() else {}),
        })
    return pd.DataFrame(rows)


def summary_table(trials: pd.DataFrame, baseline_path: str | None, run: dict | None = None,
                  excluded: dict | None = None) -> str:
    """The summary; ``excluded`` (counts by reason) adds the line of trials kept aside."""
    sft = float("nan")
    if baseline_path:
        sft = float(pd.read_parquet(baseline_path)["score"].mean())
    df = summary_frame(trials, sft)
    lines = [f"SFT model mean_score: {sft:.3f}"]
    lines.append(df.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if run:
        lines.append(f"this run: {run['n_trials']} trials in {run['wall_s']:.1f} s "
                     f"({run['concurrency']} at a time)")
    aside = describe_excluded(excluded)
    if aside:
        lines.append(f"not in these tables: {aside} (kept on disk; --prune removes them)")
    return "\n".join(lines)
