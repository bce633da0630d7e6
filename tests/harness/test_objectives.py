"""Objectives: hand-computed values, agreement with TRL 1.16's own loss code, the published
formulas' properties, gradient directions and hyperparameter errors, for every built-in method
(issue 3 "What must hold" 1, 2, 6; issue 11 "What must hold" 3)."""

from __future__ import annotations

import math
import os
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from harness.objectives import (
    OBJECTIVES,
    HyperparameterError,
    ObjectiveOutput,
    PreferenceBatch,
    chosen_nll,
    get_objective,
)
from builtin_methods import built_in_objectives

BUILT_IN = built_in_objectives()

T = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731

# One pair: pi_w=-10, pi_l=-14, ref_w=-11, ref_l=-12, |y_w|=4, |y_l|=8.
PAIR = dict(
    policy_chosen_logps=T(-10.0),
    policy_rejected_logps=T(-14.0),
    chosen_lengths=torch.tensor([4]),
    rejected_lengths=torch.tensor([8]),
    ref_chosen_logps=T(-11.0),
    ref_rejected_logps=T(-12.0),
)
NO_REF = {k: v for k, v in PAIR.items() if not k.startswith("ref_")}

# Hyperparameters each built-in method is exercised with (typical values of its paper or TRL).
HPARAMS = {
    "dpo": {"beta": 0.1},
    "ln_dpo": {"beta": 2.0},
    "simpo": {"beta": 2.0, "gamma": 0.5},
    "ipo": {"beta": 0.1},
    "robust": {"beta": 0.1, "label_smoothing": 0.1},
    "hinge": {"beta": 0.1},
    "apo_zero": {"beta": 0.1},
    "rdpo": {"beta": 0.1, "alpha": 0.05},
    "dpop": {"beta": 0.1, "dpop_lambda": 5.0},
    "cpo": {"beta": 0.1, "cpo_alpha": 1.0},
    "orpo": {"beta": 0.1},
}


def test_every_built_in_method_is_exercised_here():
    assert set(HPARAMS) == set(BUILT_IN)
    assert list(BUILT_IN)[:3] == ["dpo", "ln_dpo", "simpo"] and len(BUILT_IN) == 11


def assert_output(out: ObjectiveOutput, loss, chosen, rejected):
    assert out.losses.item() == pytest.approx(loss, abs=1e-12)
    assert out.chosen_rewards.item() == pytest.approx(chosen, abs=1e-12)
    assert out.rejected_rewards.item() == pytest.approx(rejected, abs=1e-12)
    assert out.margins.item() == pytest.approx(chosen - rejected, abs=1e-12)


# --- hand-computed values -------------------------------------------------------------------
# log-ratios of PAIR: h_w = -10 + 11 = 1, h_l = -14 + 12 = -2, h = h_w - h_l = 3.


def test_dpo_hand_computed():
    # beta=0.5: rewards 0.5*(-10+11)=0.5 and 0.5*(-14+12)=-1.0; z=1.5
    # loss = log(1 + e^-1.5) = log(1.22313016014843) = 0.2014132779827524
    assert_output(OBJECTIVES["dpo"](**PAIR, beta=0.5), 0.2014132779827524, 0.5, -1.0)


def test_ln_dpo_hand_computed():
    # beta=2: rewards 2*(1/4)=0.5 and 2*(-2/8)=-0.5; z=1.0
    # loss = log(1 + e^-1) = log(1.36787944117144) = 0.31326168751822286
    assert_output(OBJECTIVES["ln_dpo"](**PAIR, beta=2.0), 0.31326168751822286, 0.5, -0.5)


def test_simpo_hand_computed_and_reference_free():
    # beta=2, gamma=1: rewards 2*(-10/4)=-5.0 and 2*(-14/8)=-3.5; z=-5.0+3.5-1=-2.5
    # loss = log(1 + e^2.5) = log(13.1824939607035) = 2.5788897342925496
    out = OBJECTIVES["simpo"](**PAIR, beta=2.0, gamma=1.0)
    assert_output(out, 2.5788897342925496, -5.0, -3.5)
    # gamma_beta_ratio=0.5 is the same margin (gamma = 2 * 0.5); the reference is never read.
    assert_output(OBJECTIVES["simpo"](**NO_REF, beta=2.0, gamma_beta_ratio=0.5), 2.5788897342925496, -5.0, -3.5)


