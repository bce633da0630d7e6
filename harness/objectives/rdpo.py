"""R-DPO: DPO with length regularization (Park et al. 2024, "Disentangling Length from Quality
in Direct Preference Optimization", Eq. 9). Not in TRL; reference implementation: sail-sg/oat
(``len_reg_alpha``).

With ``h = (pi_w - ref_w) - (pi_l - ref_l)`` and ``|y|`` the reply's token count::

    loss = -log sigma(beta * h + alpha * (|y_w| - |y_l|))

Derivation: R-DPO maximizes ``r(x, y) - alpha * |y|`` under DPO's KL penalty, so the reward that
fits the Bradley-Terry model is ``beta * log(pi/ref) + alpha * |y|``; a pair whose chosen reply
is longer then already has part of its margin from the length alone and pushes the policy
less, which is what stops it from learning "longer is better". ``beta`` is DPO's β; ``alpha``
the paper's α (>= 0; at 0 the loss is DPO's). Implicit reward ``beta * (pi - ref)`` (the
length term is not part of it).
"""

from __future__ import annotations

from harness.objectives.axes import Axis, non_negative, positive
from harness.objectives.base import Objective, PreferenceBatch, logsigmoid, output, register_objective


def rdpo_loss(batch: PreferenceBatch, *, beta: float, alpha: float):
    """``-log sigma(beta * h + alpha * (|y_w| - |y_l|))``; reward ``beta * (pi - ref)``."""
    chosen = beta * batch.chosen_logratios
    rejected = beta * batch.rejected_logratios
    dtype = chosen.dtype
    length_gap = batch.chosen_lengths.to(dtype) - batch.rejected_lengths.to(dtype)
    return output(-logsigmoid(chosen - rejected + alpha * length_gap), chosen, rejected)


RDPO = register_objective(Objective(
    name="rdpo",
    label="R-DPO",
    loss=rdpo_loss,
    axes=(
        Axis("beta", positive, "log", "β", doc="DPO's β."),
        Axis("alpha", non_negative, "linear", "α",
             doc="Length regularization per token of length difference (0: DPO)."),
    ),
    needs_reference=True,
))
