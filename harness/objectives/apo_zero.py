"""APO-zero (D'Oosterlinck et al. 2024, "Anchored Preference Optimization and Contrastive
Revisions", Eq. 7); TRL ``DPOConfig(loss_type="apo_zero")``.

Anchors each reply on its own instead of only their difference, for data whose chosen replies
are better than the model's own (raise the chosen likelihood, lower the rejected)::

    loss = (1 - sigma(beta * (pi_w - ref_w))) + sigma(beta * (pi_l - ref_l))

``beta`` is the paper's β, as in DPO. Implicit reward ``beta * (pi - ref)``.
"""

from __future__ import annotations

from harness.objectives.axes import Axis, positive
from harness.objectives.base import Objective, PreferenceBatch, output, register_objective, sigmoid


def apo_zero_loss(batch: PreferenceBatch, *, beta: float):
    """``1 - sigma(beta (pi_w - ref_w)) + sigma(beta (pi_l - ref_l))``; reward ``beta (pi - ref)``."""
    chosen = beta * batch.chosen_logratios
    rejected = beta * batch.rejected_logratios
    return output(1 - sigmoid(chosen) + sigmoid(rejected), chosen, rejected)


APO_ZERO = register_objective(Objective(
    name="apo_zero",
    label="APO-zero",
    loss=apo_zero_loss,
    axes=(Axis("beta", positive, "log", "β", doc="APO's β, as in DPO."),),
    needs_reference=True,
))
