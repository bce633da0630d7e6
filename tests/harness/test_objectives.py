"""Objectives: hand-computed values, agreement with TRL 1.16's own loss code, gradient
directions on a tiny Phi-3 model, and hyperparameter errors (issue 3, "What must hold" 1, 2, 6)."""

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
    get_objective,
    validate_trial_hparams,
)

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


def assert_output(out: ObjectiveOutput, loss, chosen, rejected):
    assert out.losses.item() == pytest.approx(loss, abs=1e-12)
    assert out.chosen_rewards.item() == pytest.approx(chosen, abs=1e-12)
    assert out.rejected_rewards.item() == pytest.approx(rejected, abs=1e-12)
    assert out.margins.item() == pytest.approx(chosen - rejected, abs=1e-12)


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
    no_ref = {k: v for k, v in PAIR.items() if not k.startswith("ref_")}
    assert_output(OBJECTIVES["simpo"](**no_ref, beta=2.0, gamma_beta_ratio=0.5), 2.5788897342925496, -5.0, -3.5)


def test_reference_methods_require_reference():
    no_ref = {k: v for k, v in PAIR.items() if not k.startswith("ref_")}
    for name in ("dpo", "ln_dpo"):
        assert OBJECTIVES[name].needs_reference
        with pytest.raises(ValueError, match="ref_chosen_logps"):
            OBJECTIVES[name](**no_ref, beta=0.1)
    assert not OBJECTIVES["simpo"].needs_reference


def test_zero_length_response_stays_finite():
    batch = dict(PAIR, chosen_lengths=torch.tensor([0]), rejected_lengths=torch.tensor([0]))
    for name, hp in (("ln_dpo", {"beta": 1.0}), ("simpo", {"beta": 2.0, "gamma": 0.5})):
        out = OBJECTIVES[name](**batch, **hp)
        assert torch.isfinite(out.losses).all() and torch.isfinite(out.margins).all(), name


def test_properties():
    # DPO/LN-DPO depend on the policy only through pi - ref: shifting both by c changes nothing.
    shifted = dict(PAIR)
    for k in ("policy_chosen_logps", "ref_chosen_logps"):
        shifted[k] = PAIR[k] + 3.0
    for name in ("dpo", "ln_dpo"):
        a, b = OBJECTIVES[name](**PAIR, beta=0.7), OBJECTIVES[name](**shifted, beta=0.7)
        assert torch.allclose(a.losses, b.losses)
    # SimPO's loss grows with the margin gamma.
    losses = [OBJECTIVES["simpo"](**PAIR, beta=2.0, gamma=g).losses.item() for g in (0.0, 0.5, 1.0, 2.0)]
    assert losses == sorted(losses) and len(set(losses)) == 4
    # Swapping chosen and rejected flips the margin's sign.
    swapped = dict(
        PAIR,
        policy_chosen_logps=PAIR["policy_rejected_logps"],
        policy_rejected_logps=PAIR["policy_chosen_logps"],
        chosen_lengths=PAIR["rejected_lengths"],
        rejected_lengths=PAIR["chosen_lengths"],
        ref_chosen_logps=PAIR["ref_rejected_logps"],
        ref_rejected_logps=PAIR["ref_chosen_logps"],
    )
    for name, hp in (("dpo", {"beta": 0.3}), ("ln_dpo", {"beta": 3.0}), ("simpo", {"beta": 2.0, "gamma": 0.0})):
        assert OBJECTIVES[name](**swapped, **hp).margins.item() == pytest.approx(
            -OBJECTIVES[name](**PAIR, **hp).margins.item()
        )


# --- agreement with TRL 1.16 ----------------------------------------------------------------

_B = 6