def test_ipo_hand_computed():
    # per-token log-ratios 1/4 = 0.25 and -2/8 = -0.25, gap 0.5; tau=0.25: target 1/(2*0.25) = 2
    # loss = (0.5 - 2)^2 = 2.25; rewards are the per-token log-ratios
    assert_output(OBJECTIVES["ipo"](**PAIR, beta=0.25), 2.25, 0.25, -0.25)


def test_robust_hand_computed():
    # beta=0.5, eps=0.2: z = 0.5*3 = 1.5; log s(1.5) = -0.2014132779827524,
    # log s(-1.5) = -1.7014132779827524; loss = (0.8*0.20141327798 + 0.2*(-1.70141327798)) / 0.6
    # = (0.16113062238620197 - 0.3402826555965505) / 0.6 = -0.2985867220172477
    assert_output(OBJECTIVES["robust"](**PAIR, beta=0.5, label_smoothing=0.2),
                  -0.2985867220172477, 0.5, -1.0)


def test_hinge_hand_computed():
    # beta=0.2: 1 - 0.2*3 = 0.4; beta=0.5: 1 - 1.5 < 0 -> 0 (past the margin 1/beta = 2)
    assert_output(OBJECTIVES["hinge"](**PAIR, beta=0.2), 0.4, 0.2, -0.4)
    assert_output(OBJECTIVES["hinge"](**PAIR, beta=0.5), 0.0, 0.5, -1.0)


def test_apo_zero_hand_computed():
    # beta=0.5: 1 - s(0.5) + s(-1.0) = 1 - 0.6224593312018546 + 0.2689414213699951
    assert_output(OBJECTIVES["apo_zero"](**PAIR, beta=0.5), 0.6464820901681405, 0.5, -1.0)


def test_rdpo_hand_computed():
    # beta=0.5, alpha=0.1: z = 0.5*3 + 0.1*(4 - 8) = 1.1; loss = log(1 + e^-1.1) = 0.2873353251154308
    assert_output(OBJECTIVES["rdpo"](**PAIR, beta=0.5, alpha=0.1), 0.2873353251154308, 0.5, -1.0)


def test_dpop_hand_computed():
    # the chosen log-prob is above the reference's (h_w = 1): no penalty, DPO's 0.2014132779827524
    assert_output(OBJECTIVES["dpop"](**PAIR, beta=0.5, dpop_lambda=5.0), 0.2014132779827524, 0.5, -1.0)
    # pi_w = -12 < ref_w = -11: h_w = -1, h = 1, penalty 5 * 1; z = 0.5 * (1 - 5) = -2
    # loss = log(1 + e^2) = 2.1269280110429727
    below = dict(PAIR, policy_chosen_logps=T(-12.0))
    assert_output(OBJECTIVES["dpop"](**below, beta=0.5, dpop_lambda=5.0), 2.1269280110429727, -0.5, -1.0)


def test_cpo_hand_computed():
    # beta=0.5: z = 0.5*(-10 + 14) = 2; log(1 + e^-2) = 0.1269280110429725; NLL_w = 10/4 = 2.5
    out = OBJECTIVES["cpo"](**NO_REF, beta=0.5, cpo_alpha=2.0)
    assert_output(out, 0.1269280110429725 + 2.0 * 2.5, -5.0, -7.0)


def test_orpo_hand_computed():
    # m_w = -10/4 = -2.5, m_l = -14/8 = -1.75; log odds = m - log(1 - e^m):
    # -2.5 - log(1 - 0.0820849986238988) = -2.414349516257962
    # -1.75 - log(1 - 0.1737739434504451) = -1.5591131333064532
    # ratio term: log s(-0.8552363829515088) = -1.2095363802226855; NLL_w = 2.5
    # loss = 2.5 + 0.5 * 1.2095363802226855 = 3.1047681901113426
    out = OBJECTIVES["orpo"](**NO_REF, beta=0.5)
    assert_output(out, 3.1047681901113426, -2.414349516257962, -1.5591131333064532)


def test_chosen_nll_is_the_token_mean_over_the_batch():
    # two chosen replies: -10 over 4 tokens, -2 over 1 token -> 12 / 5, not (2.5 + 2) / 2
    assert chosen_nll(T(-10.0, -2.0), torch.tensor([4, 1])).item() == pytest.approx(2.4)


def test_reference_methods_require_reference():
    for name, objective in BUILT_IN.items():
        if objective.needs_reference:
            with pytest.raises(ValueError, match="ref_chosen_logps"):
                objective(**NO_REF, **HPARAMS[name])
        else:
            assert torch.isfinite(objective(**NO_REF, **HPARAMS[name]).losses).all(), name
    assert {n for n, o in BUILT_IN.items() if not o.needs_reference} == {"simpo", "cpo", "orpo"}
    assert {n for n, o in BUILT_IN.items() if o.needs_chosen_nll} == {"cpo", "orpo"}


