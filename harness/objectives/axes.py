"""Grid axes: what a hyperparameter is (its check, scale, label) and the axes every method shares.

An :class:`Axis` is one hyperparameter a study can sweep. Its registration is the only place its
name, validity rule, plot scale and display label are written: config validation, grid
expansion, trial ids, the trial row's columns, training and ``study.json`` all read them from
here (or from the objective that owns the axis, :mod:`harness.objectives.base`).

The shared axes, every method's besides its own, are registered once in :data:`SHARED_AXES`:

- ``learning_rate`` (> 0, log scale): DPOConfig's ``learning_rate``;
- ``epochs`` (> 0, fractions allowed, whole numbers stored as ``int``; default 1): DPOConfig's
  ``num_train_epochs``.

``seed`` is not an axis: it names a replicate of a configuration, not a configuration (trials
that differ only by seed share a ``config_id``), and is checked by :func:`check_seed`.

Checks take a value and return it normalised (``2`` -> ``2.0``) or raise ``ValueError`` whose
message completes "<name> ...", e.g. ``must be > 0``; :meth:`Axis.validate` turns that into a
:class:`HyperparameterError` naming the axis, which the config layer restates under its key
path (``methods.rdpo.alpha[1]: must be >= 0, got -1``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Literal

from harness.registry import Registry


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""Marks a value that was not given (so errors say "is required", not "got None")."""


def format_value(value: Any) -> str:
    """How an offending value is shown in error messages: numbers bare, strings quoted."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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


# --- checks ----------------------------------------------------------------------------------


def number(value: Any) -> float:
    """Any finite real number (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError("must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError("must be finite")
    return value


def positive(value: Any) -> float:
    out = number(value)
    if out <= 0:
        raise ValueError("must be > 0")
    return out


def non_negative(value: Any) -> float:
    out = number(value)
    if out < 0:
        raise ValueError("must be >= 0")
    return out


def interval(low: float, high: float, *, high_open: bool = False) -> Callable[[Any], float]:
    """A number in ``[low, high]`` (``[low, high)`` with ``high_open``)."""
    text = f"[{low:g}, {high:g}{')' if high_open else ']'}"

    def check(value: Any) -> float:
        out = number(value)
        if out < low or out > high or (high_open and out == high):
            raise ValueError(f"must be in {text}")
        return out

    check.__doc__ = f"A number in {text}."
    return check


def positive_count(value: Any) -> int | float:
    """> 0; whole numbers become ``int`` (1.0 -> 1) so equal trials hash equally."""
    out = positive(value)
    return int(out) if out.is_integer() else out


SEED_LIMIT = 2**32  # numpy's and torch's seeds are 32-bit: a larger one fails inside the trial


def check_seed(value: Any, method: str | None = None) -> int:
    """A training seed: an integer in [0, 2^32) (``2.0`` -> ``2``)."""
    whole = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value < 0:
        raise HyperparameterError(method, SEED, "must be an integer >= 0", value)
    if value >= SEED_LIMIT:
        raise HyperparameterError(method, SEED, "must be < 2^32 (4294967296)", value)
    return int(value)


SEED = "seed"
"""The grid key of training seeds (``grid.seed``, ``methods.<m>.seed``): replicates, not an axis."""


# --- axes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One hyperparameter a study can sweep.

    - ``name``: the YAML key, the Python argument and the results column.
    - ``check``: value -> normalised value, ``ValueError("must be ...")`` when invalid.
    - ``scale``: ``"log"`` or ``"linear"``: how plots space it and what counts as a neighbour.
    - ``label``: display symbol or words (``"β"``, ``"learning rate"``).
    - ``derived_from`` and ``derive``: a value computed from other axes of the same method when
      those are given (SimPO's ``gamma = beta * gamma_beta_ratio``); it may instead be given
      directly, never both.
    - ``in_id``: whether the value enters the trial id (an alternative spelling of another
      axis, like ``gamma_beta_ratio``, does not: the same absolute margin is the same trial).
    - ``required``: whether a trial needs a value (after derivation).
    - ``default``: the value used when a study gives none (None: no default).
    - ``trl_field``: the DPOConfig field a shared axis sets (None: the loss takes it).
    """

    name: str
    check: Callable[[Any], Any]
    scale: Literal["log", "linear"]
    label: str
    derived_from: tuple[str, ...] = ()
    derive: Callable[..., Any] | None = None
    in_id: bool = True
    required: bool = True
    default: Any = None
    trl_field: str | None = None
    doc: str = ""

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"axis name {self.name!r} must be a Python identifier")
        if self.scale not in ("log", "linear"):
            raise ValueError(f"axis {self.name}: scale must be 'log' or 'linear', got {self.scale!r}")
        if bool(self.derived_from) != (self.derive is not None):
            raise ValueError(f"axis {self.name}: give derived_from and derive together")

    def validate(self, value: Any, method: str | None = None) -> Any:
        """``value`` checked and normalised; :class:`HyperparameterError` naming the axis."""
        try:
            return self.check(value)
        except (ValueError, TypeError) as e:
            raise HyperparameterError(method, self.name, str(e), value) from None

    def describe(self, derived: bool) -> dict:
        """The axis as ``study.json`` records it (``derived`` False when given directly)."""
        return {
            "name": self.name,
            "scale": self.scale,
            "label": self.label,
            "derived_from": list(self.derived_from) if derived else [],
        }


SHARED_AXES: Registry[Axis] = Registry("shared axis")
"""Axes every method has besides its own (``grid:`` keys), in display order."""

LEARNING_RATE = SHARED_AXES.register(
    "learning_rate",
    Axis("learning_rate", positive, "log", "learning rate", trl_field="learning_rate",
         doc="Peak learning rate of AdamW (warmup and schedule from the training section)."),
)
EPOCHS = SHARED_AXES.register(
    "epochs",
    Axis("epochs", positive_count, "linear", "epochs", default=1, trl_field="num_train_epochs",
         doc="Passes over the train pairs (fractions allowed)."),
)
