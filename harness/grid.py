"""Grid expansion: a validated :class:`~harness.config.Study` -> one :class:`TrialSpec` per trial.

For each method under ``methods:`` (in YAML order), the trials are the Cartesian product of its
own axes (``beta``; SimPO's ``gamma`` or ``gamma_beta_ratio``) and the shared axes
``learning_rate``, ``epochs``, ``seed`` (the method's own list if it gives one, else ``grid:``'s),
the first axis varying slowest.

``trial_id`` is ``<method>-<10 hex digits>``: a SHA-256 digest of the trial's resolved
hyperparameters (``method, beta, gamma, learning_rate, epochs, seed``, with SimPO's absolute
``gamma``) and of :meth:`Study.hash`, the digest of the settings that change a trial's result
(``toyworld, data, policy, judge, generation, training``, defaults filled in). So the same YAML
gives the same ids; changing one grid value changes only the trials that use it; changing e.g.
``training.batch_size`` changes every id; the study name, ``results_dir``, ``artifacts_dir``,
``resources`` and ``ray`` change none. ``gamma_beta_ratio`` is left out of the digest: the same
absolute margin written either way is the same trial.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, fields

from harness.config import ConfigError, Study, result_settings_canonical
from harness.io import hash_json
from harness.objectives import OBJECTIVES, validate_trial_hparams

TRIAL_ID_DIGITS = 10


@dataclass(frozen=True)
class TrialSpec:
    """One trial: a method and its hyperparameters, the names being the results columns."""

    trial_id: str
    method: str
    beta: float
    gamma: float | None  # absolute margin (SimPO); None for dpo/ln_dpo
    gamma_beta_ratio: float | None  # as written for SimPO; None when gamma was given absolutely
    learning_rate: float
    epochs: int | float
    seed: int

    def hyperparameters(self) -> dict:
        """``beta, gamma, gamma_beta_ratio, learning_rate, epochs, seed`` (the table columns)."""
        return {k: v for k, v in self.to_dict().items() if k not in ("trial_id", "method")}

    def objective_hyperparameters(self) -> dict:
        """What ``OBJECTIVES[method](...)`` takes: the method's own axes, resolved."""
        objective = OBJECTIVES[self.method]
        return objective.resolve(**{k: getattr(self, k) for k in objective.hyperparameters})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrialSpec":
        return cls(**{f.name: data[f.name] for f in fields(cls)})


def trial_id(resolved: dict, study_hash: str) -> str:
    """``<method>-<digest>`` of one trial's resolved hyperparameters and the study's hash."""
    key = {k: resolved[k] for k in ("method", "beta", "gamma", "learning_rate", "epochs", "seed")}
    digest = hash_json(result_settings_canonical({"trial": key, "study": study_hash}), TRIAL_ID_DIGITS)
    return f"{resolved['method']}-{digest}"


def expand(study: Study) -> list[TrialSpec]:
    """Every trial of the study, in a stable order (see the module docstring)."""
    study_hash = study.hash()
    specs: list[TrialSpec] = []
    for method in study.methods:
        axes = study.axes(method)
        for values in itertools.product(*axes.values()):
            resolved = validate_trial_hparams(method, **dict(zip(axes, values)))
            specs.append(TrialSpec(trial_id=trial_id(resolved, study_hash), **resolved))
    seen: dict[str, TrialSpec] = {}
    for spec in specs:
        if spec.trial_id in seen:
            raise ConfigError(
                study.study,
                [(f"methods.{spec.method}", f"two grid points are the same trial: {seen[spec.trial_id]} and {spec}")],
            )
        seen[spec.trial_id] = spec
    return specs