@pytest.mark.parametrize("method", sorted(HPARAMS))
def test_zero_length_response_stays_finite(method):
    batch = dict(PAIR, chosen_lengths=torch.tensor([0]), rejected_lengths=torch.tensor([0]),
                 policy_chosen_logps=T(0.0), policy_rejected_logps=T(0.0))
    out = OBJECTIVES[method](**batch, **HPARAMS[method])
    assert torch.isfinite(out.losses).all() and torch.isfinite(out.margins).all(), method


# --- the published formulas' properties -----------------------------------------------------


def _random_batch(seed: int, b: int = 6):
    g = torch.Generator().manual_seed(seed)
    lengths_w = torch.randint(1, 12, (b,), generator=g)
    lengths_l = torch.randint(1, 12, (b,), generator=g)
    # Sequence log-probs roughly -1.5 nats per token, references nearby.
    pw = -1.5 * lengths_w * (1 + 0.3 * torch.rand(b, generator=g, dtype=torch.float64))
    pl = -1.5 * lengths_l * (1 + 0.3 * torch.rand(b, generator=g, dtype=torch.float64))
    rw = pw + torch.randn(b, generator=g, dtype=torch.float64)
    rl = pl + torch.randn(b, generator=g, dtype=torch.float64)
    return pw, pl, lengths_w, lengths_l, rw, rl


def test_rdpo_and_dpop_are_dpo_at_zero_and_robust_at_zero_eps():
    batch = _random_batch(seed=3)
    dpo = OBJECTIVES["dpo"](*batch, beta=0.3).losses
    for name, hp in (("rdpo", {"alpha": 0.0}), ("dpop", {"dpop_lambda": 0.0}), ("robust", {"label_smoothing": 0.0})):
        torch.testing.assert_close(OBJECTIVES[name](*batch, beta=0.3, **hp).losses, dpo, rtol=0, atol=1e-12)
    # and they differ from DPO otherwise (the comparison above is not vacuous)
    assert not torch.allclose(OBJECTIVES["rdpo"](*batch, beta=0.3, alpha=0.1).losses, dpo)
    assert (batch[4] > batch[0]).any()  # some chosen log-probs below the reference: DPOP's penalty bites
    assert not torch.allclose(OBJECTIVES["dpop"](*batch, beta=0.3, dpop_lambda=5.0).losses, dpo)


def test_rdpo_discounts_pairs_whose_chosen_reply_is_longer():
    # Eq. 9 of Park et al.: a longer chosen reply already earns margin from its length, so its
    # loss (and its pull on the policy) is smaller than DPO's; a shorter one's larger.
    longer = dict(PAIR, chosen_lengths=torch.tensor([8]), rejected_lengths=torch.tensor([4]))
    dpo = OBJECTIVES["dpo"](**longer, beta=0.5).losses.item()
    assert OBJECTIVES["rdpo"](**longer, beta=0.5, alpha=0.1).losses.item() < dpo
    assert OBJECTIVES["rdpo"](**PAIR, beta=0.5, alpha=0.1).losses.item() > OBJECTIVES["dpo"](**PAIR, beta=0.5).losses.item()


def test_dpop_penalises_only_a_chosen_log_prob_below_the_reference():
    pw, pl, lw, ll, rw, rl = _random_batch(seed=4)
    dpo = OBJECTIVES["dpo"](pw, pl, lw, ll, rw, rl, beta=0.3).losses
    dpop = OBJECTIVES["dpop"](pw, pl, lw, ll, rw, rl, beta=0.3, dpop_lambda=5.0).losses
    below = pw < rw
    assert below.any() and (~below).any()
    assert torch.allclose(dpop[~below], dpo[~below]) and (dpop[below] > dpo[below]).all()


def test_properties_of_the_original_three():
    # DPO/LN-DPO depend on the policy only through pi - ref: shifting both by c changes nothing.
    shifted = dict(PAIR)
    for k in ("policy_chosen_logps", "ref_chosen_logps"):
        shifted[k] = PAIR[k] + 3.0
    for name in ("dpo", "ln_dpo", "ipo", "robust", "hinge", "rdpo"):
        hp = {**HPARAMS[name], "beta": 0.7}
        a, b = OBJECTIVES[name](**PAIR, **hp), OBJECTIVES[name](**shifted, **hp)
        assert torch.allclose(a.losses, b.losses), name
    # SimPO's loss grows with the margin gamma.
    losses = [OBJECTIVES["simpo"](**PAIR, beta=2.0, gamma=g).losses.item() for g in (0.0, 0.5, 1.0, 2.0)]
    assert losses == sorted(losses) and len(set(losses)) == 4