def _random_batch(seed: int):
    g = torch.Generator().manual_seed(seed)
    lengths_w = torch.randint(1, 12, (_B,), generator=g)
    lengths_l = torch.randint(1, 12, (_B,), generator=g)
    # Sequence log-probs roughly -1.5 nats per token, references nearby.
    pw = -1.5 * lengths_w * (1 + 0.3 * torch.rand(_B, generator=g, dtype=torch.float64))
    pl = -1.5 * lengths_l * (1 + 0.3 * torch.rand(_B, generator=g, dtype=torch.float64))
    rw = pw + torch.randn(_B, generator=g, dtype=torch.float64)
    rl = pl + torch.randn(_B, generator=g, dtype=torch.float64)
    return pw, pl, lengths_w, lengths_l, rw, rl


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


def _trl_dpo_losses(loss_type, beta, pw, pl, lw, ll, rw, rl, tmp_path):
    """Per-pair losses from trl.DPOTrainer._compute_loss, one pair per call.

    The trainer is built with object.__new__ and given the attributes its __init__ derives from
    a real DPOConfig; the batch is [chosen, rejected] rows, one prompt token then the response,
    with a completion_mask and precomputed reference log-probs, as TRL's collator builds it.
    """
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        output_dir=str(tmp_path), loss_type=loss_type, beta=beta, precompute_ref_log_probs=True,
        use_cpu=True, bf16=False, report_to=[],
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
    # The rewards TRL logs are beta * (pi - ref) for both loss types.
    return torch.stack(losses), trainer._metrics["eval"]


@pytest.mark.parametrize("method,loss_type,beta", [("dpo", "sigmoid", 0.1), ("ln_dpo", "sigmoid_norm", 2.0)])
def test_matches_trl_dpo_trainer(method, loss_type, beta, tmp_path):
    pw, pl, lw, ll, rw, rl = _random_batch(seed=1)
    ours = OBJECTIVES[method](pw, pl, lw, ll, rw, rl, beta=beta)
    theirs, metrics = _trl_dpo_losses(loss_type, beta, pw, pl, lw, ll, rw, rl, tmp_path)
    assert theirs.dtype == torch.float64
    torch.testing.assert_close(ours.losses, theirs, rtol=0, atol=1e-6)
    assert ours.losses.std() > 0.01  # the pairs differ, so the comparison is not vacuous
    if method == "dpo":
        trl_margins = torch.tensor(metrics["rewards/margins"], dtype=torch.float64)
        torch.testing.assert_close(ours.margins, trl_margins, rtol=0, atol=1e-6)


@pytest.mark.parametrize("gamma_kw", [{"gamma": 0.8}, {"gamma_beta_ratio": 0.4}])
def test_matches_trl_cpo_simpo(gamma_kw, tmp_path):
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental.cpo import CPOConfig, CPOTrainer

    beta = 2.0
    resolved = OBJECTIVES["simpo"].resolve(beta=beta, **gamma_kw)
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


@pytest.mark.parametrize(
    "method,hp", [("dpo", {"beta": 0.1}), ("ln_dpo", {"beta": 1.0}), ("simpo", {"beta": 2.0, "gamma": 0.5})]
)
def test_one_step_raises_chosen_over_rejected(method, hp):
    model = _tiny_phi3()
    prompt, chosen, rejected = [5, 6, 7], [10, 11, 12, 13, 14], [20, 21, 22]
    objective = get_objective(method)
    normalise = method != "dpo"  # LN-DPO and SimPO act on the average log-prob per token

    def gap():
        (lw, nw), (ll, nl) = _seq_logps(model, prompt, chosen), _seq_logps(model, prompt, rejected)
        return (lw / nw - ll / nl) if normalise else (lw - ll)

    with torch.no_grad():
        ref_w, _ = _seq_logps(model, prompt, chosen)
        ref_l, _ = _seq_logps(model, prompt, rejected)
        before = gap().item()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    (lw, nw), (ll, nl) = _seq_logps(model, prompt, chosen), _seq_logps(model, prompt, rejected)
    out = objective(lw, ll, nw, nl, ref_w, ref_l, **hp)
    out.losses.mean().backward()
    optimizer.step()
    with torch.no_grad():
        after = gap().item()
    assert after > before, (method, before, after)


# --- hyperparameter errors (no model involved) ----------------------------------------------


