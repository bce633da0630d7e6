"""Robust DPO (Chowdhury et al. 2024, "Provably Robust DPO: Aligning Language Models with Noisy
Feedback"); TRL ``DPOConfig(loss_type="robust")``.

For preference labels flipped with probability ε, with ``h = (pi_w - ref_w) - (pi_l - ref_l)``::

    loss = [-(1 - eps) * log sigma(beta * h) + eps * log sigma(-beta * h)] / (1 - 2 * eps)

an unbiased estimate of the DPO loss under label noise. ``beta`` is DPO's β; ``label_smoothing``
is the paper's ε, the assumed flip rate, in [0, 0.5) (TRL's name and range). At ε = 0 it is
DPO. (Conservative DPO, cDPO, uses the same ε as ``-(1-ε) log σ(βh) - ε log σ(-βh)``; this is
the unbiased variant TRL calls ``robust``.) Implicit reward ``beta * (pi - ref)``.
"""

from __future__ import annotations

from harness.objectives.axes import Axis, interval, positive
from harness.objectives.base import Objective, PreferenceBatch, logsigmoid, output, register_objective


def robust_loss(batch: PreferenceBatch, *, beta: float, label_smoothing: float):
    """``[-(1-eps) log sigma(beta h) + eps log sigma(-beta h)] / (1 - 2 eps)``; reward
    ``beta * (pi - ref)``."""
    chosen = beta * batch.chosen_logratios
    rejected = beta * batch.rejected_logratios
    z = chosen - rejected
    eps = label_smoothing
    losses = (-(1 - eps) * logsigmoid(z) + eps * logsigmoid(-z)) / (1 - 2 * eps)
    return output(losses, chosen, rejected)


ROBUST = register_objective(Objective(
    name="robust",
    label="Robust DPO",
    loss=robust_loss,
    axes=(
        Axis("beta", positive, "log", "β", doc="DPO's β."),
        Axis("label_smoothing", interval(0.0, 0.5, high_open=True), "linear", "ε",
             doc="The assumed rate of flipped preference labels, ε in [0, 0.5)."),
    ),
    needs_reference=True,
))
