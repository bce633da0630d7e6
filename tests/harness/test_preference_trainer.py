"""PreferenceTrainer: TRL's DPOTrainer with the objective registry at its loss hook.

Pinned against a hand computation with the tiny world's SFT model: the summed completion
log-probs and lengths the trainer feeds the objective, the loss it reports, DPO's zero margin at
the reference, and divergence detection (non-finite loss or gradient -> ``Diverged``).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from harness.config.sections import TrainingConfig
from harness.io import read_jsonl
from harness.objectives import Objective, get_objective
from harness.train import Diverged, _trl_args, to_trl_rows, trl_fields

HPARAMS = {"dpo": {"beta": 0.1}, "ln_dpo": {"beta": 1.0}, "simpo": {"beta": 2.0, "gamma": 0.5},
           "orpo": {"beta": 0.5}, "cpo": {"beta": 0.1, "cpo_alpha": 1.0}}
# max_length above every toy sequence: no truncation, so the hand computation sees what TRL sees.
TRAINING = TrainingConfig(batch_size=4, max_length=128, warmup_ratio=0.0,
                          lr_scheduler_type="constant", logging_steps=1)
N_PAIRS = 6


@pytest.fixture(scope="module")
def pairs(tiny_world) -> pd.DataFrame:
    return pd.DataFrame(read_jsonl(tiny_world / "train_pairs.jsonl")).iloc[:N_PAIRS]


@pytest.fixture(scope="module")
def sft(tiny_world):
    from harness.models import load_causal_lm, load_tokenizer

    path = str(tiny_world / "sft")
    return load_causal_lm(path, dtype="float32"), load_tokenizer(path)


def make_trainer(model, tokenizer, rows, method, tmp_path, *, reference=None, training=TRAINING,
                 learning_rate=1e-3, **kwargs):
    from datasets import Dataset

    from harness.preference_trainer import PreferenceTrainer

    objective = get_objective(method)
    hparams = objective.resolve({**HPARAMS[method], "learning_rate": learning_rate, "epochs": 1})
    args = _trl_args(training, output_dir=tmp_path, seed=0, dtype="float32", fields=trl_fields(hparams))
    assert (args.learning_rate, args.num_train_epochs) == (learning_rate, 1)
    return PreferenceTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                             processing_class=tokenizer, objective=objective, hparams=hparams,
                             reference=reference, **kwargs)


@torch.no_grad()
def hand_logp(model, tokenizer, prompt, response) -> tuple[float, int]:
    """log pi(response | prompt) summed over the response's tokens, and their count.

    The response tokens are those of the chat ``prompt + [assistant: response]`` after the
    generation prompt (``<|user|>...<|end|>\\n<|assistant|>\\n``): the text, ``<|end|>``, the
    newline and ``<|endoftext|>``.
    """
    p = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                      return_dict=True)["input_ids"]
    full = tokenizer.apply_chat_template(prompt + [{"role": "assistant", "content": response}],
                                         tokenize=True, return_dict=True)["input_ids"]
    assert full[: len(p)] == p
    model.eval()
    logits = model(torch.tensor([full])).logits[0].double()
    logprobs = torch.log_softmax(logits[:-1], dim=-1)  # row t predicts token t + 1
    targets = torch.tensor(full[1:])
    per_token = logprobs.gather(1, targets[:, None])[:, 0]
    return float(per_token[len(p) - 1:].sum()), len(full) - len(p)


@pytest.fixture(scope="module")
def hand(sft, pairs):
    """pair_id -> (chosen logp, rejected logp, chosen length, rejected length), by hand."""
    model, tok = sft
    out = {}
    for r in pairs.itertuples(index=False):
        prompt = [dict(m) for m in r.prompt]
        (c, lc), (j, lr) = hand_logp(model, tok, prompt, r.chosen), hand_logp(model, tok, prompt, r.rejected)
        out[r.pair_id] = (c, j, lc, lr)
    return out


def test_sequence_logps_table_matches_a_hand_computation(sft, pairs, hand, tmp_path):
    from harness.preference_trainer import sequence_logps_table

    model, tok = sft
    rows = to_trl_rows(pairs)
    table = sequence_logps_table(make_trainer(model, tok, rows[:1], "dpo", tmp_path), rows)
    assert sorted(table) == sorted(hand)
    for pid, (c, r) in table.items():
        assert c == pytest.approx(hand[pid][0], abs=1e-4), pid
        assert r == pytest.approx(hand[pid][1], abs=1e-4), pid
        assert c < 0 and r < 0


def test_sequence_logps_lengths_count_response_tokens(sft, pairs, hand, tmp_path):
    model, tok = sft
    rows = to_trl_rows(pairs)
    trainer = make_trainer(model, tok, rows, "simpo", tmp_path)
    ds = trainer.train_dataset
    batch = _full_batch(trainer)
    model.eval()
    with torch.no_grad():
        (c, r), (lc, lr) = trainer.sequence_logps(model, batch)
    ids = ds["pair_id"]
    assert lc.tolist() == [hand[i][2] for i in ids]
    assert lr.tolist() == [hand[i][3] for i in ids]
    assert c.tolist() == pytest.approx([hand[i][0] for i in ids], abs=1e-4)
    assert r.tolist() == pytest.approx([hand[i][1] for i in ids], abs=1e-4)


def test_simpo_loss_is_the_objective_of_hand_logps(sft, pairs, hand, tmp_path):
    from harness.preference_trainer import pair_statistics

    model, tok = sft
    rows = to_trl_rows(pairs)
    stats = pair_statistics(make_trainer(model, tok, rows, "simpo", tmp_path), rows)
    beta, gamma = 2.0, 0.5
    margins = [beta * (c / lc - j / lr) for c, j, lc, lr in hand.values()]
    # SimPO: -log sigmoid(beta * (pi_w/|y_w| - pi_l/|y_l|) - gamma) = log(1 + exp(-(m - gamma)))
    losses = [math.log1p(math.exp(-(m - gamma))) for m in margins]
    assert stats["loss"] == pytest.approx(sum(losses) / len(losses), abs=1e-5)
    assert stats["reward_margin"] == pytest.approx(sum(margins) / len(margins), abs=1e-5)
    # the trainer averages in float32: 4/6 comes back as 0.66666669
    assert stats["reward_accuracy"] == pytest.approx(sum(m > 0 for m in margins) / len(margins), abs=1e-6)


def _full_batch(trainer):
    ds = trainer.train_dataset
    return trainer.data_collator(
        [{k: ds[i][k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")} for i in range(len(ds))]
    )


@pytest.mark.parametrize("method", ["simpo", "orpo", "cpo"])
def test_the_chosen_nll_is_handed_only_to_methods_that_need_it(sft, pairs, hand, tmp_path, method):
    model, tok = sft
    trainer = make_trainer(model, tok, to_trl_rows(pairs), method, tmp_path)
    model.eval()
    with torch.no_grad():
        batch = trainer.preference_batch(model, _full_batch(trainer))
    assert batch.ref_chosen_logps is None  # reference-free: no reference read either
    if method == "simpo":
        assert batch.chosen_nll is None
    else:
        # the batch's mean NLL per chosen-reply token, from the hand log-probs
        nll = -sum(h[0] for h in hand.values()) / sum(h[2] for h in hand.values())
        assert batch.chosen_nll.item() == pytest.approx(nll, abs=1e-5)


def test_orpo_loss_is_the_objective_of_hand_logps(sft, pairs, hand, tmp_path):
    """ORPO through the trainer: NLL of the chosen tokens of each evaluation batch (4 pairs, then
    2) minus beta * log sigma(log-odds ratio of the average per-token log-probs)."""
    from harness.preference_trainer import pair_statistics

    model, tok = sft
    rows = to_trl_rows(pairs)
    stats = pair_statistics(make_trainer(model, tok, rows, "orpo", tmp_path), rows)
    beta, values = 0.5, list(hand.values())

    def log_odds(m):
        return m - math.log(1 - math.exp(m))

    losses, margins = [], []
    for batch in (values[:4], values[4:]):
        nll = -sum(c for c, _, _, _ in batch) / sum(lc for _, _, lc, _ in batch)
        for c, j, lc, lr in batch:
            margin = log_odds(c / lc) - log_odds(j / lr)
            margins.append(margin)
            losses.append(nll + beta * math.log1p(math.exp(-margin)))
    assert stats["loss"] == pytest.approx(sum(losses) / len(losses), abs=1e-5)
    assert stats["reward_margin"] == pytest.approx(sum(margins) / len(margins), abs=1e-5)


@pytest.mark.parametrize("method", ["dpo", "ln_dpo"])
def test_policy_equal_to_reference_has_zero_margin(sft, pairs, tmp_path, method):
    """At the start of training the policy is the reference: every log-ratio is 0, so the loss
    is -log sigmoid(0) = log 2 = 0.693147 for every pair and no pair counts as correct."""
    from harness.preference_trainer import pair_statistics, sequence_logps_table

    model, tok = sft
    rows = to_trl_rows(pairs)
    reference = sequence_logps_table(make_trainer(model, tok, rows[:1], "dpo", tmp_path), rows)
    stats = pair_statistics(make_trainer(model, tok, rows, method, tmp_path, reference=reference), rows)
    assert stats["loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert stats["reward_margin"] == pytest.approx(0.0, abs=1e-6)
    assert stats["reward_accuracy"] == 0.0


def test_non_finite_loss_raises_diverged_with_the_step(sft, pairs, tmp_path):
    model, tok = sft
    trainer = make_trainer(model, tok, to_trl_rows(pairs), "simpo", tmp_path)
    # An objective whose loss is NaN (what an overflowing policy produces).
    trainer.objective = Objective("nan", "NaN", lambda batch: _nan_output(batch.policy_chosen_logps),
                                  (), needs_reference=False)
    trainer.hparams = {}
    trainer.state.global_step = 7
    ds = trainer.train_dataset
    batch = trainer.data_collator([{k: ds[0][k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")}])
    with pytest.raises(Diverged, match="non-finite loss at step 7") as exc:
        trainer.compute_loss(model, batch)
    assert exc.value.step == 7 and exc.value.what == "loss"


def _nan_output(pc):
    from harness.objectives import ObjectiveOutput

    nan = torch.full_like(pc, float("nan"))
    return ObjectiveOutput(nan, nan.detach(), nan.detach(), nan.detach())


def test_non_finite_gradient_raises_diverged_before_the_optimizer_step():
    from harness.preference_trainer import _FiniteGradients

    layer = torch.nn.Linear(3, 2)
    layer(torch.ones(1, 3)).sum().backward()
    state = SimpleNamespace(global_step=4)
    _FiniteGradients().on_pre_optimizer_step(None, state, None, model=layer)  # finite: no error
    layer.weight.grad[0, 1] = float("inf")
    with pytest.raises(Diverged, match="non-finite gradient at step 4"):
        _FiniteGradients().on_pre_optimizer_step(None, state, None, model=layer)


def test_last_train_loss_is_the_mean_of_the_last_logging_window(tiny_world, pairs, tmp_path):
    from harness.models import load_causal_lm, load_tokenizer

    path = str(tiny_world / "sft")
    model, tok = load_causal_lm(path, dtype="float32"), load_tokenizer(path)
    # 6 pairs, batch 4: 2 steps per epoch, 4 steps in 2 epochs; one logging window = 2 steps.
    training = TRAINING.model_copy(update={"logging_steps": 2})
    trainer = make_trainer(model, tok, to_trl_rows(pairs), "simpo", tmp_path, training=training)
    trainer.args.num_train_epochs = 2
    assert math.isnan(trainer.last_train_loss)
    trainer.train()
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(logged) == 2  # steps 2 and 4
    # Trainer logs the mean loss over the window since the last log, as last_train_loss does.
    assert trainer.last_train_loss == pytest.approx(logged[-1], rel=1e-6)