@pytest.mark.parametrize("method", sorted(HPARAMS))
def test_swapping_chosen_and_rejected_flips_the_margin(method):
    swapped = dict(
        PAIR,
        policy_chosen_logps=PAIR["policy_rejected_logps"],
        policy_rejected_logps=PAIR["policy_chosen_logps"],
        chosen_lengths=PAIR["rejected_lengths"],
        rejected_lengths=PAIR["chosen_lengths"],
        ref_chosen_logps=PAIR["ref_rejected_logps"],
        ref_rejected_logps=PAIR["ref_chosen_logps"],
    )
    hp = HPARAMS[method]
    assert OBJECTIVES[method](**swapped, **hp).margins.item() == pytest.approx(
        -OBJECTIVES[method](**PAIR, **hp).margins.item())


# --- gradient direction ---------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(HPARAMS))
def test_raising_the_chosen_log_prob_lowers_the_loss(method):
    """At the start of training (policy near the reference, so IPO is below its target gap and
    the hinge is active), d loss / d pi_w < 0 for every pair, and d loss / d pi_l > 0."""
    pw, pl, lw, ll, rw, rl = _random_batch(seed=5)
    g = torch.Generator().manual_seed(6)
    pw = (rw + 0.05 * torch.randn(len(rw), generator=g, dtype=torch.float64)).requires_grad_()
    pl = (rl + 0.05 * torch.randn(len(rl), generator=g, dtype=torch.float64)).requires_grad_()
    out = OBJECTIVES[method](pw, pl, lw, ll, rw, rl, **HPARAMS[method])
    out.losses.sum().backward()
    assert (pw.grad < 0).all(), (method, pw.grad)
    assert (pl.grad > 0).all(), (method, pl.grad)
    # and a small step along the gradient lowers the mean loss
    with torch.no_grad():
        step = OBJECTIVES[method](pw - 1e-3 * pw.grad, pl - 1e-3 * pl.grad, lw, ll, rw, rl, **HPARAMS[method])
    assert step.losses.mean() < out.losses.mean()


# --- agreement with TRL 1.16 ----------------------------------------------------------------


class _LogProbModel(torch.nn.Module):
    """Stands in for the policy inside DPOTrainer._compute_loss: returns given per-token
    log-probs at the completion positions (what TRL's fused LM head returns)."""

    def __init__(self, per_token_logps: torch.Tensor):
        super().__init__()
        self.per_token_logps = per_token_logps
        self.training = False

    def forward(self, input_ids, attention_mask, labels, fused_lm_head, use_cache):
        assert fused_lm_head
        shape = self.per_token_logps.shape
        return SimpleNamespace(
            log_probs=self.per_token_logps,
            entropy=torch.zeros(shape, dtype=torch.float64),
            mean_logits=torch.zeros(shape, dtype=torch.float64),
            is_top1=torch.zeros(shape, dtype=torch.bool),
        )


