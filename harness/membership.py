"""Which trials belong to a study: the one definition the sweep, :func:`harness.results.
consolidate` and (through study.json's ``trial_ids`` and ``study_hash``) ``analysis.load`` use.

A trial belongs to the study when it is in :func:`study_trials` and its row was made under the
study's ``study_hash`` (:func:`harness.schema.exclusion_reason`). Today the trial set is the
expanded grid (every trial has role ``grid``). Confirmation runs (extra trials of role
``confirm``, recorded in the same results folder) join the set here, and nothing downstream
changes: consolidate and analysis only ever see ``trial_ids``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class TrialSet:
    """The trials of one study config. ``specs`` are TrialSpec-like (``trial_id``, ``seed``,
    ``to_dict()``), in run order."""

    study_hash: str
    specs: tuple

    @cached_property
    def ids(self) -> frozenset[str]:
        return frozenset(s.trial_id for s in self.specs)

    def __len__(self) -> int:
        return len(self.specs)


def study_trials(study) -> TrialSet:
    """The current study's trial set: today, the expanded grid (:func:`harness.grid.expand`)."""
    from harness.grid import expand

    return TrialSet(study.hash(), tuple(expand(study)))
