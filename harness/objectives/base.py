"""Objectives as data: a registration holds a method's loss, its needs and its axes.

A method is one :class:`Objective` in :data:`OBJECTIVES`: its ``name`` (the YAML key under
``methods:``), display ``label``, ``loss`` function, whether it ``needs_reference`` (the frozen
SFT model's log-probs) and ``needs_chosen_nll`` (the NLL of the chosen replies), and its
:class:`~harness.objectives.axes.Axis` tuple. Everything else derives from that registration.

The trainer hands a loss one :class:`PreferenceBatch` of sequence-level tensors (shape ``(B,)``)
and the method's hyperparameters as keyword arguments; the loss returns an
:class:`ObjectiveOutput` of per-pair losses and implicit rewards (shape ``(B,)``). Per-token
averages and log-ratios are computed on first use and kept (``functools.cached_property``).

torch is imported inside the losses only: validating a study config (which checks
hyperparameters here) stays cheap and torch-free.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from harness.objectives.axes import SEED, SHARED_AXES, Axis, HyperparameterError
from harness.registry import Registry
from harness.schema import TRIAL_BASE_COLUMNS

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class PreferenceBatch:
    """What the trainer hands an objective, for B pairs; every tensor has shape ``(B,)``.

    ``policy_*_logps``: ``log pi_theta(y|x)`` summed over the reply's tokens; ``*_lengths``: the
    reply's token count ``|y|``; ``ref_*_logps``: the same under the frozen SFT model (None for
    reference-free methods); ``chosen_nll``: a scalar, the mean negative log-likelihood per
    chosen-reply token over the whole batch (``sum(-pi_w) / sum(|y_w|)``, what
    ``torch.nn.CrossEntropyLoss`` gives on the chosen replies' tokens), None unless the method
    declares ``needs_chosen_nll``.
    """

    policy_chosen_logps: torch.Tensor
    policy_rejected_logps: torch.Tensor
    chosen_lengths: torch.Tensor
    rejected_lengths: torch.Tensor
    ref_chosen_logps: torch.Tensor | None = None
    ref_rejected_logps: torch.Tensor | None = None
    chosen_nll: torch.Tensor | None = None

    @functools.cached_property
    def policy_chosen_mean_logps(self) -> torch.Tensor:
        """``pi_w / |y_w|``, the average log-prob per chosen token."""
        return per_token(self.policy_chosen_logps, self.chosen_lengths)

    @functools.cached_property
    def policy_rejected_mean_logps(self) -> torch.Tensor:
        return per_token(self.policy_rejected_logps, self.rejected_lengths)

    @functools.cached_property
    def chosen_logratios(self) -> torch.Tensor:
        """``pi_w - ref_w``."""
        return self.policy_chosen_logps - self._ref("ref_chosen_logps")

    @functools.cached_property
    def rejected_logratios(self) -> torch.Tensor:
        return self.policy_rejected_logps - self._ref("ref_rejected_logps")

    @functools.cached_property
    def chosen_mean_logratios(self) -> torch.Tensor:
        """``(pi_w - ref_w) / |y_w|``."""
        return per_token(self.chosen_logratios, self.chosen_lengths)

    @functools.cached_property
    def rejected_mean_logratios(self) -> torch.Tensor:
        return per_token(self.rejected_logratios, self.rejected_lengths)

    def _ref(self, name: str) -> torch.Tensor:
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"this loss reads {name}, but the batch has no reference log-probs")
        return value


def per_token(logps: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``logps / |y|``, lengths clamped to >= 1.

    A zero-length reply (its prompt filled max_length) would divide by zero and turn the whole
    batch NaN; one token keeps it finite (its log-prob sum is 0 anyway).
    """
    return logps / lengths.to(logps.dtype).clamp(min=1.0)


def chosen_nll(policy_chosen_logps: torch.Tensor, chosen_lengths: torch.Tensor) -> torch.Tensor:
    """Mean NLL per chosen-reply token over the batch: ``sum(-pi_w) / sum(|y_w|)`` (a scalar).

    The token-weighted mean TRL's CPO and ORPO trainers take (``nn.CrossEntropyLoss`` over the
    chosen tokens), so ``alpha`` weighs it the same whatever the reply lengths.
    """
    total = chosen_lengths.to(policy_chosen_logps.dtype).sum().clamp(min=1.0)
    return -policy_chosen_logps.sum() / total


@dataclass(frozen=True)
class ObjectiveOutput:
    """Per-pair losses and the implicit rewards to log; every tensor has shape ``(B,)``.

    ``chosen_rewards``/``rejected_rewards`` are detached; ``margins = chosen - rejected``.
    """

    losses: torch.Tensor
    chosen_rewards: torch.Tensor
    rejected_rewards: torch.Tensor
    margins: torch.Tensor


def output(losses, chosen_rewards, rejected_rewards) -> ObjectiveOutput:
    """An :class:`ObjectiveOutput` with detached rewards and their margins."""
    chosen_rewards = chosen_rewards.detach()
    rejected_rewards = rejected_rewards.detach()
    return ObjectiveOutput(losses, chosen_rewards, rejected_rewards, chosen_rewards - rejected_rewards)


def logsigmoid(x: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    return F.logsigmoid(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.sigmoid(x)


# Names a method's axis may not take: the trial row's own columns and the seed key.
RESERVED = frozenset(TRIAL_BASE_COLUMNS) | {SEED}


@dataclass(frozen=True)
class Objective:
    """One registered method. ``loss(batch, **hyperparameters) -> ObjectiveOutput``.

    ``axes`` are the method's own hyperparameters in display order (the YAML keys under
    ``methods.<name>``); the shared axes (:data:`SHARED_AXES`) follow them. The loss function's
    keyword arguments must all be axes of the method; derived axes it does not take (e.g. a
    ratio it only reads through the derived value) are recorded but not passed.
    """

    name: str
    label: str
    loss: Callable[..., ObjectiveOutput]
    axes: tuple[Axis, ...]
    needs_reference: bool
    needs_chosen_nll: bool = False

    def __post_init__(self):
        names = [a.name for a in self.axes]
        if len(set(names)) != len(names):
            raise ValueError(f"objective {self.name}: duplicate axis names {names}")
        for axis in self.axes:
            if axis.name in RESERVED or axis.name in SHARED_AXES:
                raise ValueError(f"objective {self.name}: axis name {axis.name!r} is taken "
                                 "(a shared axis or a trial-row column)")
            missing = [s for s in axis.derived_from if s not in names]
            if missing:
                raise ValueError(f"objective {self.name}: axis {axis.name} derives from "
                                 f"unknown axes {missing}")
        unknown = [p for p in self.loss_parameters if p not in names]
        if unknown:
            raise ValueError(f"objective {self.name}: the loss takes {unknown}, which are not "
                             f"axes of the method ({', '.join(names)})")

    # -- axes -----------------------------------------------------------------------------------

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.loss) or ""

    @property
    def loss_parameters(self) -> tuple[str, ...]:
        """The loss function's keyword arguments (after the batch)."""
        params = list(inspect.signature(self.loss).parameters.values())[1:]
        return tuple(p.name for p in params)

    @property
    def axis_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    def all_axes(self) -> tuple[Axis, ...]:
        """The method's axes, then the shared ones: the display order of a grid."""
        return self.axes + tuple(SHARED_AXES.values())

    def axis(self, name: str) -> Axis:
        for axis in self.all_axes():
            if axis.name == name:
                return axis
        raise KeyError(f"{name!r} is not a hyperparameter of {self.name} "
                       f"(it takes {', '.join(a.name for a in self.all_axes())})")

    def exclusive_groups(self) -> list[tuple[str, tuple[str, ...]]]:
        """``(derived axis, its optional sources)``: given together they are two spellings of
        one value (SimPO's ``gamma`` and ``gamma_beta_ratio``)."""
        optional = {a.name for a in self.axes if not a.required}
        return [(a.name, tuple(s for s in a.derived_from if s in optional))
                for a in self.axes if a.derived_from and any(s in optional for s in a.derived_from)]

    # -- values ---------------------------------------------------------------------------------

    def resolve(self, values: Mapping[str, Any]) -> dict:
        """Validate and complete one trial's hyperparameters.

        ``values`` may hold this method's axes and the shared axes; keys given as None count
        as absent (a row of a mixed table). Checks every value, derives what is derivable,
        checks that a derived value given alongside its sources agrees with them, and that every
        required axis has a value. Returns the method's axes in display order, then the shared
        axes given, e.g. ``{"beta": 2.0, "gamma_beta_ratio": 0.5, "gamma": 1.0,
        "learning_rate": 1e-6}``. Raises :class:`HyperparameterError` naming the parameter.
        """
        given = {k: v for k, v in values.items() if v is not None}
        known = {a.name: a for a in self.all_axes()}
        out: dict[str, Any] = {}
        for key, value in given.items():
            if key not in known:
                raise HyperparameterError(
                    self.name, key,
                    f"is not a hyperparameter of {self.name} (it takes {', '.join(known)})", value)
            out[key] = known[key].validate(value, self.name)
        for axis in self.axes:
            if not axis.derived_from or not all(s in out for s in axis.derived_from):
                continue
            derived = axis.validate(axis.derive(**{s: out[s] for s in axis.derived_from}), self.name)
            if axis.name not in out:
                out[axis.name] = derived
            elif not math.isclose(out[axis.name], derived, rel_tol=1e-9, abs_tol=1e-12):
                sources = ", ".join(f"{s}={out[s]!r}" for s in axis.derived_from)
                raise HyperparameterError(self.name, axis.name,
                                          f"disagrees with {sources} (give one)", out[axis.name])
        for axis in self.axes:
            if axis.name in out or not axis.required:
                continue
            if axis.default is not None:
                out[axis.name] = axis.validate(axis.default, self.name)
                continue
            alternatives = [s for s in axis.derived_from if s not in out]
            hint = f" (or give {', '.join(alternatives)})" if alternatives else ""
            raise HyperparameterError(self.name, axis.name, f"is required{hint}")
        return {a.name: out[a.name] for a in self.all_axes() if a.name in out}

    def loss_kwargs(self, values: Mapping[str, Any]) -> dict:
        """The keyword arguments ``loss`` takes, from raw or resolved hyperparameters."""
        resolved = self.resolve(values)
        return {k: resolved[k] for k in self.loss_parameters}

    def id_values(self, resolved: Mapping[str, Any]) -> dict:
        """The resolved values that enter the trial id (every axis with ``in_id``)."""
        return {a.name: resolved[a.name] for a in self.all_axes() if a.in_id and a.name in resolved}

    # -- the loss -------------------------------------------------------------------------------

    def compute(self, batch: PreferenceBatch, hyperparameters: Mapping[str, Any]) -> ObjectiveOutput:
        """The loss of ``batch`` under ``hyperparameters`` (raw or resolved)."""
        if self.needs_reference and (batch.ref_chosen_logps is None or batch.ref_rejected_logps is None):
            raise ValueError(f"{self.name} needs ref_chosen_logps and ref_rejected_logps")
        if self.needs_chosen_nll and batch.chosen_nll is None:
            raise ValueError(f"{self.name} needs chosen_nll")
        return self.loss(batch, **self.loss_kwargs(hyperparameters))

    def __call__(
        self,
        policy_chosen_logps: torch.Tensor,
        policy_rejected_logps: torch.Tensor,
        chosen_lengths: torch.Tensor,
        rejected_lengths: torch.Tensor,
        ref_chosen_logps: torch.Tensor | None = None,
        ref_rejected_logps: torch.Tensor | None = None,
        **hyperparameters,
    ) -> ObjectiveOutput:
        """The loss from sequence log-probs of shape ``(B,)``; the chosen NLL, when the method
        needs it, is computed from them (:func:`chosen_nll`)."""
        nll = chosen_nll(policy_chosen_logps, chosen_lengths) if self.needs_chosen_nll else None
        batch = PreferenceBatch(policy_chosen_logps, policy_rejected_logps, chosen_lengths,
                                rejected_lengths, ref_chosen_logps, ref_rejected_logps, nll)
        return self.compute(batch, hyperparameters)


OBJECTIVES: Registry[Objective] = Registry("method")
"""Every registered method by name: the allowed keys of a study's ``methods:``."""


def register_objective(objective: Objective) -> Objective:
    """Add ``objective`` to :data:`OBJECTIVES` (built-ins and ``plugins:`` modules alike)."""
    return OBJECTIVES.register(objective.name, objective)


def get_objective(name: str) -> Objective:
    return OBJECTIVES.get(name)
