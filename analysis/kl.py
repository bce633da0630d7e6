"""How far the policies drift from the SFT model: the KL columns, summarised honestly.

Per response, ``kl`` is the exact KL of the sampled response: the sum over its positions of the
full-vocabulary KL(pi_theta(.|x, y<t) || pi_sft(.|x, y<t)), >= 0 by construction. ``kl_sample``
(when present) is the sampled-token estimate ``sum_t log pi_theta(y_t) - log pi_sft(y_t)``:
unbiased for the same sequence KL, but noisy and negative for some responses. Results written
before the exact KL existed hold the sampled-token estimate in ``kl`` (``Study.kl_exact`` is
False), so their per-response KL can be negative.

Per-token KL is always a ratio of means, ``sum of kl / sum of length`` over a trial's (or a
config's, or a prompt's) responses: a mean of per-response ratios overweights short responses
and, with the sampled estimate, can come out negative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import Study
from harness.schema import STATUS_OK


def kl_summary(study: Study) -> pd.DataFrame:
    """Per method, over the responses of its completed grid trials: n_responses, mean_kl,
    kl_per_token (ratio of means), share_negative (responses with kl < 0), and, when the
    study has the sampled-token estimate, mean_kl_sample and share_negative_sample."""
    grid = study.grid
    ok_ids = grid.loc[grid["status"] == STATUS_OK, ["trial_id", "method"]]
    r = study.responses.merge(ok_ids, on="trial_id")
    rows = []
    for m in study.methods:
        sub = r[r["method"] == m]
        n = len(sub)
        row = dict(method=m, n_responses=n,
                   mean_kl=float(sub["kl"].mean()) if n else np.nan,
                   kl_per_token=float(sub["kl"].sum() / sub["length"].sum()) if n else np.nan,
                   share_negative=float((sub["kl"] < 0).mean()) if n else np.nan,
                   mean_kl_sample=np.nan, share_negative_sample=np.nan)
        if study.kl_exact and n:
            row.update(mean_kl_sample=float(sub["kl_sample"].mean()),
                       share_negative_sample=float((sub["kl_sample"] < 0).mean()))
        rows.append(row)
    return pd.DataFrame(rows)