def _trl_dpo_losses(loss_type, beta, pw, pl, lw, ll, rw, rl, tmp_path, **config):
    """Per-pair losses from trl.DPOTrainer._compute_loss, one pair per call.

    The trainer is built with object.__new__ and given the attributes its __init__ derives from
    a real DPOConfig; the batch is [chosen, rejected] rows, one prompt token then the response,
    with a completion_mask and precomputed reference log-probs, as TRL's collator builds it.
    """
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        output_dir=str(tmp_path), loss_type=loss_type, beta=beta, precompute_ref_log_probs=True,
        use_cpu=True, bf16=False, report_to=[], **config,
    )
    trainer = object.__new__(DPOTrainer)
    trainer.args = args
    trainer.beta = args.beta
    trainer.precompute_ref_logps = args.precompute_ref_log_probs
    trainer.loss_types = args.loss_type
    trainer.loss_weights = args.loss_weights or [1.0] * len(trainer.loss_types)
    trainer.ld_alpha = args.ld_alpha
    trainer.f_divergence_type = args.f_divergence_type
    trainer.label_smoothing = args.label_smoothing
    trainer.use_weighting = args.use_weighting
    trainer.aux_loss_enabled = False
    trainer._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    trainer._total_train_tokens = 0
    trainer.accelerator = SimpleNamespace(
        device=torch.device("cpu"), gather=lambda x: x, gather_for_metrics=lambda x: x
    )
    assert trainer.f_divergence_type == "reverse_kl" and trainer.ld_alpha is None

    losses = []
    for i in range(len(pw)):
        n = int(max(lw[i], ll[i])) + 1
        completion_mask = torch.zeros(2, n, dtype=torch.long)
        per_token = torch.zeros(2, n - 1, dtype=torch.float64)
        for row, (logp, length) in enumerate(((pw[i], lw[i]), (pl[i], ll[i]))):
            completion_mask[row, 1 : 1 + length] = 1
            per_token[row, :length] = logp / length  # sums to logp over the response
        trainer.model = _LogProbModel(per_token)
        inputs = {
            "input_ids": torch.zeros(2, n, dtype=torch.long),
            "attention_mask": torch.ones(2, n, dtype=torch.long),
            "completion_mask": completion_mask,
            "ref_chosen_logps": rw[i : i + 1],
            "ref_rejected_logps": rl[i : i + 1],
        }
        losses.append(trainer._compute_loss(trainer.model, inputs, return_outputs=False))
    # The rewards TRL logs are beta * (pi - ref) for every loss type.
    return torch.stack(losses), trainer._metrics["eval"]


# (method, TRL loss_type, DPOConfig fields, whether our rewards are TRL's beta * (pi - ref))
TRL_DPO = [
    ("dpo", "sigmoid", {}, True),
    ("ln_dpo", "sigmoid_norm", {}, False),
    ("ipo", "ipo", {}, False),
    ("robust", "robust", {"label_smoothing": 0.1}, True),
    ("hinge", "hinge", {}, True),
    ("apo_zero", "apo_zero", {}, True),
]


@pytest.mark.parametrize("method,loss_type,config,same_rewards", TRL_DPO, ids=[m[0] for m in TRL_DPO])
def test_matches_trl_dpo_trainer(method, loss_type, config, same_rewards, tmp_path):
    pw, pl, lw, ll, rw, rl = _random_batch(seed=1)
    hp = {**HPARAMS[method], **config}
    ours = OBJECTIVES[method](pw, pl, lw, ll, rw, rl, **hp)
    theirs, metrics = _trl_dpo_losses(loss_type, hp["beta"], pw, pl, lw, ll, rw, rl, tmp_path, **config)
    assert theirs.dtype == torch.float64
    torch.testing.assert_close(ours.losses, theirs, rtol=0, atol=1e-6)
    assert ours.losses.std() > 0.01  # the pairs differ, so the comparison is not vacuous
    if same_rewards:
        trl_margins = torch.tensor(metrics["rewards/margins"], dtype=torch.float64)
        torch.testing.assert_close(ours.margins, trl_margins, rtol=0, atol=1e-6)


@pytest.mark.parametrize("gamma_kw", [{"gamma": 0.8}, {"gamma_beta_ratio": 0.4}])
def test_matches_trl_cpo_simpo(gamma_kw, tmp_path):
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental.cpo import CPOConfig, CPOTrainer

    beta = 2.0
    resolved = OBJECTIVES["simpo"].resolve({"beta": beta, **gamma_kw})
    assert resolved["gamma"] == pytest.approx(0.8)
    args = CPOConfig(
        output_dir=str(tmp_path), loss_type="simpo", cpo_alpha=0.0, beta=beta,
        simpo_gamma=resolved["gamma"], use_cpu=True, bf16=False, report_to=[],
    )
    trainer = object.__new__(CPOTrainer)
    trainer.beta = args.beta
    trainer.label_smoothing = args.label_smoothing
    trainer.loss_type = args.loss_type
    trainer.cpo_alpha = args.cpo_alpha
    trainer.simpo_gamma = args.simpo_gamma
    trainer.alpha = args.alpha
    trainer.accelerator = SimpleNamespace(device=torch.device("cpu"))
    assert trainer.cpo_alpha == 0.0 and trainer.alpha == 0.0

    pw, pl, lw, ll, _, _ = _random_batch(seed=2)
    ours = OBJECTIVES["simpo"](pw, pl, lw, ll, **resolved)
    # For loss_type="simpo" CPOTrainer feeds cpo_loss the average log-prob per response token.
    theirs, chosen_r, rejected_r = trainer.cpo_loss(pw / lw, pl / ll)
    torch.testing.assert_close(ours.losses, theirs, rtol=0, atol=1e-6)
    torch.testing.assert_close(ours.chosen_rewards, chosen_r, rtol=0, atol=1e-6)
    torch.testing.assert_close(ours.rejected_rewards, rejected_r, rtol=0, atol=1e-6)
    assert ours.losses.std() > 0.01


