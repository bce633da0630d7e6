"""Confirmation runs: ``python -m harness.sweep STUDY --confirm K``.

Reporting the grid score of the config that won the grid uses the same noise twice (the winner's
curse). ``--confirm K`` re-trains each method's ``best`` and ``top25`` configs
(:mod:`harness.selection`, ranked by their mean grid score over seeds) on K fresh training seeds,
as new trials of role ``confirm``: their own trial ids (:func:`harness.grid.confirm_spec`), the
config's ``config_id``. The analysis then estimates the selected configs from these runs.

- Fresh seeds: ``max(grid seeds) + 1 .. max(grid seeds) + K`` (every method's grid seeds
  counted), so they are deterministic and never a grid seed. ``--confirm 3`` after
  ``--confirm 2`` adds the third seed only; the same ``--confirm K`` again adds nothing.
- The selection needs the whole grid recorded (failed trials count, at the failure floor): a
  study with grid trials still to run is an error naming how many.
- What was added is recorded in ``results/<study>/confirm.json`` (:data:`CONFIRM_FILE`: the
  study hash, the seeds, each method's selected configs and the trial specs). The study's
  trial set (:func:`harness.membership.study_trials`) reads it, so confirmation trials belong to
  the study like grid trials: a plain re-run finishes the missing ones, nothing prunes them, and
  study.json lists them (``trial_ids``, ``confirm``). A record made under other settings (another
  study hash) is not part of the study; the next ``--confirm`` replaces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.schema import ROLE_GRID

CONFIRM_FILE = "confirm.json"


class ConfirmError(UserError, ValueError):
    """``--confirm`` cannot select yet (grid incomplete) or its record is unreadable."""


@dataclass(frozen=True)
class ConfirmRecord:
    """``confirm.json``: ``seeds`` (sorted), ``configs`` ({method: {role: config_id}}, the
    latest selection) and ``specs`` (TrialSpecs of role confirm, in run order)."""

    study_hash: str
    seeds: tuple
    configs: dict
    specs: tuple

    def to_dict(self) -> dict:
        return {"study_hash": self.study_hash, "seeds": list(self.seeds),
                "configs": self.configs, "trials": [s.to_dict() for s in self.specs]}

    def summary(self) -> dict:
        """study.json's ``confirm`` block."""
        return {"seeds": list(self.seeds), "configs": self.configs, "n_trials": len(self.specs)}


def read_record(results: Path, study_hash: str) -> ConfirmRecord | None:
    """The confirmation record of ``results`` when it was made under ``study_hash``; None when
    there is none or it belongs to other settings."""
    from harness.grid import TrialSpec

    path = Path(results) / CONFIRM_FILE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("study_hash") != study_hash:
            return None
        specs = tuple(TrialSpec.from_dict(t) for t in raw["trials"])
        return ConfirmRecord(study_hash, tuple(raw["seeds"]), dict(raw["configs"]), specs)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfirmError(f"{path}: not a readable confirmation record ({e}); delete it and run "
                           "--confirm again") from None


def fresh_seeds(grid_specs, k: int) -> list[int]:
    """``max(grid seeds) + 1 .. + k``."""
    start = max(s.seed for s in grid_specs) + 1
    return list(range(start, start + k))


def grid_table(grid_specs, rows: dict) -> pd.DataFrame:
    """The recorded rows of ``grid_specs`` (trial_id, config_id, method, status, mean_score);
    :class:`ConfirmError` when some grid trial is not recorded yet."""
    missing = [s.trial_id for s in grid_specs if s.trial_id not in rows]
    if missing:
        raise ConfirmError(
            f"--confirm: {len(missing)} of the study's {len(grid_specs)} grid trials are not "
            f"recorded yet (e.g. {missing[0]}); run the study first (the same command without "
            "--confirm), then --confirm"
        )
    return pd.DataFrame([{"trial_id": s.trial_id, "config_id": s.config_id, "method": s.method,
                          "role": ROLE_GRID, "status": rows[s.trial_id].get("status"),
                          "mean_score": rows[s.trial_id].get("mean_score")}
                         for s in grid_specs])


def plan(study, grid_specs, rows: dict, sft_score: float, k: int,
         previous: ConfirmRecord | None = None) -> ConfirmRecord:
    """The confirmation record after ``--confirm k``: the selection of the recorded grid
    ``rows`` (``trial_id -> row``), each selected config (once, when best and top25 coincide)
    on :func:`fresh_seeds`, merged with ``previous`` (its trials stay in the set)."""
    from harness.grid import confirm_spec
    from harness.selection import config_scores, selected

    chosen = selected(config_scores(grid_table(grid_specs, rows), sft_score))
    first = {}
    for s in grid_specs:
        first.setdefault(s.config_id, s)
    seeds = fresh_seeds(grid_specs, k)
    specs = {s.trial_id: s for s in (previous.specs if previous else ())}
    for config_id in dict.fromkeys(chosen["config_id"]):
        for seed in seeds:
            spec = confirm_spec(study, first[config_id], seed)
            specs.setdefault(spec.trial_id, spec)
    configs = {m: {r.role: r.config_id for r in g.itertuples()}
               for m, g in chosen.groupby("method", sort=False)}
    all_seeds = sorted(set(seeds) | set(previous.seeds if previous else ()))
    return ConfirmRecord(study.hash(), tuple(all_seeds), configs, tuple(specs.values()))


def write_record(results: Path, record: ConfirmRecord) -> None:
    from harness.io import write_json_atomic

    write_json_atomic(Path(results) / CONFIRM_FILE, record.to_dict())


def describe(record: ConfirmRecord, new: int) -> str:
    """One line: the fresh seeds, each method's selected configs, how many trials are new."""
    parts = []
    for method, roles in record.configs.items():
        same = len(set(roles.values())) == 1
        parts.append(f"{method}: best {roles['best']}"
                     + (" (= top25)" if same else f", top25 {roles['top25']}"))
    return (f"confirm: seeds {list(record.seeds)} for {'; '.join(parts)}: "
            f"{len(record.specs)} confirmation trials, {new} new")
