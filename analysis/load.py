"""Read and validate a results folder (docs/analysis.md, "Reading a results folder").

``load_study(path)`` returns a ``Study``: the study.json metadata, each method's label and axes
(``analysis.methods``), and the tables, checked against the results contract and sorted
canonically (methods in the study's order, then by ``trial_id``; samples by trial then prompt),
so every result downstream is independent of the row order on disk. Errors name the file, the
column or the trial at fault.

Results written before the v2 contract lack ``config_id``, ``role``, ``generation_seed``,
``study_hash``, ``mean_kl_sample``, ``gpu_hours`` (trials) and ``sample_index``, ``finished``,
``kl_sample`` (samples); they get defaults: trials of one method with equal axis values are
replicates of one config, every row is a grid row, one sample per prompt, and ``kl`` is then the
sampled-token estimate (``Study.kl_exact`` is False). Two things are always recomputed from the
samples: each trial's ``kl_per_token`` = sum of kl / sum of length (a ratio of means; older
results stored a mean of per-response ratios), and the per-prompt table ``Study.samples``, which
averages the responses of each (trial, prompt) so that the prompt is the unit of every
per-prompt comparison (``Study.responses`` keeps the raw rows).

Only the trials of the study's config are taken: those in study.json's ``trial_ids`` whose
``study_hash`` is study.json's (``harness.schema.exclusion_reason``); a results folder written
by an older harness, without these, is taken whole. The harness keeps other rows out of the
tables already and counts them in study.json's ``excluded``; this guards tables that are older
than their study.json (e.g. a sweep interrupted before it rewrote them).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness import schema
from harness.errors import UserError
from harness.schema import BASELINE_TRIAL_ID, STATUS_OK, STATUSES, STUDY_HASH, exclusion_reason
from analysis.methods import MethodInfo, method_infos

FILES = ("study.json", "trials.parquet", "samples.parquet", "baseline.parquet")
MEAN_SCORE_TOL = 1e-4
ROLE_GRID = "grid"
ROLE_CONFIRM = "confirm"
ROLES = (ROLE_GRID, ROLE_CONFIRM)

# Columns the v2 results contract added; older results lack them and get these defaults
# (config_id: derived from the method and its axis values; kl_per_token: recomputed).
NEW_TRIAL_COLUMNS = {
    "config_id": None,
    "role": ROLE_GRID,
    "generation_seed": np.nan,
    "study_hash": None,
    "kl_per_token": np.nan,
    "mean_kl_sample": np.nan,
    "gpu_hours": np.nan,
}
# Per-token KL as older results stored it (a mean of per-response ratios): never an axis.
OLD_TRIAL_COLUMNS = ("mean_kl_per_token",)
NEW_SAMPLE_COLUMNS = {"sample_index": 0, "finished": True, "kl_sample": np.nan}
SAMPLE_MEAN_COLUMNS = ("length", "score", "kl", "kl_sample", "chosen_score", "sft_score")


class ResultsError(UserError, ValueError):
    """A results folder that breaks the layout contract."""


def trial_base_columns() -> tuple[str, ...]:
    """trials.parquet's base columns (every study has them; hyperparameter axes come on top)."""
    return tuple(schema.TRIAL_BASE_COLUMNS)


def required_trial_columns() -> tuple[str, ...]:
    """Base columns every results folder has, old or new (the v2 additions are optional)."""
    optional = set(NEW_TRIAL_COLUMNS) | set(OLD_TRIAL_COLUMNS)
    return tuple(c for c in trial_base_columns() if c not in optional)


def required_sample_columns() -> tuple[str, ...]:
    return tuple(c for c in schema.SAMPLE_COLUMNS if c not in NEW_SAMPLE_COLUMNS)


def non_axis_columns() -> set[str]:
    return set(trial_base_columns()) | set(NEW_TRIAL_COLUMNS) | set(OLD_TRIAL_COLUMNS)