class _LogitsModel(torch.nn.Module):
    """Stands in for the policy in TRL's CPO/ORPO ``concatenated_forward``: fixed logits."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = logits

    def forward(self, input_ids, attention_mask=None, use_cache=False):
        assert input_ids.shape == self.logits.shape[:2]
        return SimpleNamespace(logits=self.logits)


def _token_batch(seed: int, b: int = 4, width: int = 9, vocab: int = 13):
    """Random pairs as TRL's experimental trainers take them: one prompt token (TRL's ORPO
    counts every prompt token after the first in its NLL; with one, it counts the reply only,
    as the paper and we do), a reply of 2..8 tokens, right padding; and random float64 logits.

    Returns (TRL batch, logits of [chosen; rejected], our summed reply log-probs and lengths).
    """
    g = torch.Generator().manual_seed(seed)
    batch = {}
    for side in ("chosen", "rejected"):
        ids = torch.randint(1, vocab, (b, width), generator=g)
        lengths = torch.randint(2, width, (b,), generator=g)
        mask = (torch.arange(width)[None, :] < (1 + lengths)[:, None]).long()
        ids = ids.masked_fill(mask == 0, 0)
        labels = ids.masked_fill(mask == 0, -100)
        labels[:, 0] = -100  # the prompt
        batch.update({f"{side}_input_ids": ids, f"{side}_attention_mask": mask, f"{side}_labels": labels})
    logits = torch.randn(2 * b, width, vocab, generator=g, dtype=torch.float64)
    labels = torch.cat([batch["chosen_labels"], batch["rejected_labels"]])
    target = labels[:, 1:]
    per_token = torch.log_softmax(logits[:, :-1], -1).gather(-1, target.clamp(min=0)[..., None])[..., 0]
    scored = target != -100
    logps = (per_token * scored).sum(-1)
    lengths = scored.sum(-1)
    return batch, logits, logps.chunk(2), lengths.chunk(2)


def _experimental_trainer(cls, **attrs):
    trainer = object.__new__(cls)
    trainer.is_encoder_decoder = False
    trainer.aux_loss_enabled = False
    trainer.accelerator = SimpleNamespace(device=torch.device("cpu"), gather_for_metrics=lambda x: x)
    for k, v in attrs.items():
        setattr(trainer, k, v)
    return trainer


def test_matches_trl_cpo_with_the_chosen_nll():
    """TRL's whole CPO loss, ``mean(cpo_loss) + cpo_alpha * CrossEntropy(chosen tokens)``, from
    the same logits as our summed log-probs and chosen NLL."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental.cpo import CPOTrainer

    batch, logits, (pw, pl), (lw, ll) = _token_batch(seed=7)
    hp = {"beta": 0.5, "cpo_alpha": 0.7}
    trainer = _experimental_trainer(CPOTrainer, pad_token_id=0, loss_type="sigmoid", label_smoothing=0.0,
                                    simpo_gamma=0.5, alpha=0.0, **hp)
    theirs, metrics = trainer.get_batch_loss_metrics(_LogitsModel(logits), batch)
    ours = OBJECTIVES["cpo"](pw, pl, lw, ll, **hp)
    assert theirs.dtype == torch.float64
    torch.testing.assert_close(ours.losses.mean(), theirs, rtol=0, atol=1e-6)
    assert metrics["nll_loss"] == pytest.approx(chosen_nll(pw, lw).item(), abs=1e-9)
    assert metrics["rewards/margins"] == pytest.approx(ours.margins.mean().item(), abs=1e-9)
    assert ours.losses.std() > 0.01


