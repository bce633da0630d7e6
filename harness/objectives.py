"""Preference-optimization objectives, registered by name: ``dpo``, ``ln_dpo``, ``simpo``.

Each objective is a small pure function of sequence log-probs. Per pair ``(x, y_w, y_l)``, with
``pi = log pi_theta(y|x)`` summed over response tokens, ``ref = log pi_sft(y|x)`` likewise,
``|y|`` the response length in tokens and ``sigma`` the logistic function:

- ``dpo``    (Rafailov et al. 2023, "Direct Preference Optimization"):
  ``-log sigma(beta * [(pi_w - ref_w) - (pi_l - ref_l)])``
- ``ln_dpo`` (length-normalized DPO, as studied in Ahrabian et al. 2024; TRL's ``sigmoid_norm``):
  ``-log sigma(beta * [(pi_w - ref_w)/|y_w| - (pi_l - ref_l)/|y_l|])``
- ``simpo``  (Meng et al. 2024, "SimPO: Simple Preference Optimization with a Reference-Free
  Reward"): ``-log sigma(beta * [pi_w/|y_w| - pi_l/|y_l|] - gamma)``

SimPO's margin is given either absolutely (``gamma``) or as ``gamma_beta_ratio`` with
``gamma = beta * gamma_beta_ratio``, never both; the absolute ``gamma`` is what gets recorded.

Adding a method is one function plus one :class:`Objective` in :data:`OBJECTIVES` (and its grid
in the study YAML); nothing else branches on the method name.
"""

from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import torch

# torch is imported inside the loss functions only: validating a study config (which checks
# hyperparameters here) stays cheap and torch-free.


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""Marks a parameter that was not given (so errors say "is required", not "got None")."""


class HyperparameterError(ValueError):
    """A hyperparameter value a method cannot take, e.g. ``simpo: gamma must be >= 0, got -1``.

    ``parameter``, ``reason`` and ``value`` are kept apart so the config layer can restate the
    error under its own key path (``methods.simpo.gamma[2]: must be >= 0, got -1``).
    """

    def __init__(self, method: str | None, parameter: str, reason: str, value: Any = MISSING):
        self.method = method
        self.parameter = parameter
        self.reason = reason
        self.value = value
        prefix = f"{method}: " if method else ""
        got = "" if value is MISSING else f", got {format_value(value)}"
        super().__init__(f"{prefix}{parameter} {reason}{got}")


def format_value(value: Any) -> str:
    """How an offending value is shown in error messages: numbers bare, strings quoted."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class ObjectiveOutput:
    """Per-pair losses and the implicit rewards to log; every tensor has shape ``(B,)``.

    ``chosen_rewards``/``rejected_rewards`` are detached; ``margins = chosen - rejected``.
    """

    losses: torch.Tensor
    chosen_rewards: torch.Tensor
    rejected_rewards: torch.Tensor
    margins: torch.Tensor


def _per_token(logps: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    # A zero-length response (prompt filled max_length) would divide by zero and turn the whole
    # batch NaN; clamping to one token keeps the term finite (its log-prob sum is 0 anyway).
    return logps / lengths.to(logps.dtype).clamp(min=1.0)


def _logsigmoid(x: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    return F.logsigmoid(x)


def _output(losses, chosen_rewards, rejected_rewards) -> ObjectiveOutput:
    chosen_rewards = chosen_rewards.detach()
    rejected_rewards = rejected_rewards.detach()
    return ObjectiveOutput(losses, chosen_rewards, rejected_rewards, chosen_rewards - rejected_rewards)


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    chosen_lengths: torch.Tensor,
    rejected_lengths: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    *,
    beta: float,
) -> ObjectiveOutput:
    """DPO (Rafailov et al. 2023): ``-log sigma(beta * [(pi_w - ref_w) - (pi_l - ref_l)])``.

    Implicit reward ``beta * (pi - ref)``. Lengths are unused (kept for a uniform signature).
    """
    chosen = beta * (policy_chosen_logps - ref_chosen_logps)
    rejected = beta * (policy_rejected_logps - ref_rejected_logps)
    return _output(-_logsigmoid(chosen - rejected), chosen, rejected)


def ln_dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    chosen_lengths: torch.Tensor,
    rejected_lengths: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    *,
    beta: float,
) -> ObjectiveOutput:
    """LN-DPO (Ahrabian et al. 2024; TRL ``loss_type="sigmoid_norm"``):
    ``-log sigma(beta * [(pi_w - ref_w)/|y_w| - (pi_l - ref_l)/|y_l|])``.

    Implicit reward ``beta * (pi - ref) / |y|``, lengths clamped to >= 1.
    """
    chosen = beta * _per_token(policy_chosen_logps - ref_chosen_logps, chosen_lengths)
    rejected = beta * _per_token(policy_rejected_logps - ref_rejected_logps, rejected_lengths)
    return _output(-_logsigmoid(chosen - rejected), chosen, rejected)


def simpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    chosen_lengths: torch.Tensor,
    rejected_lengths: torch.Tensor,
    ref_chosen_logps: torch.Tensor | None = None,
    ref_rejected_logps: torch.Tensor | None = None,
    *,
    beta: float,
    gamma: float,
) -> ObjectiveOutput:
    """SimPO (Meng et al. 2024): ``-log sigma(beta * [pi_w/|y_w| - pi_l/|y_l|] - gamma)``.

    Reference-free: ``ref_*`` are ignored. Implicit reward ``beta * pi / |y|`` (the margin
    ``gamma`` is not part of it), lengths clamped to >= 1.
    """
    chosen = beta * _per_token(policy_chosen_logps, chosen_lengths)
    rejected = beta * _per_token(policy_rejected_logps, rejected_lengths)
    return _output(-_logsigmoid(chosen - rejected - gamma), chosen, rejected)


# --- hyperparameter checks ------------------------------------------------------------------


def _number(method, name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise HyperparameterError(method, name, "must be a number", value)
    value = float(value)
    if not math.isfinite(value):
        raise HyperparameterError(method, name, "must be finite", value)
    return value


def _positive(method, name, value) -> float:
    out = _number(method, name, value)
    if out <= 0:
        raise HyperparameterError(method, name, "must be > 0", value)
    return out


def _non_negative(method, name, value) -> float:
    out = _number(method, name, value)
    if out < 0:
        raise HyperparameterError(method, name, "must be >= 0", value)
    return out


def _resolve_beta(method: str, hp: dict) -> dict:
    return {"beta": _positive(method, "beta", hp["beta"])}


def _resolve_simpo(method: str, hp: dict) -> dict:
    beta = _positive(method, "beta", hp["beta"])
    gamma, ratio = hp.get("gamma"), hp.get("gamma_beta_ratio")
    if gamma is None and ratio is None:
        raise HyperparameterError(method, "gamma", "is required (or give gamma_beta_ratio)")
    if ratio is not None:
        ratio = _non_negative(method, "gamma_beta_ratio", ratio)
        from_ratio = beta * ratio
        if gamma is not None:
            # A resolved dict ({beta, gamma, gamma_beta_ratio}) must resolve to itself; two
            # margins that disagree are a user error (validate_trial_hparams rejects both).
            gamma = _non_negative(method, "gamma", gamma)
            if not math.isclose(gamma, from_ratio, rel_tol=1e-9, abs_tol=1e-12):
                raise HyperparameterError(
                    method, "gamma", f"disagrees with gamma_beta_ratio={ratio!r} (give one)", gamma
                )
        return {"beta": beta, "gamma": from_ratio, "gamma_beta_ratio": ratio}
    return {"beta": beta, "gamma": _non_negative(method, "gamma", gamma), "gamma_beta_ratio": None}


@dataclass(frozen=True)
class Objective:
    """One registered objective.

    ``hyperparameters`` are the method-specific grid axes (the YAML keys under
    ``methods.<name>``); ``resolve`` validates and normalises them; calling the objective
    computes the loss from sequence log-probs of shape ``(B,)``.
    """

    name: str
    fn: Callable[..., ObjectiveOutput]
    needs_reference: bool
    hyperparameters: tuple[str, ...]
    resolver: Callable[[str, dict], dict]
    required: tuple[str, ...] = ("beta",)
    # Groups of hyperparameters of which at most one may be given (SimPO's two margin forms).
    exclusive: tuple[tuple[str, ...], ...] = ()
    doc: str = ""

    def resolve(self, **hp) -> dict:
        """Validate and normalise this method's hyperparameters.

        Keys given as ``None`` count as absent, so a trial's full set (``gamma=None`` for DPO)
        can be passed. Returns floats, e.g. ``{"beta": 2.0, "gamma": 1.0,
        "gamma_beta_ratio": 0.5}`` for SimPO. Raises :class:`HyperparameterError` naming the
        parameter.
        """
        given = {k: v for k, v in hp.items() if v is not None}
        for key in given:
            if key not in self.hyperparameters:
                raise HyperparameterError(
                    self.name,
                    key,
                    f"is not a hyperparameter of {self.name} (it takes {', '.join(self.hyperparameters)})",
                    given[key],
                )
        for key in self.required:
            if key not in given:
                raise HyperparameterError(self.name, key, "is required")
        return self.resolver(self.name, given)

    def loss_kwargs(self, **hp) -> dict:
        """The keyword arguments ``fn`` takes, from raw or resolved hyperparameters."""
        resolved = self.resolve(**hp)
        # e.g. SimPO's loss takes the absolute gamma; gamma_beta_ratio is only recorded.
        accepted = inspect.signature(self.fn).parameters
        return {k: v for k, v in resolved.items() if k in accepted}

    def __call__(
        self,
        policy_chosen_logps: torch.Tensor,
        policy_rejected_logps: torch.Tensor,
        chosen_lengths: torch.Tensor,
        rejected_lengths: torch.Tensor,
        ref_chosen_logps: torch.Tensor | None = None,
        ref_rejected_logps: torch.Tensor | None = None,
        **hp,
    ) -> ObjectiveOutput:
        if self.needs_reference and (ref_chosen_logps is None or ref_rejected_logps is None):
            raise ValueError(f"{self.name} needs ref_chosen_logps and ref_rejected_logps")
        return self.fn(
            policy_chosen_logps,
            policy_rejected_logps,
            chosen_lengths,
            rejected_lengths,
            ref_chosen_logps,
            ref_rejected_logps,
            **self.loss_kwargs(**hp),
        )


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("dpo", dpo_loss, True, ("beta",), _resolve_beta, doc=dpo_loss.__doc__ or ""),
        Objective("ln_dpo", ln_dpo_loss, True, ("beta",), _resolve_beta, doc=ln_dpo_loss.__doc__ or ""),
        Objective(
            "simpo",
            simpo_loss,
            False,
            ("beta", "gamma", "gamma_beta_ratio"),
            _resolve_simpo,
            exclusive=(("gamma", "gamma_beta_ratio"),),
            doc=simpo_loss.__doc__ or "",
        ),
    )
}