@dataclass(frozen=True)
class Study:
    """One results folder. ``trials`` holds grid and confirmation rows (``role``);
    ``samples`` one row per (trial, prompt) (responses averaged); ``responses`` the raw rows;
    ``baseline`` the SFT model's per-prompt rows; ``infos`` each method's label and axes."""

    path: Path
    meta: dict
    trials: pd.DataFrame
    samples: pd.DataFrame
    baseline: pd.DataFrame
    responses: pd.DataFrame
    infos: dict
    kl_exact: bool = True
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return str(self.meta.get("study") or self.path.name)

    @property
    def methods(self) -> list[str]:
        """Methods present, in the study's order (``analysis.load.method_order``)."""
        return list(self.infos)

    def info(self, method: str) -> MethodInfo:
        if method not in self.infos:
            raise KeyError(f"method {method!r} not in study {self.name!r} (has {self.methods})")
        return self.infos[method]

    def label(self, method: str) -> str:
        return self.infos[method].label if method in self.infos else method

    @property
    def labels(self) -> dict[str, str]:
        return {m: i.label for m, i in self.infos.items()}

    @property
    def grid(self) -> pd.DataFrame:
        """The grid's rows (``role == "grid"``): what every grid statistic is computed on."""
        return self.trials[self.trials["role"] == ROLE_GRID]

    @property
    def confirm(self) -> pd.DataFrame:
        """Confirmation rows: fresh-seed re-runs of selected configs (``role == "confirm"``)."""
        return self.trials[self.trials["role"] == ROLE_CONFIRM]

    @property
    def prompt_ids(self) -> list[str]:
        """Eval prompts in canonical (sorted) order: the columns of every matrix."""
        return list(self.baseline["prompt_id"])

    @property
    def seeds(self) -> list:
        return sorted(self.grid["seed"].dropna().unique().tolist())

    def method_trials(self, method: str, role: str = ROLE_GRID) -> pd.DataFrame:
        rows = self.trials[(self.trials["method"] == method) & (self.trials["role"] == role)]
        if rows.empty and method not in self.infos:
            raise KeyError(f"method {method!r} not in study {self.name!r} (has {self.methods})")
        return rows

    def matrix(self, column: str, trial_ids=None) -> np.ndarray:
        """(n_trials, n_prompts) array of a per-prompt ``samples`` column; NaN rows for trials
        without samples. Rows follow ``trial_ids`` (default: ``trials.trial_id``), columns
        ``prompt_ids``."""
        key = ("matrix", column)
        if key not in self._cache:
            wide = self.samples.pivot(index="trial_id", columns="prompt_id", values=column)
            self._cache[key] = wide.reindex(columns=self.prompt_ids).astype(float)
        wide = self._cache[key]
        ids = list(self.trials["trial_id"] if trial_ids is None else trial_ids)
        return wide.reindex(index=ids).to_numpy(dtype=float)

    def baseline_vector(self, column: str) -> np.ndarray:
        """(n_prompts,) array of the SFT model's ``column``, in ``prompt_ids`` order."""
        return self.baseline[column].to_numpy(dtype=float)

    @property
    def sft_score(self) -> float:
        return float(self.baseline["score"].mean())

    @property
    def samples_per_prompt(self) -> int:
        return int(self.samples["n_samples"].max()) if len(self.samples) else 1


def method_order(methods, meta: dict | None = None, trials: pd.DataFrame | None = None):
    """The study's method order: first appearance in study.json's ``trial_ids`` (the grid's
    expansion order, which follows the study YAML), then the remaining methods alphabetically."""
    methods = set(methods)
    order = []
    ids = (meta or {}).get("trial_ids")
    if ids and trials is not None:
        by_id = dict(zip(trials["trial_id"], trials["method"]))
        order = [m for m in dict.fromkeys(by_id.get(t) for t in ids) if m in methods]
    return order + sorted(methods - set(order))


