"""The ``oasst`` judge on tiny random checkpoints in Open-Assistant's exact layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from harness.judges import build_judge
from harness.judges.gpt_neox_reward import GPTNeoXRewardModel
from harness.judges.loading import JudgeLoadError
from harness.judges.oasst import oasst_text

from .conftest import build_tokenizer

PROMPTS = [
    [{"role": "user", "content": "hello world how are you today"}],
    [{"role": "user", "content": "please give me some tips for cooking pasta"}],
    [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "i am fine"},
        {"role": "user", "content": "tips for pasta"},
    ],
    [{"role": "system", "content": "be nice"}, {"role": "user", "content": "the cat"}],
    [{"role": "user", "content": "the dog ran"}],
    [{"role": "user", "content": "how are you"}],
]
RESPONSES = [
    "i am fine thanks",
    "boil water add salt then the pasta",
    "boil water",
    "",
    "the cat sat on the mat and the dog ran and ran and ran",
    "fine",
]


def reference_scores(body, head, tokenizer, texts):
    """Independent score: plain GPTNeoXModel on the unpadded ids, last position, out_proj."""
    out = []
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])
            out.append(head(body(ids).last_hidden_state[0, -1]).item())
    return np.array(out)


def test_oasst_text_is_open_assistant_format():
    one = [{"role": "user", "content": "Hi there"}]
    assert oasst_text(one, "Hello!") == (
        "<|prompter|>Hi there<|endoftext|><|assistant|>Hello!<|endoftext|>"
    )
    multi = [
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    assert oasst_text(multi, "") == (
        "<|prompter|>a<|endoftext|><|assistant|>b<|endoftext|>"
        "<|prompter|>c<|endoftext|><|assistant|><|endoftext|>"
    )


@pytest.mark.parametrize("fmt", ["bin", "safetensors"])
def test_upstream_checkpoint_loads_with_every_key_and_scores_like_reference(
    make_oasst_checkpoint, fmt
):
    folder, body, head = make_oasst_checkpoint(fmt)
    model, info = GPTNeoXRewardModel.from_pretrained(folder, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert torch.equal(model.out_proj.weight, head.weight)
    assert torch.equal(model.out_proj.bias, head.bias)

    judge = build_judge({"name": "oasst", "model": str(folder), "batch_size": 4, "device": "cpu"})
    scores = judge.score(PROMPTS, RESPONSES)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    expected = reference_scores(
        body, head, tokenizer, [oasst_text(p, r) for p, r in zip(PROMPTS, RESPONSES)]
    )
    assert scores.dtype == np.float64 and scores.shape == (len(PROMPTS),)
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-5)
    assert np.ptp(scores) > 0.1  # the fixture discriminates between texts


def test_batch_size_does_not_change_scores_and_scores_are_deterministic(make_oasst_checkpoint):
    folder, _, _ = make_oasst_checkpoint()
    one = build_judge({"name": "oasst", "model": str(folder), "batch_size": 1, "device": "cpu"})
    four = build_judge({"name": "oasst", "model": str(folder), "batch_size": 4, "device": "cpu"})
    s1 = one.score(PROMPTS, RESPONSES)
    s4 = four.score(PROMPTS, RESPONSES)
    np.testing.assert_allclose(s1, s4, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(four.score(PROMPTS, RESPONSES), s4)


def test_empty_response_is_scored_and_counted(make_oasst_checkpoint):
    folder, _, _ = make_oasst_checkpoint()
    judge = build_judge({"name": "oasst", "model": str(folder), "device": "cpu"})
    scores = judge.score(PROMPTS, RESPONSES)
    assert len(scores) == len(RESPONSES) and np.isfinite(scores).all()
    assert judge.last_stats == {"n": 6, "n_empty": 1, "n_truncated": 0}


def test_missing_score_head_fails_naming_the_keys(make_oasst_checkpoint):
    folder, _, _ = make_oasst_checkpoint(drop=("out_proj.",))
    with pytest.raises(JudgeLoadError, match=r"out_proj\.bias, out_proj\.weight"):
        build_judge({"name": "oasst", "model": str(folder), "device": "cpu"})


def test_unknown_checkpoint_weight_fails(make_oasst_checkpoint):
    folder, _, _ = make_oasst_checkpoint(extra={"score.weight": torch.zeros(1, 32)})
    with pytest.raises(JudgeLoadError, match=r"score\.weight"):
        build_judge({"name": "oasst", "model": str(folder), "device": "cpu"})


def test_legacy_buffers_of_old_checkpoints_are_ignored(make_oasst_checkpoint):
    legacy = {
        "gpt_neox.layers.0.attention.bias": torch.tril(torch.ones(1, 1, 128, 128, dtype=torch.bool)),
        "gpt_neox.layers.0.attention.masked_bias": torch.tensor(-1e9),
        "gpt_neox.layers.0.attention.rotary_emb.inv_freq": torch.ones(2),
    }
    folder, _, _ = make_oasst_checkpoint(extra=legacy)
    judge = build_judge({"name": "oasst", "model": str(folder), "device": "cpu"})
    assert np.isfinite(judge.score(PROMPTS[:1], RESPONSES[:1])).all()


def test_gpt_neox_model_type_is_refused(make_oasst_checkpoint):
    folder, _, _ = make_oasst_checkpoint(model_type="gpt_neox")
    with pytest.raises(JudgeLoadError, match="model_type 'gpt_neox'.*random score head"):
        build_judge({"name": "oasst", "model": str(folder), "device": "cpu"})


def test_tokenizer_without_open_assistant_tokens_is_refused(make_oasst_checkpoint, tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    folder, _, _ = make_oasst_checkpoint()
    plain = Tokenizer(models.WordLevel({"<unk>": 0, "<|endoftext|>": 1}, unk_token="<unk>"))
    plain.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=plain, unk_token="<unk>").save_pretrained(tmp_path / "t")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        (folder / f).write_bytes((tmp_path / "t" / f).read_bytes())
    with pytest.raises(JudgeLoadError, match=r"<\|prompter\|>"):
        build_judge({"name": "oasst", "model": str(folder), "device": "cpu"})


def test_truncation_keeps_the_reply_and_the_first_marker(make_oasst_checkpoint):
    folder, body, head = make_oasst_checkpoint()
    judge = build_judge(
        {"name": "oasst", "model": str(folder), "max_length": 8, "device": "cpu"}
    )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = tokenizer(oasst_text(PROMPTS[1], RESPONSES[1]), add_special_tokens=False)["input_ids"]
    assert len(ids) > 8
    kept = [ids[0]] + ids[-7:]  # <|prompter|> then the last 7 tokens (reply + <|endoftext|>)
    with torch.no_grad():
        expected = head(body(torch.tensor([kept])).last_hidden_state[0, -1]).item()
    score = judge.score(PROMPTS[1:2], RESPONSES[1:2])
    assert score[0] == pytest.approx(expected, abs=1e-5)
    assert judge.last_stats["n_truncated"] == 1


def test_default_max_length_is_the_models_context(make_oasst_checkpoint):
    folder, _, _ = make_oasst_checkpoint()
    judge = build_judge({"name": "oasst", "model": str(folder), "device": "cpu"})
    assert judge.max_length == 128  # max_position_embeddings of the fixture


def test_scoring_is_batched_under_inference_mode(make_oasst_checkpoint):
    folder, _, _ = make_oasst_checkpoint()
    judge = build_judge({"name": "oasst", "model": str(folder), "batch_size": 4, "device": "cpu"})
    seen = []
    judge.model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(
            (kwargs["input_ids"].shape[0], torch.is_inference_mode_enabled())
        ),
        with_kwargs=True,
    )
    judge.score(PROMPTS, RESPONSES)
    assert seen == [(4, True), (2, True)]


def test_fixture_tokenizer_loads_alike_under_the_upstream_class(tmp_path, neox_tokenizer_dir):
    """The fixture tokenizer loads the same under GPTNeoXTokenizer (upstream's class) and the
    generic fast class, so the tests above exercise the real loading path."""
    generic = build_tokenizer(tmp_path / "generic", tokenizer_class="PreTrainedTokenizerFast")
    text = oasst_text(PROMPTS[2], RESPONSES[2])
    a = AutoTokenizer.from_pretrained(neox_tokenizer_dir)
    b = AutoTokenizer.from_pretrained(generic)
    assert type(a).__name__ == "GPTNeoXTokenizer"
    assert a(text, add_special_tokens=False)["input_ids"] == b(text, add_special_tokens=False)["input_ids"]
    assert a.convert_tokens_to_ids("<|prompter|>") == 2


def test_bfloat16_scores_come_back_as_float64(make_oasst_checkpoint):
    folder, _, _ = make_oasst_checkpoint()
    judge = build_judge({"name": "oasst", "model": str(folder), "dtype": "bfloat16", "device": "cpu"})
    assert judge.model.dtype == torch.bfloat16
    scores = judge.score(PROMPTS, RESPONSES)
    assert scores.dtype == np.float64 and np.isfinite(scores).all()


def test_hub_id_in_the_offline_cache_loads(make_oasst_checkpoint, tmp_path):
    """A real study names the judge by Hub id; offline, a cached snapshot must be used."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    folder, _, _ = make_oasst_checkpoint()
    repo = tmp_path / "hf_home" / "hub" / "models--OpenAssistant--tiny-rm"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(folder, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    code = (
        "import json; from harness.judges import build_judge; "
        "j = build_judge({'name': 'oasst', 'model': 'OpenAssistant/tiny-rm', 'device': 'cpu'}); "
        f"print(json.dumps(j.score({PROMPTS[:2]!r}, {RESPONSES[:2]!r}).tolist()))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home")}
    env.pop("HF_HUB_CACHE", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    cached = json.loads(out.stdout.strip().splitlines()[-1])
    local = build_judge({"name": "oasst", "model": str(folder), "device": "cpu"})
    np.testing.assert_allclose(cached, local.score(PROMPTS[:2], RESPONSES[:2]), rtol=0, atol=1e-6)
