"""ORPO (Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model",
Eqs. 4-7); TRL's experimental ``ORPOTrainer``.

Reference-free, on ``m = pi/|y|``, the average log-prob per reply token, read as a probability
``P = exp(m)`` with odds ``P / (1 - P)``::

    log_odds(y) = m - log(1 - exp(m))
    loss = NLL_w - beta * log sigma(log_odds(y_w) - log_odds(y_l))

``NLL_w`` is the batch's mean NLL per chosen-reply token (the SFT term). ``beta`` is the paper's
λ (TRL's name for it is ``beta``), the weight of the odds-ratio term. TRL's ORPO also counts
the prompt's tokens in the NLL; the paper's SFT term, and this one, cover the reply only.
Implicit reward ``log_odds(y)``, what the loss compares. A reply of zero tokens (m = 0) would
have infinite odds: ``m`` is capped at ``-1e-6``.
"""

from __future__ import annotations

from harness.objectives.axes import Axis, positive
from harness.objectives.base import Objective, PreferenceBatch, logsigmoid, output, register_objective


def log_odds(mean_logps):
    """``m - log(1 - exp(m))`` for ``m < 0``, stable on both sides of ``-log 2``."""
    import torch

    m = mean_logps.clamp(max=-1e-6)
    log1mexp = torch.where(m < -0.6931471805599453, torch.log1p(-torch.exp(m)), torch.log(-torch.expm1(m)))
    return m - log1mexp


def orpo_loss(batch: PreferenceBatch, *, beta: float):
    """``NLL_w - beta * log sigma(log_odds_w - log_odds_l)``; reward ``log_odds``."""
    chosen = log_odds(batch.policy_chosen_mean_logps)
    rejected = log_odds(batch.policy_rejected_mean_logps)
    return output(batch.chosen_nll - beta * logsigmoid(chosen - rejected), chosen, rejected)


ORPO = register_objective(Objective(
    name="orpo",
    label="ORPO",
    loss=orpo_loss,
    axes=(Axis("beta", positive, "log", "λ", doc="ORPO's λ (TRL's beta): weight of the odds-ratio term."),),
    needs_reference=False,
    needs_chosen_nll=True,
))