def get_objective(name: str) -> Objective:
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise KeyError(f"unknown objective {name!r}; available: {', '.join(sorted(OBJECTIVES))}") from None


# Axes every method shares (the study YAML's ``grid:`` keys); checked here so a trial is refused
# before any model loads.
SHARED_HYPERPARAMETERS = ("learning_rate", "epochs", "seed")


def check_learning_rate(value, method: str | None = None) -> float:
    return _positive(method, "learning_rate", value)


def check_epochs(value, method: str | None = None) -> int | float:
    """Epochs > 0; whole numbers become ``int`` (1.0 -> 1) so equal trials hash equally."""
    out = _positive(method, "epochs", value)
    return int(out) if out.is_integer() else out


SEED_LIMIT = 2**32  # numpy's and torch's seeds are 32-bit: a larger one fails inside the trial


def check_seed(value, method: str | None = None) -> int:
    whole = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value < 0:
        raise HyperparameterError(method, "seed", "must be an integer >= 0", value)
    if value >= SEED_LIMIT:
        raise HyperparameterError(method, "seed", "must be < 2^32 (4294967296)", value)
    return int(value)


SHARED_CHECKS: dict[str, Callable[..., Any]] = {
    "learning_rate": check_learning_rate,
    "epochs": check_epochs,
    "seed": check_seed,
}

# What one value of each grid axis must satisfy, whatever the method (the config layer checks
# every listed value with these before expanding the grid).
PARAMETER_CHECKS: dict[str, Callable[..., Any]] = {
    "beta": lambda value, method=None: _positive(method, "beta", value),
    "gamma": lambda value, method=None: _non_negative(method, "gamma", value),
    "gamma_beta_ratio": lambda value, method=None: _non_negative(method, "gamma_beta_ratio", value),
    **SHARED_CHECKS,
}


def check_value(parameter: str, value, method: str | None = None):
    """Validate and normalise one value of one grid axis (``beta``, ``gamma``, ...)."""
    return PARAMETER_CHECKS[parameter](value, method)


def validate_trial_hparams(
    method: str,
    *,
    beta,
    gamma=None,
    gamma_beta_ratio=None,
    learning_rate,
    epochs,
    seed=0,
) -> dict:
    """Check one trial's hyperparameters before any model loads.

    Returns ``{"method", "beta", "gamma", "gamma_beta_ratio", "learning_rate", "epochs",
    "seed"}`` with SimPO's absolute ``gamma`` filled in (``None`` for DPO/LN-DPO). Raises
    :class:`HyperparameterError` naming the parameter: a non-positive ``beta`` or
    ``learning_rate``, ``gamma``/``gamma_beta_ratio`` given to a method without a margin,
    both given to SimPO, non-positive ``epochs``, a negative or fractional ``seed``.
    """
    if method not in OBJECTIVES:
        raise HyperparameterError(
            None, "method", f"must be one of {', '.join(sorted(OBJECTIVES))}", method
        )
    objective = OBJECTIVES[method]
    given = {"beta": beta, "gamma": gamma, "gamma_beta_ratio": gamma_beta_ratio}
    for group in objective.exclusive:
        present = [k for k in group if given.get(k) is not None]
        if len(present) > 1:
            raise HyperparameterError(
                method, present[0], f"cannot be given together with {present[1]} (give one)", given[present[0]]
            )
    resolved = objective.resolve(**given)
    out = {"method": method, "beta": None, "gamma": None, "gamma_beta_ratio": None}
    out.update(resolved)
    out["learning_rate"] = check_learning_rate(learning_rate, method)
    out["epochs"] = check_epochs(epochs, method)
    out["seed"] = check_seed(seed, method)
    return out