@pytest.mark.parametrize(
    "kwargs,parameter",
    [
        (dict(method="dpo", beta=-0.1), "beta"),
        (dict(method="ln_dpo", beta=0), "beta"),
        (dict(method="dpo", beta=0.1, gamma=0.5), "gamma"),
        (dict(method="ln_dpo", beta=1.0, gamma_beta_ratio=0.5), "gamma_beta_ratio"),
        (dict(method="simpo", beta=2.0, gamma=1.0, gamma_beta_ratio=0.5), "gamma"),
        (dict(method="simpo", beta=2.0), "gamma"),
        (dict(method="simpo", beta=2.0, gamma=-1), "gamma"),
        (dict(method="simpo", beta=2.0, gamma_beta_ratio=-0.5), "gamma_beta_ratio"),
        (dict(method="dpo", beta=0.1, epochs=0), "epochs"),
        (dict(method="dpo", beta=0.1, epochs=-2), "epochs"),
        (dict(method="dpo", beta=0.1, learning_rate=0.0), "learning_rate"),
        (dict(method="simpo", beta=2.0, gamma=1, learning_rate=-1e-6), "learning_rate"),
        (dict(method="dpo", beta=0.1, seed=-1), "seed"),
        (dict(method="dpo", beta="big"), "beta"),
        (dict(method="dpo", beta=float("nan")), "beta"),
        (dict(method="orpo", beta=0.1), "method"),
    ],
)
def test_bad_hyperparameters_name_the_parameter(kwargs, parameter):
    kwargs = {"learning_rate": 1e-6, "epochs": 1, **kwargs}
    with pytest.raises(HyperparameterError) as info:
        validate_trial_hparams(kwargs.pop("method"), **kwargs)
    assert info.value.parameter == parameter
    assert parameter in str(info.value)


def test_error_message_form():
    with pytest.raises(HyperparameterError, match=r"^simpo: gamma must be >= 0, got -1$"):
        validate_trial_hparams("simpo", beta=2.0, gamma=-1, learning_rate=1e-6, epochs=1)


def test_validate_trial_hparams_normalises():
    assert validate_trial_hparams("simpo", beta=2, gamma_beta_ratio=0.5, learning_rate=1e-6, epochs=1.0) == {
        "method": "simpo", "beta": 2.0, "gamma": 1.0, "gamma_beta_ratio": 0.5,
        "learning_rate": 1e-6, "epochs": 1, "seed": 0,
    }
    assert validate_trial_hparams("dpo", beta=0.1, learning_rate=1e-6, epochs=2, seed=3) == {
        "method": "dpo", "beta": 0.1, "gamma": None, "gamma_beta_ratio": None,
        "learning_rate": 1e-6, "epochs": 2, "seed": 3,
    }


def test_resolve_is_idempotent_and_rejects_disagreeing_margins():
    simpo = get_objective("simpo")
    resolved = simpo.resolve(beta=2.0, gamma_beta_ratio=0.5)
    assert resolved == {"beta": 2.0, "gamma": 1.0, "gamma_beta_ratio": 0.5}
    assert simpo.resolve(**resolved) == resolved
    assert simpo.resolve(beta=2.0, gamma=0.3) == {"beta": 2.0, "gamma": 0.3, "gamma_beta_ratio": None}
    with pytest.raises(HyperparameterError, match="gamma"):
        simpo.resolve(beta=2.0, gamma=0.3, gamma_beta_ratio=0.5)
    assert get_objective("dpo").resolve(beta=1, gamma=None) == {"beta": 1.0}


def test_registry():
    assert set(OBJECTIVES) == {"dpo", "ln_dpo", "simpo"}
    assert OBJECTIVES["simpo"].hyperparameters == ("beta", "gamma", "gamma_beta_ratio")
    assert OBJECTIVES["dpo"].hyperparameters == ("beta",)
    with pytest.raises(KeyError, match="dpo, ln_dpo, simpo"):
        get_objective("orpo")
    assert math.isfinite(OBJECTIVES["dpo"](**PAIR, beta=1.0).losses.item())
