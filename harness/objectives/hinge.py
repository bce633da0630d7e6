"""Hinge loss on the DPO log-ratio, the SLiC-HF calibration loss (Zhao et al. 2023, "SLiC-HF:
Sequence Likelihood Calibration with Human Feedback") in the form TRL implements it
(``DPOConfig(loss_type="hinge")``, after Liu et al. 2023, "Statistical Rejection Sampling
Improves Preference Optimization").

With ``h = (pi_w - ref_w) - (pi_l - ref_l)``::

    loss = max(0, 1 - beta * h) = beta * max(0, 1/beta - h)

so ``1/beta`` is SLiC's margin δ: pairs whose log-ratio gap exceeds δ contribute nothing.
(SLiC-HF itself compares ``pi_w - pi_l`` without the reference and adds an SFT term; TRL's
``hinge`` keeps DPO's reference-anchored log-ratios.) Implicit reward ``beta * (pi - ref)``.
"""

from __future__ import annotations

from harness.objectives.axes import Axis, positive
from harness.objectives.base import Objective, PreferenceBatch, output, register_objective


def hinge_loss(batch: PreferenceBatch, *, beta: float):
    """``max(0, 1 - beta * [(pi_w - ref_w) - (pi_l - ref_l)])``; reward ``beta * (pi - ref)``."""
    chosen = beta * batch.chosen_logratios
    rejected = beta * batch.rejected_logratios
    return output((1 - (chosen - rejected)).clamp(min=0), chosen, rejected)


HINGE = register_objective(Objective(
    name="hinge",
    label="Hinge (SLiC)",
    loss=hinge_loss,
    axes=(Axis("beta", positive, "log", "β (1/δ)", doc="Inverse hinge margin: δ = 1/beta."),),
    needs_reference=True,
))
