"""Preference-optimization objectives, one registration per method.

Built in (one module each, the paper's formula in its docstring; ``pi``/``ref`` are the
policy's/SFT model's reply log-probs summed over the reply's tokens):

======== ============ ============================== ============================================
name     label        own axes                       loss (s = sigmoid, b = beta)
======== ============ ============================== ============================================
dpo      DPO          beta                           -log s(b [(pi_w - ref_w) - (pi_l - ref_l)])
ln_dpo   LN-DPO       beta                           as dpo on per-token log-ratios
simpo    SimPO        beta, gamma_beta_ratio | gamma -log s(b [pi_w/|y_w| - pi_l/|y_l|] - gamma)
ipo      IPO          beta (tau)                     (per-token log-ratio gap - 1/(2 tau))^2
robust   Robust DPO   beta, label_smoothing          DPO debiased for flipped labels
hinge    Hinge (SLiC) beta (1/delta)                 max(0, 1 - b [(pi_w - ref_w) - (pi_l - ref_l)])
apo_zero APO-zero     beta                           1 - s(b (pi_w - ref_w)) + s(b (pi_l - ref_l))
rdpo     R-DPO        beta, alpha                    DPO with + alpha (|y_w| - |y_l|) in the margin
dpop     DPOP         beta, dpop_lambda              DPO with - lambda max(0, ref_w - pi_w) in the margin
cpo      CPO          beta, cpo_alpha                -log s(b (pi_w - pi_l)) + cpo_alpha NLL_w
orpo     ORPO         beta (lambda)                  NLL_w - lambda log s(log-odds ratio)
======== ============ ============================== ============================================

Every method also has the shared axes ``learning_rate`` and ``epochs``
(:data:`SHARED_AXES`). A new method is one :class:`Objective` passed to
:func:`register_objective`, in a module of your own named under the study's ``plugins:``
(docs/training.md, "Adding a method").
"""

from harness.objectives.axes import (
    EPOCHS,
    LEARNING_RATE,
    MISSING,
    SEED,
    SHARED_AXES,
    Axis,
    HyperparameterError,
    check_seed,
    format_value,
    interval,
    non_negative,
    number,
    positive,
    positive_count,
)
from harness.objectives.base import (
    OBJECTIVES,
    Objective,
    ObjectiveOutput,
    PreferenceBatch,
    chosen_nll,
    get_objective,
    logsigmoid,
    output,
    per_token,
    register_objective,
    sigmoid,
)

# The built-in methods register themselves on import, in this (display) order.
from harness.objectives import dpo, ln_dpo, simpo  # noqa: E402,F401  isort: skip
from harness.objectives import ipo, robust, hinge, apo_zero, rdpo, dpop, cpo, orpo  # noqa: E402,F401  isort: skip

__all__ = [
    "EPOCHS",
    "LEARNING_RATE",
    "MISSING",
    "OBJECTIVES",
    "SEED",
    "SHARED_AXES",
    "Axis",
    "HyperparameterError",
    "Objective",
    "ObjectiveOutput",
    "PreferenceBatch",
    "check_seed",
    "chosen_nll",
    "format_value",
    "get_objective",
    "interval",
    "logsigmoid",
    "non_negative",
    "number",
    "output",
    "per_token",
    "positive",
    "positive_count",
    "register_objective",
    "sigmoid",
]
