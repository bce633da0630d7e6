"""IPO (Azar et al. 2023, "A General Theoretical Paradigm to Understand Learning from Human
Preferences", Eq. 17); TRL ``DPOConfig(loss_type="ipo")``, with TRL's per-token averaging.

With ``h = (pi_w - ref_w)/|y_w| - (pi_l - ref_l)/|y_l|`` (log-ratios averaged per reply token,
as TRL does: a summed log-ratio would make the squared loss grow with reply length; TRL states
the IPO authors confirmed the averaged form is what their results used)::

    loss = (h - 1 / (2 * beta))^2

``beta`` is the paper's regularization strength τ (TRL's name for it is ``beta``): the loss pulls
the per-token log-ratio gap to ``1/(2τ)``, so a small τ asks for a large gap. Implicit reward
``(pi - ref) / |y|``, the per-token log-ratio the loss acts on (lengths clamped to >= 1).
"""

from __future__ import annotations

from harness.objectives.axes import Axis, positive
from harness.objectives.base import Objective, PreferenceBatch, output, register_objective


def ipo_loss(batch: PreferenceBatch, *, beta: float):
    """``(h - 1/(2 beta))^2`` with ``h`` the per-token log-ratio gap; reward ``(pi - ref)/|y|``."""
    chosen = batch.chosen_mean_logratios
    rejected = batch.rejected_mean_logratios
    return output((chosen - rejected - 1 / (2 * beta)) ** 2, chosen, rejected)


IPO = register_objective(Objective(
    name="ipo",
    label="IPO",
    loss=ipo_loss,
    axes=(Axis("beta", positive, "log", "τ", doc="IPO's τ (TRL's beta): target gap 1/(2τ)."),),
    needs_reference=True,
))
