"""Head-to-head between the methods' representative configs (the paper's Table 3 and Fig. 7).

For each role (``best``, ``top25``; ``analysis.topk.representatives``, selected on the grid rows)
every ordered pair of methods' representative models meets on every eval prompt, and each method
also meets the SFT model. A representative model is its config's confirmation runs when the
study has them, else its grid seeds (``analysis.confirm.estimate_trials``); its per-prompt score
and length are the means over those runs (and over samples per prompt). Per pair: win/tie/loss
shares, the raw and the length-controlled win rate (``analysis.winrate``), how balanced the two
models' lengths are (``length_balance``: near 0 means one is longer almost everywhere and the LC
rate extrapolates), with hierarchical bootstrap intervals (the prompt resamples of the shared
``ConfigScores``, and a resample of each model's runs). A representative without completed
runs has no responses: its pairs are left out and listed in ``missing``.
"""

from __future__ import annotations

import pandas as pd

from analysis.confirm import estimate_trials
from analysis.load import Study
from analysis.scores import ConfigScores, model_vectors
from analysis.topk import ROLES
from analysis.winrate import bradley_terry, lc_win_rate, length_balance, win_tie_loss
from harness.schema import BASELINE_TRIAL_ID

SFT = BASELINE_TRIAL_ID


def _models(study: Study, reps: pd.DataFrame, role: str) -> pd.DataFrame:
    """The role's representatives with their estimating runs (``trials``), ``source`` and
    ``ok`` (has runs)."""
    sub = reps[reps["role"] == role].copy()
    found = [estimate_trials(study, c) for c in sub["config_id"]]
    sub["source"] = [f[0] for f in found]
    sub["trials"] = [f[1] for f in found]
    sub["ok"] = [len(f[1]) > 0 for f in found]
    return sub


class _Vectors:
    """Per-prompt score and length of each model (point (P,) and replicates (B, P) or None),
    computed once per model."""

    def __init__(self, study: Study, cs: ConfigScores):
        self.study, self.cs, self.cache = study, cs, {}

    def get(self, name: str, trials) -> tuple:
        key = (name, tuple(trials))
        if key not in self.cache:
            if name == SFT:
                s, n = self.study.baseline_vector("score"), self.study.baseline_vector("length")
                self.cache[key] = (s, None, n, None)
            else:
                tag = ",".join(trials)
                s, s_reps = model_vectors(self.study, trials, "score", self.cs, tag)
                n, n_reps = model_vectors(self.study, trials, "length", self.cs, tag)
                self.cache[key] = (s, s_reps, n, n_reps)
        return self.cache[key]


