"""LN-DPO: length-normalized DPO, as studied by Ahrabian et al. 2024 ("The Hitchhiker's Guide to
Human Alignment with *PO"); TRL ``DPOConfig(loss_type="sigmoid_norm")``.

With ``pi``, ``ref`` summed over the reply's tokens and ``|y|`` its token count::

    loss = -log sigma(beta * [(pi_w - ref_w)/|y_w| - (pi_l - ref_l)/|y_l|])

``beta`` is β on a per-token scale: it multiplies an average log-ratio per token, so useful
values are about ``|y|`` times DPO's. Implicit reward ``beta * (pi - ref) / |y|``, lengths
clamped to >= 1. ``|y|`` counts the tokens scored; TRL divides by the unshifted completion mask,
which differs by one token only when ``keep_end`` truncation leaves a reply token first.
"""

from __future__ import annotations

from harness.objectives.axes import Axis, positive
from harness.objectives.base import Objective, PreferenceBatch, logsigmoid, output, register_objective


def ln_dpo_loss(batch: PreferenceBatch, *, beta: float):
    """``-log sigma(beta * [(pi_w - ref_w)/|y_w| - (pi_l - ref_l)/|y_l|])``; reward
    ``beta * (pi - ref) / |y|``."""
    chosen = beta * batch.chosen_mean_logratios
    rejected = beta * batch.rejected_mean_logratios
    return output(-logsigmoid(chosen - rejected), chosen, rejected)


LN_DPO = register_objective(Objective(
    name="ln_dpo",
    label="LN-DPO",
    loss=ln_dpo_loss,
    axes=(Axis("beta", positive, "log", "β", doc="β on the per-token log-ratio scale."),),
    needs_reference=True,
))
