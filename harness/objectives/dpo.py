"""DPO (Rafailov et al. 2023, "Direct Preference Optimization: Your Language Model is Secretly a
Reward Model"); TRL ``DPOConfig(loss_type="sigmoid")``.

Per pair, with ``pi = log pi_theta(y|x)`` and ``ref = log pi_sft(y|x)`` summed over the reply's
tokens and ``sigma`` the logistic function::

    loss = -log sigma(beta * [(pi_w - ref_w) - (pi_l - ref_l)])

``beta`` is the paper's β, the strength of the implicit KL penalty to the SFT model: small
values let the policy move far. Implicit reward ``beta * (pi - ref)``.
"""

from __future__ import annotations

from harness.objectives.axes import Axis, positive
from harness.objectives.base import Objective, PreferenceBatch, logsigmoid, output, register_objective


def dpo_loss(batch: PreferenceBatch, *, beta: float):
    """``-log sigma(beta * [(pi_w - ref_w) - (pi_l - ref_l)])``; reward ``beta * (pi - ref)``."""
    chosen = beta * batch.chosen_logratios
    rejected = beta * batch.rejected_logratios
    return output(-logsigmoid(chosen - rejected), chosen, rejected)


DPO = register_objective(Objective(
    name="dpo",
    label="DPO",
    loss=dpo_loss,
    axes=(Axis("beta", positive, "log", "β", doc="DPO's β: strength of the KL penalty."),),
    needs_reference=True,
))