def head_to_head(study: Study, cs: ConfigScores, reps: pd.DataFrame,
                 roles=tuple(ROLES)) -> pd.DataFrame:
    """Long table, one row per (role, model_a, model_b) with a != b; models are method names and
    "sft". Columns: role, model_a, model_b, trial_a, trial_b (the config's first trial),
    source_a, source_b, n_a, n_b (runs averaged), win, tie, loss, raw, raw_lo, raw_hi, lc,
    lc_lo, lc_hi, length_balance (win/tie/loss and balance as shares, rates in %)."""
    rows = []
    vec = _Vectors(study, cs)
    for role in roles:
        models = _models(study, reps, role)
        ok = models[models["ok"]]
        entries = [(r.method, r.trial_id, r.source, list(r.trials)) for r in ok.itertuples()]
        entries.append((SFT, SFT, SFT, [SFT]))
        for i, (a, ta, src_a, runs_a) in enumerate(entries):
            sa, sa_r, la, la_r = vec.get(a, runs_a)
            for b, tb, src_b, runs_b in entries[i + 1:]:
                sb, sb_r, lb, lb_r = vec.get(b, runs_b)
                point = win_tie_loss(sa, sb)
                seeded = any(x is not None for x in (sa_r, sb_r))
                rs = lambda p, r: p if r is None else r  # noqa: E731
                if seeded:
                    raw_reps = win_tie_loss(rs(sa, sa_r), rs(sb, sb_r), cs.weights)["raw"]
                    lc_reps = lc_win_rate(rs(sa, sa_r), rs(sb, sb_r), rs(la, la_r),
                                          rs(lb, lb_r), cs.weights)
                else:
                    raw_reps = win_tie_loss(sa, sb, cs.weights)["raw"]
                    lc_reps = lc_win_rate(sa, sb, la, lb, cs.weights)
                lc = float(lc_win_rate(sa, sb, la, lb)[0])
                raw_lo, raw_hi = cs.interval(raw_reps)
                lc_lo, lc_hi = cs.interval(lc_reps)
                balance = float(length_balance(la, lb)[0])
                win, tie, loss = (float(point[k][0]) for k in ("win", "tie", "loss"))
                raw = float(point["raw"][0])
                rows.append(dict(
                    role=role, model_a=a, model_b=b, trial_a=ta, trial_b=tb,
                    source_a=src_a, source_b=src_b, n_a=len(runs_a), n_b=len(runs_b),
                    win=win, tie=tie, loss=loss, raw=raw,
                    raw_lo=float(raw_lo), raw_hi=float(raw_hi),
                    lc=lc, lc_lo=float(lc_lo), lc_hi=float(lc_hi), length_balance=balance))
                # B over A: the complement (LC(B, A) = 100 - LC(A, B) by the fit's symmetry;
                # the percentile interval of 100 - x is 100 minus the flipped bounds)
                rows.append(dict(
                    role=role, model_a=b, model_b=a, trial_a=tb, trial_b=ta,
                    source_a=src_b, source_b=src_a, n_a=len(runs_b), n_b=len(runs_a),
                    win=loss, tie=tie, loss=win, raw=100.0 - raw,
                    raw_lo=100.0 - float(raw_hi), raw_hi=100.0 - float(raw_lo),
                    lc=100.0 - lc, lc_lo=100.0 - float(lc_hi), lc_hi=100.0 - float(lc_lo),
                    length_balance=balance))
    return pd.DataFrame(rows, columns=[
        "role", "model_a", "model_b", "trial_a", "trial_b", "source_a", "source_b", "n_a",
        "n_b", "win", "tie", "loss", "raw", "raw_lo", "raw_hi", "lc", "lc_lo", "lc_hi",
        "length_balance"])


def missing_models(study: Study, reps: pd.DataFrame, roles=tuple(ROLES)) -> pd.DataFrame:
    """Representatives without completed runs (failed/diverged): method, role, trial_id,
    status."""
    frames = [_models(study, reps, r) for r in roles]
    both = pd.concat(frames, ignore_index=True)
    return both[~both["ok"]][["method", "role", "trial_id", "status"]].reset_index(drop=True)


def elo_table(study: Study, cs: ConfigScores, reps: pd.DataFrame,
              roles=tuple(ROLES)) -> pd.DataFrame:
    """Bradley-Terry Elo of every representative model and SFT (anchored at 1000), fitted on
    all pairwise per-prompt results, with hierarchical bootstrap intervals.

    Columns: model ("<method>:<role>" or "sft"), method, role, trial_id, elo, lo, hi.
    """
    names, ids, meta, runs = [SFT], [SFT], [(SFT, "", SFT)], [[SFT]]
    for role in roles:
        for r in _models(study, reps, role).itertuples():
            if r.ok and r.config_id not in ids:
                names.append(f"{r.method}:{role}")
                ids.append(r.config_id)
                meta.append((r.method, role, r.trial_id))
                runs.append(list(r.trials))
            elif r.ok:  # best and top25 are the same config (tiny grids): one model, one name
                j = ids.index(r.config_id)
                names[j] = f"{r.method}:{meta[j][1]}+{role}"
    vec = _Vectors(study, cs)
    got = [vec.get(m[0], rr) for m, rr in zip(meta, runs)]
    point = bradley_terry([g[0] for g in got], anchor=0)[0]
    reps_scores = [g[0] if g[1] is None else g[1] for g in got]
    elo_reps = bradley_terry(reps_scores, anchor=0, weights=cs.weights)
    lo, hi = cs.interval(elo_reps)
    out = pd.DataFrame({
        "model": names, "method": [m[0] for m in meta], "role": [m[1] for m in meta],
        "trial_id": [m[2] for m in meta], "elo": point, "lo": lo, "hi": hi,
    })
    return out.sort_values(["elo", "model"], ascending=[False, True]).reset_index(drop=True)
