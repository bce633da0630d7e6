"""CPO (Xu et al. 2024, "Contrastive Preference Optimization: Pushing the Boundaries of LLM
Performance in Machine Translation"); TRL's experimental ``CPOTrainer(loss_type="sigmoid")``.

Reference-free: a DPO-like preference term on summed log-probs without the reference, plus a
behaviour-cloning term, the NLL of the chosen replies::

    loss = -log sigma(beta * (pi_w - pi_l)) + cpo_alpha * NLL_w

``NLL_w`` is the batch's mean NLL per chosen-reply token (TRL's ``nn.CrossEntropyLoss`` over the
chosen tokens; the paper writes ``-log pi_theta(y_w|x)``, TRL averages per token so the weight
does not scale with reply length). ``beta`` is the paper's β; ``cpo_alpha`` (TRL's name) the
weight of the NLL term, 1 in the paper. Implicit reward ``beta * pi`` (TRL's).
"""

from __future__ import annotations

from harness.objectives.axes import Axis, non_negative, positive
from harness.objectives.base import Objective, PreferenceBatch, logsigmoid, output, register_objective


def cpo_loss(batch: PreferenceBatch, *, beta: float, cpo_alpha: float):
    """``-log sigma(beta * (pi_w - pi_l)) + cpo_alpha * NLL_w``; reward ``beta * pi``."""
    chosen = beta * batch.policy_chosen_logps
    rejected = beta * batch.policy_rejected_logps
    return output(-logsigmoid(chosen - rejected) + cpo_alpha * batch.chosen_nll, chosen, rejected)


CPO = register_objective(Objective(
    name="cpo",
    label="CPO",
    loss=cpo_loss,
    axes=(
        Axis("beta", positive, "log", "β", doc="CPO's β on summed log-probs."),
        Axis("cpo_alpha", non_negative, "linear", "α", doc="Weight of the chosen replies' NLL."),
    ),
    needs_reference=False,
    needs_chosen_nll=True,
))
