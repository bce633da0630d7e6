"""Sampling responses to the eval prompts, with the policy's log-prob of every sampled token.

Backends are registered by name (``generation.backend`` in the study YAML): ``hf`` (default:
``model.generate`` with left padding and a KV cache) and ``vllm`` (a GPU with vLLM installed).
Both return the same :class:`Generations`.

Conventions (docs/evaluation.md):

* Prompts are formatted with the policy tokenizer's chat template
  (``add_generation_prompt=True``); a response never contains the prompt.
* Generation stops by the policy's :class:`harness.stop.StopRule` (its generation_config's EOS
  ids, its tokenizer's EOS, the end-of-turn token of its chat template, or the
  ``generation.stop_token_ids``/``stop_strings`` overrides) or after ``max_new_tokens``.
* ``response_ids`` are the tokens the policy chose, *including* the stop token (or the token that
  completed a stop string) when it chose one (the model decided to stop; that decision is part
  of the sequence's probability). So ``length = len(response_ids) >= 1`` and an empty reply (the
  stop token alone) has length 1.
* ``response`` is the decoded text *without* the stop token, the stop string and other special
  tokens (:meth:`harness.stop.StopRule.reply_text`): what the judges score.
* ``logps[i][t] = log pi(response_ids[i][t] | prompt, response_ids[i][:t])`` under the model's
  own distribution at temperature 1: ``log_softmax`` of the raw logits, before temperature and
  top-p (HF: ``output_logits``; vLLM: ``logprobs_mode="raw_logprobs"``). These are the
  ``log pi_theta`` terms of the KL estimator; no second generation is run.

Shapes: a backend gets N prompts and returns N entries in the input order; :func:`generate`
repeats each prompt ``generation.samples_per_prompt`` times first.

Importing this module loads neither torch nor transformers (they are imported where used), so
the study config can check ``generation.backend`` against :data:`BACKENDS` cheaply.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from harness.config.sections import GenerationConfig  # noqa: F401  (re-exported)
from harness.hub import HubRef
from harness.registry import Registry
from harness.stop import StopRule, stop_rule

if TYPE_CHECKING:
    import torch



def _no_grad(fn):
    """``torch.no_grad()`` entered at call time, so defining the function needs no torch."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import torch

        with torch.no_grad():
            return fn(*args, **kwargs)

    return wrapper


@dataclass
class Generations:
    """One sampled response per prompt given to the backend (input order). See the module
    docstring."""

    prompt_ids: list[list[int]]
    response_ids: list[list[int]]
    responses: list[str]
    logps: list[np.ndarray]  # float64, len(logps[i]) == len(response_ids[i])
    finished: np.ndarray  # bool (N,): ended on a stop token (False: cut at max_new_tokens)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(r) for r in self.response_ids], dtype=np.int64)

    @property
    def logp_sums(self) -> np.ndarray:
        return np.array([float(lp.sum()) for lp in self.logps], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.responses)


# ----------------------------------------------------------------------------- prompts, loading


def chat_messages(i: int, prompt: Any) -> list[dict]:
    """Prompt ``i`` as a list of ``{"role", "content"}`` dicts (a parquet round trip gives a numpy
    array of dicts; a bare string is one user turn)."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, (list, tuple, np.ndarray)) and len(prompt) > 0:
        if all(isinstance(m, Mapping) and "role" in m and "content" in m for m in prompt):
            return [{"role": m["role"], "content": m["content"]} for m in prompt]
    raise ValueError(
        f"prompt {i} is not a non-empty list of {{'role', 'content'}} messages: {prompt!r}"
    )


def format_prompts(tokenizer, prompts: Sequence[Any]) -> list[list[int]]:
    """Token ids of each chat prompt with the generation prompt appended (chat template)."""
    out = []
    for i, p in enumerate(prompts):
        enc = tokenizer.apply_chat_template(
            chat_messages(i, p),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
        )
        out.append(list(enc["input_ids"]))
    return out


def _looks_like_path(name: str) -> bool:
    """A Hub id is ``owner/name`` (or a bare name); anything else that names no folder is a path."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name


def load_policy(name_or_path: str | Path, device: str | torch.device | None = None,
                dtype: str = "auto", trust_remote_code: bool = False):
    """``(model, tokenizer)`` from a folder or a Hub id, with the harness's loading rules
    (:func:`harness.models.load_causal_lm`: ``auto`` = bf16 on GPU, fp32 on CPU; offline-aware:
    an uncached Hub id under ``HF_HUB_OFFLINE=1`` raises naming what to download)."""
    from harness.models import load_causal_lm, load_tokenizer

    ref = HubRef(str(name_or_path))
    if not ref.is_local and _looks_like_path(ref.name):
        raise FileNotFoundError(f"model folder {name_or_path} does not exist")
    model = load_causal_lm(ref.name, dtype=dtype, device=str(device) if device else None,
                           trust_remote_code=trust_remote_code)
    return model, load_tokenizer(ref.name, trust_remote_code=trust_remote_code)


