"""SimPO (Meng et al. 2024, "SimPO: Simple Preference Optimization with a Reference-Free
Reward"); TRL's experimental ``CPOTrainer(loss_type="simpo", cpo_alpha=0)``.

Reference-free, on the average log-prob per reply token::

    loss = -log sigma(beta * [pi_w/|y_w| - pi_l/|y_l|] - gamma)

``beta`` is the paper's β (reward scale, per token: useful values ~2-10); ``gamma`` the target
reward margin γ. The margin is given either absolutely (``gamma``) or, as the SimPO repository
does, as ``gamma_beta_ratio`` (γ/β) with ``gamma = beta * gamma_beta_ratio``; never both. The
absolute ``gamma`` enters the trial id, so the same margin written either way is the same
trial. Implicit reward ``beta * pi / |y|`` (the margin is not part of it), lengths clamped to
>= 1.
"""

from __future__ import annotations

from harness.objectives.axes import Axis, non_negative, positive
from harness.objectives.base import Objective, PreferenceBatch, logsigmoid, output, register_objective


def simpo_loss(batch: PreferenceBatch, *, beta: float, gamma: float):
    """``-log sigma(beta * [pi_w/|y_w| - pi_l/|y_l|] - gamma)``; reward ``beta * pi / |y|``."""
    chosen = beta * batch.policy_chosen_mean_logps
    rejected = beta * batch.policy_rejected_mean_logps
    return output(-logsigmoid(chosen - rejected - gamma), chosen, rejected)


SIMPO = register_objective(Objective(
    name="simpo",
    label="SimPO",
    loss=simpo_loss,
    axes=(
        Axis("beta", positive, "log", "β", doc="SimPO's β: reward scale per token."),
        Axis("gamma_beta_ratio", non_negative, "linear", "γ/β", in_id=False, required=False,
             doc="The target margin relative to β (gamma = beta * gamma_beta_ratio)."),
        Axis("gamma", non_negative, "linear", "γ", derived_from=("beta", "gamma_beta_ratio"),
             derive=lambda beta, gamma_beta_ratio: beta * gamma_beta_ratio,
             doc="The absolute target reward margin γ."),
    ),
    needs_reference=False,
))