def test_matches_trl_orpo():
    """TRL's whole ORPO loss, ``NLL - mean(beta * log sigma(log odds ratio))`` (TRL computes the
    odds ratio in float32, hence 1e-6), from the same logits."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental.orpo import ORPOTrainer

    batch, logits, (pw, pl), (lw, ll) = _token_batch(seed=8)
    trainer = _experimental_trainer(ORPOTrainer, padding_value=0, beta=0.25)
    theirs, metrics = trainer.get_batch_loss_metrics(_LogitsModel(logits), batch)
    ours = OBJECTIVES["orpo"](pw, pl, lw, ll, beta=0.25)
    torch.testing.assert_close(ours.losses.mean().float(), theirs.float(), rtol=0, atol=1e-6)
    assert metrics["nll_loss"] == pytest.approx(chosen_nll(pw, lw).item(), abs=1e-6)
    # TRL's log_odds_ratio metric is the mean log sigma(log odds ratio): the margins' log sigma
    assert metrics["log_odds_ratio"] == pytest.approx(
        torch.nn.functional.logsigmoid(ours.margins).mean().item(), abs=1e-6)
    assert ours.losses.std() > 0.01


# --- gradient directions on a tiny Phi-3 ----------------------------------------------------


def _tiny_phi3():
    from transformers import Phi3Config, Phi3ForCausalLM

    torch.manual_seed(0)
    config = Phi3Config(
        vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=32,
        pad_token_id=0, bos_token_id=1, eos_token_id=2,
    )
    return Phi3ForCausalLM(config).double()


def _seq_logps(model, prompt, response):
    """Summed log-prob of ``response`` given ``prompt`` and its length in tokens."""
    ids = torch.tensor([prompt + response])
    logits = model(input_ids=ids).logits[:, :-1]
    token_logps = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
    return token_logps[:, len(prompt) - 1 :].sum(dim=1), torch.tensor([len(response)])


@pytest.mark.parametrize("method", sorted(HPARAMS))
def test_one_step_on_a_tiny_model_raises_the_chosen_reply(method):
    """One SGD step on one pair, from policy == reference, raises the chosen reply's average
    log-prob per token relative to the rejected one's."""
    model = _tiny_phi3()
    prompt, chosen, rejected = [5, 6, 7], [10, 11, 12, 13, 14], [20, 21, 22]
    objective = get_objective(method)

    def gap():
        (lw, nw), (ll, nl) = _seq_logps(model, prompt, chosen), _seq_logps(model, prompt, rejected)
        return (lw / nw - ll / nl).item()

    with torch.no_grad():
        ref_w, _ = _seq_logps(model, prompt, chosen)
        ref_l, _ = _seq_logps(model, prompt, rejected)
        before = gap()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    (lw, nw), (ll, nl) = _seq_logps(model, prompt, chosen), _seq_logps(model, prompt, rejected)
    objective(lw, ll, nw, nl, ref_w, ref_l, **HPARAMS[method]).losses.mean().backward()
    optimizer.step()
    with torch.no_grad():
        after = gap()
    assert after > before, (method, before, after)


# --- hyperparameter errors (no model involved) ----------------------------------------------


@pytest.mark.parametrize(
    "method,values,parameter",
    [
        ("dpo", dict(beta=-0.1), "beta"),
        ("ln_dpo", dict(beta=0), "beta"),
        ("dpo", dict(beta=0.1, gamma=0.5), "gamma"),
        ("ln_dpo", dict(beta=1.0, gamma_beta_ratio=0.5), "gamma_beta_ratio"),
        ("simpo", dict(beta=2.0, gamma=1.0, gamma_beta_ratio=0.6), "gamma"),
        ("simpo", dict(beta=2.0), "gamma"),
        ("simpo", dict(beta=2.0, gamma=-1), "gamma"),
        ("simpo", dict(beta=2.0, gamma_beta_ratio=-0.5), "gamma_beta_ratio"),
        ("dpo", dict(beta=0.1, epochs=0), "epochs"),
        ("dpo", dict(beta=0.1, epochs=-2), "epochs"),
        ("dpo", dict(beta=0.1, learning_rate=0.0), "learning_rate"),
        ("simpo", dict(beta=2.0, gamma=1, learning_rate=-1e-6), "learning_rate"),
        ("dpo", dict(beta="big"), "beta"),
        ("dpo", dict(beta=float("nan")), "beta"),
        ("robust", dict(beta=0.1, label_smoothing=0.5), "label_smoothing"),
        ("robust", dict(beta=0.1), "label_smoothing"),
        ("rdpo", dict(beta=0.1, alpha=-1), "alpha"),
        ("dpop", dict(beta=0.1, dpop_lambda=-5), "dpop_lambda"),
        ("cpo", dict(beta=0.1, cpo_alpha=-1), "cpo_alpha"),
        ("cpo", dict(beta=0.1, alpha=1.0), "alpha"),
        ("orpo", dict(beta=0), "beta"),
        ("ipo", dict(beta=-1), "beta"),
    ],
)
def test_bad_hyperparameters_name_the_parameter(method, values, parameter):
    with pytest.raises(HyperparameterError) as info:
        OBJECTIVES[method].resolve({"learning_rate": 1e-6, "epochs": 1, **values})
    assert info.value.parameter == parameter
    assert parameter in str(info.value)