# ----------------------------------------------------------------------------- batching helpers


def batch_seed(seed: int, batch_index: int) -> int:
    """The torch seed of one generation batch: fixed by (seed, batch index), so a run is
    reproducible for a given seed and batch size whatever ran before it."""
    return int(np.random.SeedSequence([seed, batch_index]).generate_state(1)[0])


def pad_token_id(tokenizer) -> int:
    pid = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if pid is None:
        raise ValueError("tokenizer has neither a pad token nor an EOS token")
    return int(pid)


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention_mask), both (B, max_len) long, sequences aligned to the right edge."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if len(s):
            ids[i, width - len(s):] = torch.tensor(list(s), dtype=torch.long)
            mask[i, width - len(s):] = 1
    return ids, mask


def position_ids(mask: torch.Tensor) -> torch.Tensor:
    """Positions counted over real tokens only (pads get 0), as ``generate`` builds them."""
    return (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)


def teacher_forced_batches(
    prompt_ids: Sequence[Sequence[int]],
    response_ids: Sequence[Sequence[int]],
    batch_size: int,
    pad_id: int,
):
    """Batches of ``prompt + response`` in the layout of ``generate``: prompts left-padded to a
    common edge, responses right-padded after it. Yields ``(start, ids, mask, r_ids, r_mask)``
    (CPU long tensors; ``ids``/``mask`` (B, P + W), ``r_ids``/``r_mask`` (B, W), W >= 1 the
    longest response of the batch)."""
    import torch

    for start in range(0, len(prompt_ids), batch_size):
        prompts = prompt_ids[start : start + batch_size]
        responses = response_ids[start : start + batch_size]
        p_ids, p_mask = left_pad(prompts, pad_id)
        width = max(1, max(len(r) for r in responses))
        r_ids = torch.full((len(responses), width), pad_id, dtype=torch.long)
        r_mask = torch.zeros((len(responses), width), dtype=torch.long)
        for i, r in enumerate(responses):
            if len(r):
                r_ids[i, : len(r)] = torch.tensor(list(r), dtype=torch.long)
                r_mask[i, : len(r)] = 1
        yield (start, torch.cat([p_ids, r_ids], dim=1), torch.cat([p_mask, r_mask], dim=1),
               r_ids, r_mask)


def response_logits(model, ids: torch.Tensor, mask: torch.Tensor, width: int) -> torch.Tensor:
    """(B, W, V) logits that predict the W response tokens of a :func:`teacher_forced_batches`
    batch, in the model's dtype, on its device (position ids counted over real tokens; only the
    response positions' logits are computed, ``logits_to_keep``)."""
    device = next(model.parameters()).device
    ids, mask = ids.to(device), mask.to(device)
    # logits at position j predict token j+1: the response tokens are predicted by the last
    # `width` positions before the final one.
    return model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=position_ids(mask),
        logits_to_keep=width + 1,
        use_cache=False,
    ).logits[:, :-1]


@_no_grad
def token_logps(
    model,
    prompt_ids: Sequence[Sequence[int]],
    response_ids: Sequence[Sequence[int]],
    batch_size: int,
    pad_id: int,
) -> list[np.ndarray]:
    """``log pi(y_t | x, y_<t)`` of every response token under ``model`` at temperature 1.

    One teacher-forced forward pass per batch over exactly ``prompt + response``
    (:func:`teacher_forced_batches`, :func:`response_logits`). Returns float64 arrays,
    ``len(out[i]) == len(response_ids[i])``.
    """
    import torch

    model.eval()
    out: list[np.ndarray] = []
    for start, ids, mask, r_ids, _ in teacher_forced_batches(prompt_ids, response_ids,
                                                             batch_size, pad_id):
        logits = response_logits(model, ids, mask, r_ids.shape[1]).float()
        lp = torch.log_softmax(logits, dim=-1).gather(-1, r_ids.to(logits.device)[..., None])
        lp = lp[..., 0].double().cpu().numpy()
        responses = response_ids[start : start + batch_size]
        out.extend(lp[i, : len(r)].copy() for i, r in enumerate(responses))
    return out


# ----------------------------------------------------------------------------- backends


class Backend(Protocol):
    name: str

    def generate(
        self, model, tokenizer, prompts: Sequence[Any], cfg: GenerationConfig
    ) -> Generations:
        ...


