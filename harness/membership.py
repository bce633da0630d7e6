"""Which trials belong to a study: the one definition the sweep, :func:`harness.results.
consolidate` and (through study.json's ``trial_ids`` and ``study_hash``) ``analysis.load`` use.

A trial belongs to the study when it is in :func:`study_trials` and its row was made under the
study's ``study_hash`` (:func:`harness.schema.exclusion_reason`). The trial set is the expanded
grid (role ``grid``) followed by the confirmation runs recorded in the results folder by
``--confirm`` (role ``confirm``, :mod:`harness.confirm`) under the same study hash. Nothing
downstream needs more: consolidate and analysis only ever see ``trial_ids``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from harness.schema import ROLE_GRID


@dataclass(frozen=True)
class TrialSet:
    """The trials of one study config. ``specs`` are TrialSpec-like (``trial_id``, ``seed``,
    ``to_dict()``), in run order."""

    study_hash: str
    specs: tuple
    confirm: object = None  # the ConfirmRecord the confirmation specs came from, if any

    @cached_property
    def ids(self) -> frozenset[str]:
        return frozenset(s.trial_id for s in self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    @property
    def grid(self) -> tuple:
        return tuple(s for s in self.specs if s.role == ROLE_GRID)


def study_trials(study, confirm=None) -> TrialSet:
    """The current study's trial set: the expanded grid (:func:`harness.grid.expand`), then the
    confirmation runs of ``confirm`` (a :class:`harness.confirm.ConfirmRecord`; by default the
    one recorded in the study's results folder)."""
    from harness.confirm import read_record
    from harness.grid import expand

    study_hash = study.hash()
    grid = tuple(expand(study))
    if confirm is None:
        confirm = read_record(study.results_path, study_hash)
    extra = tuple(confirm.specs) if confirm is not None else ()
    return TrialSet(study_hash, grid + extra, confirm)
