"""Grid expansion: a validated :class:`~harness.config.Study` -> one :class:`TrialSpec` per trial.

For each method under ``methods:`` (in YAML order), the trials are the Cartesian product of its
grid's axes (:meth:`Study.axes`: the method's own axes in registration order, then the shared
ones) and its seeds, the first axis varying slowest. Each combination is resolved by the
method's registration (:meth:`harness.objectives.Objective.resolve`): values checked, derived
axes filled in (an axis registered with ``derived_from``).

Ids (docs/config.md, "Trials and their ids"):

- ``trial_id`` is ``<method>-<12 hex digits>``, a SHA-256 digest of the trial's *id key* and of
  :meth:`Study.hash` (the settings that change a trial's result). The id key is the method,
  every resolved axis registered with ``in_id`` (an alternative spelling of another axis is
  left out: the same value written either way is the same trial) and the seed.
- ``config_id`` is ``<method>-<digest>`` of the same without the seed: the replicates of one
  configuration share it.
- A confirmation run (role ``confirm``, :func:`confirm_spec`) adds ``"role": "confirm"`` to its
  id key: it never shares an id with a grid trial of the same seed, and keeps its config's
  ``config_id``.

Each trial also carries its sampling seed, ``generation_seed``
(:meth:`harness.config.sections.GenerationConfig.sampling_seed`: ``generation.seed``, or the
training seed under ``per_replicate``); it is a function of the study hash and the seed, so it
needs no place in the id.

So the same YAML gives the same ids; changing one grid value changes only the trials that use
it; changing a result setting changes every id; bookkeeping (study name, folders, resources,
ray) changes none.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping

from harness.config import ConfigError, Study, result_settings_canonical
from harness.io import hash_json
from harness.objectives import OBJECTIVES, SEED, HyperparameterError, check_seed
from harness.schema import ROLE_CONFIRM, ROLE_GRID

TRIAL_ID_DIGITS = 12  # 48 bits: 10^6 trials of one method collide with probability ~0.002

# The keys of TrialSpec.to_dict() that are not axis values.
SPEC_KEYS = ("trial_id", "config_id", "method", "role", SEED, "generation_seed")
"""The keys of a TrialSpec's ``to_dict()`` that are not axis values."""


@dataclass(frozen=True)
class TrialSpec:
    """One trial: a method, its resolved axis values (display order), its training seed, its
    role ("grid" or "confirm") and its sampling seed.

    ``to_dict()`` is flat, ``{trial_id, config_id, method, role, seed, generation_seed,
    <axis>: value, ...}``: the start of the trial's results row, the names being the results
    columns.
    """

    trial_id: str
    config_id: str
    method: str
    values: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    role: str = ROLE_GRID
    generation_seed: int = 0

    def hyperparameters(self) -> dict:
        """Every axis value of the trial (the method's own, derived ones included, then the
        shared ones)."""
        return dict(self.values)

    def to_dict(self) -> dict:
        return {"trial_id": self.trial_id, "config_id": self.config_id, "method": self.method,
                "role": self.role, SEED: self.seed, "generation_seed": self.generation_seed,
                **self.values}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrialSpec":
        """Inverse of :meth:`to_dict` (every key beyond the fixed ones is an axis value; None
        values, a mixed table's gaps, are dropped)."""
        values = {k: v for k, v in data.items() if k not in SPEC_KEYS and v is not None}
        seed = int(data[SEED])
        return cls(data["trial_id"], data["config_id"], data["method"], values, seed,
                   data.get("role") or ROLE_GRID, int(data.get("generation_seed", seed)))


def id_key(method: str, resolved: Mapping[str, Any], seed: int | None,
           role: str = ROLE_GRID) -> dict:
    """What a trial id digests: the method, its ``in_id`` axis values, (unless None) the seed
    and, for a confirmation run, its role."""
    key = {"method": method, **OBJECTIVES[method].id_values(resolved)}
    if seed is not None:
        key[SEED] = seed
    if role != ROLE_GRID:
        key["role"] = role
    return key


def _digest(key: dict, study_hash: str) -> str:
    digest = hash_json(result_settings_canonical({"trial": key, "study": study_hash}), TRIAL_ID_DIGITS)
    return f"{key['method']}-{digest}"


def trial_id(method: str, resolved: Mapping[str, Any], seed: int, study_hash: str,
             role: str = ROLE_GRID) -> str:
    """``<method>-<digest>`` of one trial's id key and the study's hash."""
    return _digest(id_key(method, resolved, seed, role), study_hash)


def config_id(method: str, resolved: Mapping[str, Any], study_hash: str) -> str:
    """``<method>-<digest>`` of the id key without the seed: shared by a config's replicates."""
    return _digest(id_key(method, resolved, None), study_hash)


def expand(study: Study) -> list[TrialSpec]:
    """Every trial of the study, in a stable order (see the module docstring)."""
    study_hash = study.hash()
    sampling = study.generation
    specs: list[TrialSpec] = []
    for method in study.methods:
        objective = OBJECTIVES[method]
        axes = study.axes(method)
        for combo in itertools.product(*axes.values(), study.seeds(method)):
            *values, seed = combo
            try:
                resolved = objective.resolve(dict(zip(axes, values)))
                seed = check_seed(seed, method)
            except HyperparameterError as e:
                raise ConfigError(study.study, [(f"methods.{method}.{e.parameter}", str(e))]) from None
            specs.append(TrialSpec(
                trial_id=trial_id(method, resolved, seed, study_hash),
                config_id=config_id(method, resolved, study_hash),
                method=method, values=resolved, seed=seed,
                generation_seed=sampling.sampling_seed(seed),
            ))
    seen: dict[str, TrialSpec] = {}
    for spec in specs:
        if spec.trial_id in seen:
            raise ConfigError(
                study.study,
                [(f"methods.{spec.method}", f"two grid points are the same trial: {seen[spec.trial_id]} and {spec}")],
            )
        seen[spec.trial_id] = spec
    return specs


def confirm_spec(study: Study, grid_spec: TrialSpec, seed: int) -> TrialSpec:
    """A confirmation run of ``grid_spec``'s config on training seed ``seed``: role
    ``confirm``, its own trial id, the config's ``config_id`` and axis values."""
    seed = check_seed(seed, grid_spec.method)
    return TrialSpec(
        trial_id=trial_id(grid_spec.method, grid_spec.values, seed, study.hash(), ROLE_CONFIRM),
        config_id=grid_spec.config_id, method=grid_spec.method, values=dict(grid_spec.values),
        seed=seed, role=ROLE_CONFIRM, generation_seed=study.generation.sampling_seed(seed),
    )


def methods_block(study: Study) -> dict:
    """``study.json``'s ``methods``: per method of the study, its label, needs and the axes of
    its grid in display order (shared axes last), each with its scale, label and, for a value
    derived from others in this study, ``derived_from``."""
    out = {}
    for method in study.methods:
        objective = OBJECTIVES[method]
        given = study.axes(method)
        axes = []
        for axis in objective.all_axes():
            derived = bool(axis.derived_from) and axis.name not in given and all(
                s in given for s in axis.derived_from)
            if axis.name in given or derived:
                axes.append(axis.describe(derived=derived))
        out[method] = {
            "label": objective.label,
            "needs_reference": objective.needs_reference,
            "needs_chosen_nll": objective.needs_chosen_nll,
            "axes": axes,
        }
    return out