class HFBackend:
    """``model.generate``: batched, left-padded, KV cache, seeded per batch."""

    name = "hf"

    def generation_config(self, tokenizer, cfg: GenerationConfig, rule: StopRule):
        from transformers import GenerationConfig as HFGenerationConfig

        sample = cfg.temperature > 0
        # Every sampling knob is set explicitly so that a checkpoint's generation_config.json
        # (top_k=50 by default, repetition penalties...) cannot change what is sampled.
        return HFGenerationConfig(
            max_new_tokens=cfg.max_new_tokens,
            do_sample=sample,
            temperature=cfg.temperature if sample else 1.0,
            top_p=cfg.top_p if sample else 1.0,
            top_k=0,
            min_p=0.0 if sample else None,
            typical_p=1.0,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            num_beams=1,
            eos_token_id=list(rule.token_ids) or None,
            stop_strings=list(rule.strings) or None,
            pad_token_id=pad_token_id(tokenizer),
            output_logits=True,
            return_dict_in_generate=True,
            use_cache=True,
        )

    @_no_grad
    def generate(self, model, tokenizer, prompts, cfg: GenerationConfig) -> Generations:
        import torch

        if isinstance(model, (str, Path)):
            model, tokenizer = load_policy(model)
        cfg = GenerationConfig.from_any(cfg)
        rule = stop_rule(tokenizer, model, cfg)
        gen_cfg = self.generation_config(tokenizer, cfg, rule)
        # stop strings are matched on decoded text: generate needs the tokenizer for them
        text_stops = {"tokenizer": tokenizer} if rule.strings else {}
        pad = pad_token_id(tokenizer)
        model.eval()  # no dropout while sampling (a policy may come straight from training)
        device = next(model.parameters()).device
        all_prompt_ids = format_prompts(tokenizer, prompts)
        result = Generations([], [], [], [], np.zeros(len(all_prompt_ids), dtype=bool))
        for b, start in enumerate(range(0, len(all_prompt_ids), cfg.batch_size)):
            batch = all_prompt_ids[start : start + cfg.batch_size]
            ids, mask = left_pad(batch, pad)
            devices = [device] if device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(batch_seed(cfg.seed, b))
                out = model.generate(
                    input_ids=ids.to(device), attention_mask=mask.to(device),
                    generation_config=gen_cfg, **text_stops,
                )
            gen = out.sequences[:, ids.shape[1] :]
            # log-prob of each chosen token under the raw (temperature-1) distribution
            lp = torch.stack(
                [
                    torch.log_softmax(step.float(), dim=-1).gather(-1, gen[:, t, None])[:, 0]
                    for t, step in enumerate(out.logits)
                ],
                dim=1,
            ).double().cpu().numpy()
            gen = gen.cpu().tolist()
            for i, row in enumerate(gen):
                response, stopped = rule.split(tokenizer, row)
                result.prompt_ids.append(batch[i])
                result.response_ids.append(response)
                result.responses.append(rule.reply_text(tokenizer, response))
                result.logps.append(lp[i, : len(response)].copy())
                result.finished[start + i] = stopped
            del out
        return result


@dataclass
class VLLMPolicy:
    """What vLLM loads: a model folder, and for a LoRA policy the adapter folder and rank."""

    path: str
    lora_path: str | None = None
    lora_rank: int | None = None


# vLLM's accepted ``max_lora_rank`` values (vllm.config.lora.MaxLoRARanks, vLLM 0.33).
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


