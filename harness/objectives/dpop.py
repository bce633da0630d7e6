"""DPO-Positive, DPOP (Pal et al. 2024, "Smaug: Fixing Failure Modes of Preference Optimisation
with DPO-Positive", Eq. 3). Not in TRL; reference implementation: sail-sg/oat
(``dpo_positive_lambda``).

DPO can lower the chosen reply's likelihood as long as the rejected one falls faster. DPOP puts
a penalty inside the margin whenever the policy's chosen log-prob is below the reference's::

    loss = -log sigma(beta * [(pi_w - ref_w) - (pi_l - ref_l) - lambda * max(0, ref_w - pi_w)])

``beta`` is DPO's β; ``dpop_lambda`` the paper's λ (>= 0; at 0 the loss is DPO's; Smaug used
λ = 50). ``lambda`` itself is a Python keyword, hence the prefix. Implicit reward
``beta * (pi - ref)`` (the penalty is not part of it).
"""

from __future__ import annotations

from harness.objectives.axes import Axis, non_negative, positive
from harness.objectives.base import Objective, PreferenceBatch, logsigmoid, output, register_objective


def dpop_loss(batch: PreferenceBatch, *, beta: float, dpop_lambda: float):
    """``-log sigma(beta * [h - lambda * max(0, ref_w - pi_w)])``; reward ``beta * (pi - ref)``."""
    chosen = beta * batch.chosen_logratios
    rejected = beta * batch.rejected_logratios
    penalty = (-batch.chosen_logratios).clamp(min=0)  # max(0, ref_w - pi_w)
    return output(-logsigmoid(chosen - rejected - beta * dpop_lambda * penalty), chosen, rejected)


DPOP = register_objective(Objective(
    name="dpop",
    label="DPOP",
    loss=dpop_loss,
    axes=(
        Axis("beta", positive, "log", "β", doc="DPO's β."),
        Axis("dpop_lambda", non_negative, "linear", "λ",
             doc="Weight of the penalty on a chosen log-prob below the reference's (0: DPO)."),
    ),
    needs_reference=True,
))
