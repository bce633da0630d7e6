"""Head-to-head between the methods' representative configs (the paper's Table 3 and Fig. 7).

For each role (``best``, ``top25``; ``analysis.topk.representatives``) every ordered pair of
methods' representative models meets on every eval prompt, and each method also meets the SFT
model. Per pair: win/tie/loss shares, the raw and the length-controlled win rate
(``analysis.winrate``) with paired prompt-bootstrap intervals (the replicates of the shared
``ConfigScores``, so the same prompt resamples as every other statistic). A representative that
failed has no responses: its pairs are left out and listed in ``missing``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import Study
from analysis.scores import ConfigScores
from analysis.topk import ROLES, representatives
from analysis.winrate import bradley_terry, lc_win_rate, win_tie_loss
from harness.schema import BASELINE_TRIAL_ID, STATUS_OK

SFT = BASELINE_TRIAL_ID


def _models(study: Study, role: str) -> pd.DataFrame:
    reps = representatives(study)
    reps = reps[reps["role"] == role]
    return reps.assign(ok=reps["status"] == STATUS_OK)


def _vectors(study: Study, trial_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-prompt score and length of a trial, or of the SFT model for ``trial_id == "sft"``."""
    if trial_id == SFT:
        return study.baseline_vector("score"), study.baseline_vector("length")
    return (study.matrix("score", [trial_id])[0], study.matrix("length", [trial_id])[0])


def head_to_head(study: Study, cs: ConfigScores, roles=tuple(ROLES)) -> pd.DataFrame:
    """Long table, one row per (role, model_a, model_b) with a != b; models are method names and
    "sft". Columns: role, model_a, model_b, trial_a, trial_b, win, tie, loss, raw, raw_lo,
    raw_hi, lc, lc_lo, lc_hi (win/tie/loss as shares, rates in %)."""
    rows = []
    for role in roles:
        models = _models(study, role)
        ok = models[models["ok"]]
        entries = [(r.method, r.trial_id) for r in ok.itertuples()] + [(SFT, SFT)]
        vec = {name: _vectors(study, tid) for name, tid in entries}
        for a, ta in entries:
            for b, tb in entries:
                if a == b:
                    continue
                (sa, la), (sb, lb) = vec[a], vec[b]
                point = win_tie_loss(sa, sb)
                raw_reps = win_tie_loss(sa, sb, cs.weights)["raw"]
                lc = float(lc_win_rate(sa, sb, la, lb)[0])
                lc_reps = lc_win_rate(sa, sb, la, lb, cs.weights)
                raw_lo, raw_hi = cs.interval(raw_reps)
                lc_lo, lc_hi = cs.interval(lc_reps)
                rows.append(dict(
                    role=role, model_a=a, model_b=b, trial_a=ta, trial_b=tb,
                    win=float(point["win"][0]), tie=float(point["tie"][0]),
                    loss=float(point["loss"][0]), raw=float(point["raw"][0]),
                    raw_lo=float(raw_lo), raw_hi=float(raw_hi),
                    lc=lc, lc_lo=float(lc_lo), lc_hi=float(lc_hi),
                ))
    return pd.DataFrame(rows, columns=[
        "role", "model_a", "model_b", "trial_a", "trial_b", "win", "tie", "loss",
        "raw", "raw_lo", "raw_hi", "lc", "lc_lo", "lc_hi"])


def missing_models(study: Study, roles=tuple(ROLES)) -> pd.DataFrame:
    """Representatives without responses (failed/diverged): method, role, trial_id, status."""
    frames = [_models(study, r) for r in roles]
    reps = pd.concat(frames, ignore_index=True)
    return reps[~reps["ok"]][["method", "role", "trial_id", "status"]].reset_index(drop=True)


def elo_table(study: Study, cs: ConfigScores, roles=tuple(ROLES)) -> pd.DataFrame:
    """Bradley-Terry Elo of every representative model and SFT (anchored at 1000), fitted on
    all pairwise per-prompt results, with prompt-bootstrap intervals.

    Columns: model ("<method>:<role>" or "sft"), method, role, trial_id, elo, lo, hi.
    """
    names, ids, meta = [SFT], [SFT], [(SFT, "", SFT)]
    for role in roles:
        for r in _models(study, role).itertuples():
            if r.ok and r.trial_id not in ids:
                names.append(f"{r.method}:{role}")
                ids.append(r.trial_id)
                meta.append((r.method, role, r.trial_id))
            elif r.ok:  # best and top25 are the same config (tiny grids): one model, one name
                j = ids.index(r.trial_id)
                names[j] = f"{r.method}:{meta[j][1]}+{role}"
    scores = np.stack([_vectors(study, i)[0] for i in ids])
    point = bradley_terry(scores, anchor=0)[0]
    reps = bradley_terry(scores, anchor=0, weights=cs.weights)
    lo, hi = cs.interval(reps)
    out = pd.DataFrame({
        "model": names, "method": [m[0] for m in meta], "role": [m[1] for m in meta],
        "trial_id": [m[2] for m in meta], "elo": point, "lo": lo, "hi": hi,
    })
    return out.sort_values(["elo", "model"], ascending=[False, True]).reset_index(drop=True)