@contextlib.contextmanager
def _policy_folder(model, tokenizer):
    """What vLLM can load the policy from. An in-memory model (a policy just trained) is
    saved, with its tokenizer, to a temporary folder: its ``name_or_path`` still names the SFT
    model it started from, and loading that would silently evaluate the wrong weights. A LoRA
    policy (a ``peft`` model) saves only its adapter: vLLM loads the frozen base from its folder
    and applies the adapter per request (``LoRARequest``)."""
    from harness.lora import adapter_rank, base_model_path, is_peft_model

    if isinstance(model, (str, Path)):
        if not Path(model).is_dir():
            raise FileNotFoundError(f"vllm backend: model folder {model} does not exist")
        yield VLLMPolicy(str(model))
        return
    tmp = tempfile.mkdtemp(prefix="po-vllm-")
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if is_peft_model(model):
            yield VLLMPolicy(base_model_path(model), tmp, adapter_rank(model))
        else:
            yield VLLMPolicy(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class VLLMBackend:
    """vLLM on a GPU. It loads the policy from a folder; an in-memory policy is saved to a
    temporary folder first (:func:`_policy_folder`; a LoRA policy as base folder + adapter).

    Each prompt gets its own ``SamplingParams(seed=...)``, so its sample does not depend on the
    batch. ``logprobs=0`` returns the sampled token's log-prob; ``logprobs_mode="raw_logprobs"``
    makes it the model's temperature-1 distribution, matching the HF backend and the KL. The
    stop rule (:mod:`harness.stop`) is the HF backend's: its token ids as ``stop_token_ids``
    with ``ignore_eos=True`` (so vLLM adds no stop of its own), its strings as ``stop``; the
    reply is cut and decoded by the same rule. ``cfg.backend_options`` go to ``vllm.LLM`` (e.g.
    ``gpu_memory_utilization``, ``tensor_parallel_size``, ``dtype``).
    """

    name = "vllm"

    @staticmethod
    def check_available() -> Any:
        try:
            import vllm  # noqa: F401
        except ImportError as e:
            raise RuntimeError(
                "generation.backend is 'vllm' but vllm is not installed "
                "(pip install vllm on a CUDA machine), or use backend: hf"
            ) from e
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError(
                "generation.backend is 'vllm' but no CUDA GPU is visible; use backend: hf"
            )
        return vllm

    def generate(self, model, tokenizer, prompts, cfg: GenerationConfig) -> Generations:
        vllm = self.check_available()
        cfg = GenerationConfig.from_any(cfg)
        rule = stop_rule(tokenizer, model, cfg)  # from the model in memory, before it is saved
        with _policy_folder(model, tokenizer) as policy:
            return self._generate(vllm, policy, tokenizer, prompts, cfg, rule)

    def _generate(self, vllm, policy: VLLMPolicy, tokenizer, prompts, cfg: GenerationConfig,
                  rule: StopRule) -> Generations:
        import torch

        prompt_ids = format_prompts(tokenizer, prompts)
        params = [
            vllm.SamplingParams(
                n=1,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
                top_k=-1,
                max_tokens=cfg.max_new_tokens,
                stop_token_ids=list(rule.token_ids),
                stop=list(rule.strings) or None,
                ignore_eos=True,
                logprobs=0,
                seed=batch_seed(cfg.seed, i),
            )
            for i in range(len(prompt_ids))
        ]
        options = {"seed": cfg.seed, "logprobs_mode": "raw_logprobs", **cfg.backend_options}
        request = {}
        if policy.lora_path:
            from vllm.lora.request import LoRARequest

            rank = next((r for r in VLLM_LORA_RANKS if r >= policy.lora_rank), VLLM_LORA_RANKS[-1])
            options = {"enable_lora": True, "max_lora_rank": rank, "max_loras": 1, **options}
            request = {"lora_request": LoRARequest("policy", 1, policy.lora_path)}
        llm = vllm.LLM(model=policy.path, tokenizer=policy.path, **options)
        try:
            outputs = llm.generate([{"prompt_token_ids": p} for p in prompt_ids], params, **request)
        finally:
            del llm
            gc.collect()
            torch.cuda.empty_cache()
        result = Generations([], [], [], [], np.zeros(len(prompt_ids), dtype=bool))
        for i, (p, o) in enumerate(zip(prompt_ids, outputs)):
            c = o.outputs[0]
            ids, stopped = rule.split(tokenizer, c.token_ids)
            result.prompt_ids.append(p)
            result.response_ids.append(ids)
            result.responses.append(rule.reply_text(tokenizer, ids))
            # logprobs[t] maps token id -> Logprob; with logprobs=0 it holds the sampled token
            lp = [c.logprobs[t][tok].logprob for t, tok in enumerate(ids)]
            result.logps.append(np.array(lp, dtype=np.float64))
            result.finished[i] = stopped
        return result


BACKENDS: Registry[Backend] = Registry("generation backend")
"""Generation backends by name: the allowed values of ``generation.backend``."""
for _backend in (HFBackend(), VLLMBackend()):
    BACKENDS.register(_backend.name, _backend)


def get_backend(name: str) -> Backend:
    return BACKENDS.get(name)


def generate(model, tokenizer, prompts: Sequence[Any], cfg=None) -> Generations:
    """Sample ``cfg.samples_per_prompt`` (n) responses per prompt with the backend
    ``cfg.backend`` names: N prompts give N x n entries, prompt-major (prompt i's samples at
    ``i*n .. i*n + n-1``; the sample index is the position mod n).

    A backend samples one response per prompt it is given; the repetition is done here, so every
    registered backend honours ``samples_per_prompt`` alike and each sample has its own random
    draws (HF: separate rows of a seeded batch; vLLM: a seed per request). ``cfg.seed`` must be
    an integer: under ``per_replicate`` the caller picks the replicate's
    (:meth:`GenerationConfig.for_replicate`)."""
    cfg = GenerationConfig.from_any(cfg)
    if not isinstance(cfg.seed, int):
        raise ValueError(f"generation seed {cfg.seed!r}: resolve it for the trial first "
                         "(GenerationConfig.for_replicate)")
    n = cfg.samples_per_prompt
    expanded = [p for p in prompts for _ in range(n)]
    return get_backend(cfg.backend).generate(model, tokenizer, expanded, cfg)
