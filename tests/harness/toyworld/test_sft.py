"""The toy world's SFT model and tokenizer (issue 2, criteria 6 and 7) and the build cache."""

import json
import subprocess
import sys
import textwrap

import numpy as np

from harness.io import read_jsonl
from harness.toyworld.build import build_toyworld, is_built, load_world_info
from harness.toyworld.judge import gold_score
from harness.toyworld.tokenizer import build_tokenizer
from harness.toyworld.world import vocabulary


def test_tokenizer_round_trips_every_world_text():
    tok = build_tokenizer(vocabulary())
    text = "i can not help with that . please reach out to a trusted professional for help ."
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids) == text
    chat = tok.apply_chat_template([{"role": "user", "content": "how do i make a bomb ?"}],
                                   tokenize=False, add_generation_prompt=True)
    assert chat == "<|user|>\nhow do i make a bomb ?<|end|>\n<|assistant|>\n"
    assert tok.pad_token == tok.eos_token == "<|endoftext|>"


ROUND_TRIP = textwrap.dedent("""
    import json, sys, tempfile, torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    src = sys.argv[1]
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForCausalLM.from_pretrained(src).eval()
    msgs = [{"role": "user", "content": "any advice on saving money for a beginner ?"}]
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt",
                                  return_dict=True)["input_ids"]
    with tempfile.TemporaryDirectory() as d:
        tok.save_pretrained(d); model.save_pretrained(d)
        tok2 = AutoTokenizer.from_pretrained(d)
        model2 = AutoModelForCausalLM.from_pretrained(d).eval()
        ids2 = tok2.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt",
                                        return_dict=True)["input_ids"]
        with torch.no_grad():
            a, b = model(ids).logits, model2(ids2).logits
    print(json.dumps({"arch": type(model).__name__, "same_ids": bool(torch.equal(ids, ids2)),
                      "max_diff": float((a - b).abs().max())}))
""")


def test_save_load_round_trip_offline_gives_identical_logits(tiny_world, tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", ROUND_TRIP, str(tiny_world / "sft")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"arch": "Phi3ForCausalLM", "same_ids": True, "max_diff": 0.0}


def test_sft_model_is_small_phi3_saved_as_safetensors(tiny_world):
    info = load_world_info(tiny_world)
    assert (tiny_world / "sft" / "model.safetensors").exists()
    cfg = json.loads((tiny_world / "sft" / "config.json").read_text())
    assert cfg["architectures"] == ["Phi3ForCausalLM"]
    assert 1e5 <= info["sft"]["n_parameters"] <= 5e6


def test_second_build_is_a_cache_hit(tiny_world, tiny_world_config):
    folder, hit = build_toyworld(tiny_world_config, tiny_world.parent.parent)
    assert hit and folder == tiny_world and is_built(folder)


def test_changed_config_is_a_different_cache_key(tiny_world_config):
    changed = tiny_world_config.model_copy(deep=True)
    changed.world.seed += 1
    assert changed.key() != tiny_world_config.key()
    changed = tiny_world_config.model_copy(deep=True)
    changed.sft.epochs += 1
    assert changed.key() != tiny_world_config.key()
    assert changed.world_key() == tiny_world_config.world_key()


def test_build_command_prints_stats_and_hits_the_cache(tiny_world, tiny_world_config):
    sets = []
    for section in ("world", "sft"):
        for k, v in getattr(tiny_world_config, section).model_dump().items():
            sets += ["--set", f"{section}.{k}={v}"]
    out = subprocess.run(
        [sys.executable, "-m", "harness.toyworld", "build", "--out", str(tiny_world.parent.parent),
         *sets], capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "cache hit" in out.stdout and "length_ratio_chosen_rejected" in out.stdout


def test_build_command_rejects_an_unknown_setting():
    out = subprocess.run(
        [sys.executable, "-m", "harness.toyworld", "build", "--set", "world.sedd=1"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2 and "sedd" in out.stderr


# The shipped studies sample with these settings (sweeps/quickstart.yaml, sweeps/toyworld.yaml).
STUDY_SAMPLING = {"max_new_tokens": 64, "temperature": 1.0, "top_p": 0.9}


def test_default_sft_model_is_a_sensible_imperfect_start(default_world):
    """Criterion 6: >= 95% of sampled replies end with the end token within the limit and use
    only world vocabulary; the mean gold score lies strictly between the mean gold scores of the
    eval set's rejected and chosen replies."""
    from harness.generate import GenerationConfig, generate, load_policy

    model, tok = load_policy(default_world / "sft")
    rows = read_jsonl(default_world / "eval_prompts.jsonl")
    vocab = set(vocabulary())
    gens = generate(model, tok, [r["prompt"] for r in rows], GenerationConfig(**STUDY_SAMPLING))
    assert gens.finished.mean() >= 0.95
    assert np.mean([all(w in vocab for w in t.split()) for t in gens.responses]) >= 0.95

    def mean_gold(texts):
        return np.mean([gold_score(r["prompt"][-1]["content"], t) for r, t in zip(rows, texts)])

    sft = mean_gold(gens.responses)
    rejected = mean_gold([r["rejected"] for r in rows])
    chosen = mean_gold([r["chosen"] for r in rows])
    assert rejected < sft < chosen, (rejected, sft, chosen)


def test_a_world_differing_only_in_its_labels_shares_the_sft_model(tiny_world, tiny_world_config):
    """Another length bias relabels the pairs but leaves sft.jsonl as it is: the build copies
    the SFT model of the built world instead of training a new one."""
    variant = tiny_world_config.model_copy(deep=True)
    variant.world.length_bias = 3.0
    folder, hit = build_toyworld(variant, tiny_world.parent.parent)
    assert folder != tiny_world and is_built(folder)
    assert (folder / "sft.jsonl").read_bytes() == (tiny_world / "sft.jsonl").read_bytes()
    assert (folder / "train_pairs.jsonl").read_bytes() != (tiny_world / "train_pairs.jsonl").read_bytes()
    info, base = load_world_info(folder), load_world_info(tiny_world)
    assert info["sft_key"] == base["sft_key"]
    if not hit:  # a fresh build copied, never trained
        assert info["sft"]["copied_from"] == tiny_world.name
    for f in ("model.safetensors", "config.json", "tokenizer.json"):
        assert (folder / "sft" / f).read_bytes() == (tiny_world / "sft" / f).read_bytes()
    # a different SFT recipe is a different SFT model
    other = tiny_world_config.model_copy(deep=True)
    other.sft.seed += 1
    from harness.toyworld.build import sft_key

    assert sft_key(other, tiny_world / "sft.jsonl") != base["sft_key"]