def test_error_message_form():
    with pytest.raises(HyperparameterError, match=r"^simpo: gamma must be >= 0, got -1$"):
        OBJECTIVES["simpo"].resolve({"beta": 2.0, "gamma": -1})
    with pytest.raises(HyperparameterError, match=r"^robust: label_smoothing must be in \[0, 0.5\), got 0.5$"):
        OBJECTIVES["robust"].resolve({"beta": 0.1, "label_smoothing": 0.5})
    with pytest.raises(KeyError, match="unknown method 'kto'; available: dpo, ln_dpo, simpo, ipo"):
        get_objective("kto")


def test_resolve_normalises_derives_and_is_idempotent():
    simpo = get_objective("simpo")
    resolved = simpo.resolve({"beta": 2, "gamma_beta_ratio": 0.5, "learning_rate": 1e-6, "epochs": 1.0})
    assert resolved == {"beta": 2.0, "gamma_beta_ratio": 0.5, "gamma": 1.0, "learning_rate": 1e-6, "epochs": 1}
    assert list(resolved) == ["beta", "gamma_beta_ratio", "gamma", "learning_rate", "epochs"]
    assert isinstance(resolved["epochs"], int)
    assert simpo.resolve(resolved) == resolved
    assert simpo.resolve({"beta": 2.0, "gamma": 0.3}) == {"beta": 2.0, "gamma": 0.3}
    with pytest.raises(HyperparameterError, match="gamma disagrees with beta=2.0, gamma_beta_ratio=0.5"):
        simpo.resolve({"beta": 2.0, "gamma": 0.3, "gamma_beta_ratio": 0.5})
    assert get_objective("dpo").resolve({"beta": 1, "gamma": None}) == {"beta": 1.0}
    assert simpo.loss_kwargs(resolved) == {"beta": 2.0, "gamma": 1.0}


def test_registrations_describe_their_axes():
    """What study.json and the config read: names, scales, labels, derivation, id membership."""
    simpo = OBJECTIVES["simpo"]
    assert [a.name for a in simpo.all_axes()] == ["beta", "gamma_beta_ratio", "gamma", "learning_rate", "epochs"]
    gamma = simpo.axis("gamma")
    assert gamma.derived_from == ("beta", "gamma_beta_ratio") and gamma.in_id
    assert not simpo.axis("gamma_beta_ratio").in_id
    assert simpo.exclusive_groups() == [("gamma", ("gamma_beta_ratio",))]
    for name, objective in BUILT_IN.items():
        assert objective.label and objective.doc, name
        assert objective.axis("beta").scale == "log", name
        assert set(objective.loss_parameters) <= set(objective.axis_names), name
        # every own axis is a hyperparameter the loss reads, or the source of one it reads
        read = set(objective.loss_parameters)
        sources = {s for a in objective.axes if a.name in read for s in a.derived_from}
        assert set(objective.axis_names) <= read | sources, name


def test_a_registration_is_checked():
    from harness.objectives import Axis, Objective, positive

    def loss(batch, *, beta, tau):
        raise AssertionError

    with pytest.raises(ValueError, match=r"the loss takes \['tau'\]"):
        Objective("x", "X", loss, (Axis("beta", positive, "log", "β"),), needs_reference=False)
    with pytest.raises(ValueError, match="axis name 'learning_rate' is taken"):
        Objective("x", "X", lambda batch: None, (Axis("learning_rate", positive, "log", "lr"),), False)
    with pytest.raises(ValueError, match="axis name 'status' is taken"):
        Objective("x", "X", lambda batch: None, (Axis("status", positive, "log", "s"),), False)
    with pytest.raises(ValueError, match="already registered"):
        from harness.objectives import register_objective

        register_objective(Objective("dpo", "DPO", lambda batch: None, (), False))


def test_preference_batch_caches_its_derived_tensors():
    batch = PreferenceBatch(**PAIR)
    assert batch.chosen_mean_logratios is batch.chosen_mean_logratios
    assert batch.chosen_mean_logratios.item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="no reference log-probs"):
        PreferenceBatch(**NO_REF).chosen_logratios
    assert math.isclose(batch.policy_rejected_mean_logps.item(), -14 / 8)