def load_study(path: str | Path) -> Study:
    """Read ``path`` (a ``results/<study>/`` folder), validate it and return a ``Study``."""
    path = Path(path)
    if not path.is_dir():
        raise ResultsError(f"results folder {path} does not exist")
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        raise ResultsError(f"results folder {path} lacks {', '.join(missing)}")
    try:
        meta = json.loads((path / "study.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path / 'study.json'} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise ResultsError(f"{path / 'study.json'} is not a JSON object")
    trials, samples, baseline = (_read_parquet(path / f) for f in FILES[1:])
    trials, samples = own_trials(trials, samples, meta)
    return build_study(trials, samples, baseline, meta=meta, where=path)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001  (pyarrow raises many types for a damaged file)
        raise ResultsError(f"{path} is not a readable parquet table ({type(exc).__name__}: "
                           f"{exc})") from exc


def own_trials(trials: pd.DataFrame, samples: pd.DataFrame, meta: dict):
    """The rows of the study's own trials (see the module docstring)."""
    ids, study_hash = meta.get("trial_ids"), meta.get("study_hash")
    if ids is None or study_hash is None or "trial_id" not in trials.columns:
        return trials, samples
    ids = set(ids)
    hashes = trials[STUDY_HASH] if STUDY_HASH in trials.columns else [None] * len(trials)
    keep = [exclusion_reason(t, h, study_hash, ids) is None
            for t, h in zip(trials["trial_id"], hashes)]
    dropped = set(trials.loc[[not k for k in keep], "trial_id"])
    trials = trials[keep].reset_index(drop=True)
    # Only the samples of trials set aside go with them: a samples row of a trial that
    # trials.parquet does not list at all is damage, reported by build_study.
    if "trial_id" in samples.columns and dropped:
        samples = samples[~samples["trial_id"].isin(dropped)].reset_index(drop=True)
    return trials, samples


def _require_columns(df: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ResultsError(f"{name} lacks column(s) {missing}")


def _config_key(row: pd.Series, names: list[str]) -> str:
    values = {n: (None if pd.isna(row[n]) else round(float(row[n]), 12)) for n in names}
    blob = json.dumps(values, sort_keys=True).encode()
    return f"{row['method']}-{hashlib.sha256(blob).hexdigest()[:8]}"


def build_study(trials, samples, baseline, meta: dict | None = None,
                where: str | Path = "results") -> Study:
    """Validate the three tables (and study.json's ``meta``) and return a canonical ``Study``."""
    meta = meta or {}
    where = Path(where)
    t_name, s_name, b_name = (str(where / f) for f in FILES[1:])
    _require_columns(trials, required_trial_columns(), t_name)
    _require_columns(samples, required_sample_columns(), s_name)
    _require_columns(baseline, required_sample_columns(), b_name)
    if trials.empty:
        raise ResultsError(f"{t_name} has no trials")

    trials = trials.copy()
    for c, default in NEW_TRIAL_COLUMNS.items():
        if c not in trials:
            trials[c] = default
    trials["role"] = trials["role"].fillna(ROLE_GRID)
    dup = trials["trial_id"][trials["trial_id"].duplicated()]
    if len(dup):
        raise ResultsError(f"{t_name}: duplicate trial_id {sorted(set(dup))[:5]}")
    for column, allowed in (("status", STATUSES), ("role", ROLES)):
        bad = trials[~trials[column].isin(allowed)]
        if len(bad):
            row = bad.iloc[0]
            raise ResultsError(f"{t_name}: trial {row['trial_id']!r} has {column} "
                               f"{row[column]!r}, not one of {tuple(allowed)}")
    if not (trials["role"] == ROLE_GRID).any():
        raise ResultsError(f"{t_name} has no grid trials (every row has role 'confirm')")

    order = method_order(trials["method"].unique(), meta, trials)
    candidates = [c for c in trials.columns if c not in non_axis_columns()]
    infos = method_infos(meta, trials, candidates, order)
    for m, info in infos.items():
        if info.registered:
            lacking = [a for a in info.names if a not in trials.columns]
            if lacking:
                raise ResultsError(f"{t_name} lacks column(s) {lacking}: axes of method {m!r} "
                                   "in study.json")
    # A config is its method plus every axis value: replicates (seeds) share it.
    no_id = trials["config_id"].isna()
    if no_id.any():
        trials.loc[no_id, "config_id"] = [
            _config_key(r, [a for a in infos[r["method"]].names if a in trials.columns])
            for _, r in trials[no_id].iterrows()]

    responses = _samples_table(samples, s_name)
    base_rows = _samples_table(baseline, b_name)
    wrong = base_rows[base_rows["trial_id"] != BASELINE_TRIAL_ID]
    if len(wrong):
        raise ResultsError(f"{b_name}: trial_id must be {BASELINE_TRIAL_ID!r}, "
                           f"found {wrong['trial_id'].iloc[0]!r}")
    if base_rows.empty:
        raise ResultsError(f"{b_name} has no rows")
    prompts = set(base_rows["prompt_id"])

    unknown = set(responses["trial_id"]) - set(trials["trial_id"])
    if unknown:
        raise ResultsError(
            f"{s_name}: rows for trial(s) not in trials.parquet: {sorted(unknown)[:5]}")
    per_trial = responses.groupby("trial_id")["prompt_id"].agg(set)
    for row in trials.itertuples(index=False):
        got = per_trial.get(row.trial_id)
        if row.status == STATUS_OK:
            if got != prompts:
                n = 0 if got is None else len(got & prompts)
                raise ResultsError(
                    f"{s_name}: ok trial {row.trial_id!r} has samples for {n} of the "
                    f"{len(prompts)} baseline prompts (every ok trial needs all of them)"
                )
        elif got:
            raise ResultsError(f"{s_name}: {row.status} trial {row.trial_id!r} has samples rows")

    trials["_order"] = trials["method"].map({m: i for i, m in enumerate(order)})
    trials = (trials.sort_values(["_order", "trial_id"], kind="stable")
              .drop(columns="_order").reset_index(drop=True))
    responses = responses.sort_values(["trial_id", "prompt_id", "sample_index"],
                                      kind="stable").reset_index(drop=True)
    per_prompt = _per_prompt(responses)
    baseline = _per_prompt(base_rows.sort_values(["prompt_id", "sample_index"], kind="stable"))

    sums = responses.groupby("trial_id")[["score", "kl", "length"]].agg(["mean", "sum"])
    ok = trials["status"] == STATUS_OK
    for row in trials[ok].itertuples(index=False):
        m = sums.at[row.trial_id, ("score", "mean")]
        if not math.isclose(m, row.mean_score, rel_tol=MEAN_SCORE_TOL, abs_tol=MEAN_SCORE_TOL):
            raise ResultsError(f"{t_name}: trial {row.trial_id!r} has mean_score "
                               f"{row.mean_score!r} but its samples average {m!r}")
    ids = trials.loc[ok, "trial_id"]
    with np.errstate(divide="ignore", invalid="ignore"):
        trials.loc[ok, "kl_per_token"] = (ids.map(sums[("kl", "sum")])
                                          / ids.map(sums[("length", "sum")])).to_numpy(float)
    trials.loc[~ok, "kl_per_token"] = np.nan
    kl_exact = "kl_sample" in samples.columns and bool(samples["kl_sample"].notna().any())
    return Study(path=where, meta=meta, trials=trials, samples=per_prompt, baseline=baseline,
                 responses=responses, infos=infos, kl_exact=kl_exact)


def _samples_table(df: pd.DataFrame, name: str) -> pd.DataFrame:
    df = df.copy()
    for c, default in NEW_SAMPLE_COLUMNS.items():
        if c not in df:
            df[c] = default
    df["sample_index"] = df["sample_index"].fillna(0).astype(int)
    key = ["trial_id", "prompt_id", "sample_index"]
    dup = df.duplicated(key)
    if dup.any():
        row = df[dup].iloc[0]
        raise ResultsError(f"{name}: trial {row['trial_id']!r} has prompt {row['prompt_id']!r} "
                           f"sample {row['sample_index']} twice")
    return df


def _per_prompt(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (trial, prompt): the mean of each numeric column over the prompt's samples,
    ``kl_per_token`` = sum of kl / sum of length over them (a ratio of means), ``n_samples``,
    and the first response's text. ``rows`` must be sorted by trial, prompt, sample."""
    if not rows.duplicated(["trial_id", "prompt_id"]).any():  # one sample per prompt
        out = rows.drop(columns="sample_index").reset_index(drop=True)
        out["n_samples"] = 1
    else:
        g = rows.groupby(["trial_id", "prompt_id"], sort=True)
        cols = [c for c in SAMPLE_MEAN_COLUMNS if c in rows]
        out = g[cols].mean()
        out["finished"] = g["finished"].mean()
        out["response"] = g["response"].first()
        out["n_samples"] = g.size()
        out = out.reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["kl_per_token"] = out["kl"] / out["length"]
    return out
